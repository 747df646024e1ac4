"""Bans (issue 20, item 3): an address, a network or a user banned through the admin API for a
while; refused at the handshake (403) or at CONNECT ("banned"), the live sessions closed at once,
listed, lifted, expiring by themselves, and shared by every instance on one Redis. Clients come
from forwarded addresses behind a trusted proxy (loopback)."""

from __future__ import annotations

import pytest
import requests
import socketio

from redis_process import redis_server  # noqa: F401 (fixture)
from stock import client, mint, stock  # noqa: F401 (fixtures)
from waiting import eventually
from wire import SIO_PATH, polling_url

PROXY = {"PALISADE_SERVER_TRUSTED_PROXIES": "127.0.0.1/32"}


def handshake_from(srv, ip: str) -> requests.Response:
    return requests.get(polling_url(srv), headers={"X-Forwarded-For": ip}, timeout=5)


def connect_from(srv, ip: str, token: str | None = None) -> socketio.Client:
    c = socketio.Client(reconnection=False)
    c.connect(srv.url, socketio_path=SIO_PATH, transports=["websocket"], headers={"X-Forwarded-For": ip},
              auth={"token": token} if token else {}, wait_timeout=5)
    return c


def test_an_address_ban_refuses_closes_lists_and_expires(stock):
    srv = stock(**PROXY)
    live = connect_from(srv, "10.9.9.9", mint("u1"))
    bystander = connect_from(srv, "10.9.9.10", mint("u2"))
    r = srv.admin("POST", "bans", {"kind": "ip", "value": "10.9.9.9", "duration_s": 2, "reason": "scanning"})
    assert r.status_code == 201 and r.json()["disconnected"] == 1, r.text
    assert eventually(lambda: not live.connected), "the banned address's live session stayed"
    refused = handshake_from(srv, "10.9.9.9")
    assert refused.status_code == 403 and "banned" in refused.text
    assert handshake_from(srv, "10.9.9.10").status_code == 200 and bystander.connected
    (listed,) = srv.admin("GET", "bans").json()
    assert (listed["kind"], listed["value"], listed["reason"]) == ("ip", "10.9.9.9", "scanning")
    assert eventually(lambda: handshake_from(srv, "10.9.9.9").status_code == 200, timeout=5), "the ban never ended"
    assert srv.admin("GET", "bans").json() == []


def test_a_network_ban_and_lifting_it(stock):
    srv = stock(**PROXY)
    assert srv.admin("POST", "bans", {"kind": "cidr", "value": "10.8.0.0/16", "duration_s": 600}).status_code == 201
    assert handshake_from(srv, "10.8.1.2").status_code == 403
    assert handshake_from(srv, "10.7.1.2").status_code == 200
    assert srv.admin("DELETE", "bans/cidr/10.8.0.0%2F16").status_code == 200
    assert handshake_from(srv, "10.8.1.2").status_code == 200
    assert srv.admin("DELETE", "bans/cidr/10.8.0.0%2F16").status_code == 404


def test_a_user_ban_closes_refuses_connect_and_user_join(stock, client):
    srv = stock(**PROXY)
    live = client(srv).connect(mint("u1"))
    other = client(srv).connect(mint("u2"))
    assert srv.admin("POST", "bans", {"kind": "user", "value": "u1", "duration_s": 600}).json()["disconnected"] == 1
    assert live.disconnected.wait(5)
    again = client(srv)
    with pytest.raises(socketio.exceptions.ConnectionError):
        again.connect(mint("u1"))
    assert again.next("connect_error") == ({"message": "banned"},)
    anonymous = client(srv).connect()
    anonymous.emit("user-join", {"auth": {"token": mint("u1")}})
    assert anonymous.disconnected.wait(5), "signing in as a banned user later"
    assert other.sio.connected and other.attempt("heartbeat", {}) == "ok"


@pytest.mark.parametrize("body", [
    {"kind": "host", "value": "10.0.0.1", "duration_s": 60},
    {"kind": "ip", "value": "10.0.0.0/8", "duration_s": 60},
    {"kind": "cidr", "value": "not a network", "duration_s": 60},
    {"kind": "user", "value": "", "duration_s": 60},
    {"kind": "ip", "value": "10.0.0.1", "duration_s": 0},
    {"kind": "ip", "value": "10.0.0.1"},
])
def test_bad_bans_are_refused(stock, body):
    srv = stock(**PROXY)
    assert srv.admin("POST", "bans", body).status_code == 400
    assert srv.admin("GET", "bans").json() == []


def test_the_ban_endpoints_need_the_token(stock):
    srv = stock(**PROXY)
    assert requests.post(f"{srv.url}/admin/v1/bans", json={"kind": "ip", "value": "10.0.0.1", "duration_s": 60},
                         timeout=5).status_code == 401
    assert requests.get(f"{srv.url}/admin/v1/bans", timeout=5).status_code == 401
    assert requests.get(f"{srv.url}/admin/v1/bans", headers={"Authorization": "Bearer wrong"}, timeout=5).status_code == 401


def test_a_ban_on_one_instance_holds_on_the_other(stock, redis_server):
    first = stock(PALISADE_REDIS_URL=redis_server.url, **PROXY)
    second = stock(PALISADE_REDIS_URL=redis_server.url, **PROXY)
    live = connect_from(second, "10.6.0.1", mint("u1"))
    assert first.admin("POST", "bans", {"kind": "ip", "value": "10.6.0.1", "duration_s": 600}).status_code == 201
    assert eventually(lambda: handshake_from(second, "10.6.0.1").status_code == 403, timeout=3)
    assert eventually(lambda: not live.connected, timeout=3), "the other instance kept the banned session"
    assert first.admin("DELETE", "bans/ip/10.6.0.1").status_code == 200
    assert eventually(lambda: handshake_from(second, "10.6.0.1").status_code == 200, timeout=3)


def test_transports_turned_off_and_on_while_running(stock, client):
    """`PUT /admin/v1/transports`: polling off refuses polling handshakes (and the requests of
    polling sessions), WebSocket clients go on; one transport always stays on."""
    srv = stock()
    ws = client(srv).connect(mint("u1"))
    assert srv.admin("GET", "transports").json() == {"polling": True, "websocket": True}
    assert srv.admin("PUT", "transports", {"polling": False, "websocket": True}).json() == {"polling": False, "websocket": True}
    assert requests.get(polling_url(srv), timeout=5).status_code == 400
    assert ws.attempt("heartbeat", {}) == "ok"
    assert srv.admin("PUT", "transports", {"polling": False, "websocket": False}).status_code == 400
    assert srv.admin("PUT", "transports", {"polling": "yes"}).status_code == 400
    assert srv.admin("PUT", "transports", {"polling": True, "websocket": True}).status_code == 200
    assert requests.get(polling_url(srv), timeout=5).status_code == 200
