"""Caps on connections open at once: in total (503), per client address (429) and per user
(CONNECT_ERROR). Each counts open connections, so closing one frees its place."""

from __future__ import annotations

import time

import pytest
import requests
import socketio

from fake_openwebui import openwebui  # noqa: F401 (fixture)
from redis_process import redis_server  # noqa: F401 (fixture)
from stock import client, mint, stock  # noqa: F401 (fixtures)
from waiting import eventually
from wire import polling_url, websocket_url, ws_connect


def metric(srv, cap: str) -> float:
    for line in requests.get(f"{srv.url}/metrics", timeout=5).text.splitlines():
        if line.startswith(f'palisade_caps_refused_total{{cap="{cap}"}} '):
            return float(line.split()[1])
    raise AssertionError(f"no refusal count for {cap}")


def open_session(srv) -> requests.Response:
    return requests.get(polling_url(srv), timeout=5)


def close_session(srv, response: requests.Response) -> None:
    sid = response.text.split('"sid":"')[1].split('"')[0]
    requests.post(polling_url(srv, sid=sid), data="1", timeout=5)


@pytest.mark.parametrize("setting,status,cap", [
    ("PALISADE_LIMITS_MAX_CONNECTIONS_PER_IP", 429, "connections_per_ip"),
    ("PALISADE_LIMITS_MAX_CONNECTIONS", 503, "connections"),
])
def test_a_session_past_the_cap_is_refused_and_closing_one_frees_a_place(stock, setting, status, cap):
    srv = stock(**{setting: "3"})
    opened = [open_session(srv) for _ in range(3)]
    assert all(r.status_code == 200 for r in opened)
    refused = open_session(srv)
    assert refused.status_code == status and "too many connections" in refused.text, refused.text
    with pytest.raises(Exception):
        ws_connect(websocket_url(srv)).close()  # the WebSocket handshake is refused too
    assert metric(srv, cap) >= 2
    close_session(srv, opened[0])
    deadline = time.monotonic() + 5
    status = open_session(srv).status_code
    while status != 200 and time.monotonic() < deadline:  # the close reaches the session a little later
        time.sleep(0.1)
        status = open_session(srv).status_code
    assert status == 200, "closing a session did not free its place"


def test_a_user_past_the_cap_gets_connect_error_and_others_do_not(stock, client):
    srv = stock(PALISADE_LIMITS_MAX_CONNECTIONS_PER_USER="2")
    first = client(srv).connect(mint("u1"))
    client(srv).connect(mint("u1"))
    third = client(srv)
    with pytest.raises(socketio.exceptions.ConnectionError):
        third.connect(mint("u1"))
    (reason,) = third.next("connect_error")
    assert "too many connections for this user" in str(reason), reason
    assert client(srv).connect(mint("u2")).sio.connected, "another user is not counted"
    assert metric(srv, "connections_per_user") == 1
    first.sio.disconnect()
    # The server frees the place once it has seen the close: try until it has.
    assert eventually(lambda: client(srv).connect(mint("u1")).sio.connected), "a closed socket frees its place"


def test_handshakes_that_wait_for_their_policy_together_cannot_pass_the_cap(stock, redis_server):
    """With Redis, each handshake's rate-limit check waits for Redis, so many handshakes are
    between the cap's first check and their session at once: the place is taken in one step
    with the count, and no more than the cap open, however many arrive together."""
    from concurrent.futures import ThreadPoolExecutor

    srv = stock({"ratelimit": {"connects": {"limit": 1000, "ip_limit": 1000, "window_s": 60}}},
                PALISADE_LIMITS_MAX_CONNECTIONS_PER_IP="5", PALISADE_REDIS_URL=redis_server.url)
    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(lambda _: open_session(srv).status_code, range(80)))
    assert statuses.count(200) == 5, statuses
    assert set(statuses) == {200, 429}


def test_sockets_of_one_user_connecting_together_cannot_pass_the_user_cap(stock, redis_server):
    from concurrent.futures import ThreadPoolExecutor

    srv = stock(PALISADE_LIMITS_MAX_CONNECTIONS_PER_USER="3", PALISADE_REDIS_URL=redis_server.url)

    def connect(_):
        c = socketio.Client(reconnection=False)
        try:
            c.connect(srv.url, socketio_path="/ws/socket.io", transports=["websocket"], auth={"token": mint("u1")},
                      wait_timeout=5)
            return c
        except socketio.exceptions.ConnectionError:
            return None

    with ThreadPoolExecutor(max_workers=20) as pool:
        clients = list(pool.map(connect, range(20)))
    connected = [c for c in clients if c is not None]
    try:
        assert len(connected) == 3
    finally:
        for c in connected:
            c.disconnect()


def test_rooms_per_socket_are_capped(stock, client, openwebui):
    """A socket is in at most `limits.max_rooms_per_socket` rooms besides its own: `user-join`
    with more channels than that joins what fits, the rest are refused and counted."""
    openwebui.add_user("ann", name="Ann")
    for index in range(6):
        openwebui.channels[f"c{index}"] = {"ann"}
    srv = stock(PALISADE_OPENWEBUI_URL=openwebui.url, PALISADE_LIMITS_MAX_ROOMS_PER_SOCKET="4")
    ann = client(srv).connect(mint("ann"))
    assert ann.user_join(mint("ann"))["id"] == "ann"
    (session,) = srv.admin("GET", "sessions?user_id=ann").json()
    assert len([room for room in session["rooms"] if room != ann.sid]) == 4, session["rooms"]
    assert metric(srv, "rooms_per_socket") >= 3
