"""The client's address behind a proxy: `server.trusted_proxies` decides whose Forwarded /
X-Forwarded-For / X-Real-IP is read; from any other peer the headers are ignored, so a
client cannot choose the address its per-IP limits count against."""

from __future__ import annotations

import socketio

from stock import mint, stock  # noqa: F401 (fixtures)
from wire import SIO_PATH


def session_ip(srv, user_id: str) -> str:
    sessions = srv.admin("GET", f"sessions?user_id={user_id}").json()
    assert len(sessions) == 1, sessions
    return sessions[0]["ip"]


def connect(srv, user_id: str, headers: dict, transport: str) -> socketio.Client:
    client = socketio.Client()
    client.connect(srv.url, socketio_path=SIO_PATH, transports=[transport], headers=headers,
                   auth={"token": mint(user_id)}, wait_timeout=5)
    return client


def test_a_trusted_proxys_forwarded_for_names_the_client(stock):
    srv = stock(PALISADE_SERVER_TRUSTED_PROXIES="127.0.0.1")
    for transport, user in (("websocket", "ws-user"), ("polling", "poll-user")):
        client = connect(srv, user, {"X-Forwarded-For": "6.6.6.6, 198.51.100.7"}, transport)
        try:
            assert session_ip(srv, user) == "198.51.100.7"
        finally:
            client.disconnect()


def test_headers_from_a_peer_that_is_not_trusted_are_ignored(stock):
    srv = stock()  # no trusted proxies: the TCP peer is the client
    client = connect(srv, "spoofer", {"X-Forwarded-For": "198.51.100.7", "X-Real-IP": "198.51.100.8",
                                      "Forwarded": "for=198.51.100.9"}, "websocket")
    try:
        assert session_ip(srv, "spoofer") == "127.0.0.1"
    finally:
        client.disconnect()


def test_the_per_ip_connect_limit_counts_the_forwarded_client(stock):
    srv = stock({"ratelimit": {"connects": {"ip_limit": 2, "limit": 1000}}}, PALISADE_SERVER_TRUSTED_PROXIES="127.0.0.0/8")
    clients = [connect(srv, f"u{n}", {"X-Forwarded-For": "198.51.100.20"}, "websocket") for n in range(2)]
    try:
        try:
            connect(srv, "u3", {"X-Forwarded-For": "198.51.100.20"}, "websocket")
            raise AssertionError("a third connect from the same client address was allowed")
        except socketio.exceptions.ConnectionError:
            pass
        other = connect(srv, "u4", {"X-Forwarded-For": "198.51.100.21"}, "websocket")
        other.disconnect()
    finally:
        for client in clients:
            client.disconnect()
