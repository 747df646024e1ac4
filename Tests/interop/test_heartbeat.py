"""Heartbeat: the server pings, and closes sessions whose client stays silent."""

import threading
import time

import pytest
import requests

from wire import SIO_PATH, parse_open, polling_handshake, polling_url, websocket_url, wait_ws_closed, ws_connect, ws_recv

FAST = ("--ping-interval", "300", "--ping-timeout", "200")


def test_silent_websocket_client_is_closed_after_ping_timeout(server_factory):
    srv = server_factory(*FAST)
    ws = ws_connect(websocket_url(srv))
    try:
        opened_at = time.monotonic()
        handshake = parse_open(ws_recv(ws))
        assert handshake["pingInterval"] == 300
        assert handshake["pingTimeout"] == 200
        frames = wait_ws_closed(ws, timeout=2.0)
        elapsed = time.monotonic() - opened_at
        assert frames[:1] == ["2"], f"expected a ping before the close, got {frames!r}"
        # interval + timeout = 0.5 s; it must not close before the timeout ran out
        assert elapsed >= 0.4, f"closed after {elapsed:.3f} s, before the ping timeout"
    finally:
        ws.close()


def test_silent_polling_session_is_unknown_after_ping_timeout(server_factory):
    srv = server_factory(*FAST)
    handshake, _ = polling_handshake(srv)
    time.sleep(0.6)  # pingInterval + pingTimeout + margin, without ever polling
    r = requests.get(polling_url(srv, sid=handshake["sid"]), timeout=5)
    assert r.status_code == 400, f"session still alive: {r.status_code} {r.text!r}"
    assert r.json() == {"code": 1, "message": "Session ID unknown"}


def test_a_poll_at_exactly_interval_plus_timeout_finds_the_session_closed(server_factory):
    # The official suite's "closes the session upon ping timeout": the pong deadline runs from
    # when the ping was due, not from the (up to a tick later) moment the timer wheel sent it.
    srv = server_factory(*FAST)
    for attempt in range(10):
        handshake, _ = polling_handshake(srv)
        time.sleep(0.5)  # exactly pingInterval + pingTimeout after the handshake
        r = requests.get(polling_url(srv, sid=handshake["sid"]), timeout=5)
        assert r.status_code == 400, f"attempt {attempt}: session still alive: {r.status_code} {r.text!r}"


def test_websocket_ping_comes_after_interval_and_pong_keeps_session(server_factory):
    srv = server_factory(*FAST)
    ws = ws_connect(websocket_url(srv))
    try:
        ws_recv(ws)  # open
        ws.send("40")
        assert ws_recv(ws).startswith("40{")
        assert ws_recv(ws) == '42["auth",{}]'
        for _ in range(4):  # 4 cycles ≈ 1.2 s, longer than interval + timeout
            assert ws_recv(ws, timeout=2) == "2"
            ws.send("3")
        ws.send('420["message-with-ack","alive"]')
        assert ws_recv(ws, timeout=2) == '430["alive"]'
    finally:
        ws.close()


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["websocket", "polling"])
def test_python_client_stays_connected_across_many_pings(server_factory, sio_client, transports):
    srv = server_factory(*FAST)
    sio = sio_client()
    disconnected = threading.Event()
    sio.on("disconnect", lambda *a: disconnected.set())
    sio.connect(srv.url, socketio_path=SIO_PATH, transports=transports, wait_timeout=5)
    # several ping cycles pass; the client answers each one
    assert not disconnected.wait(1.5), "client was disconnected although it answered pings"
    assert sio.connected
    assert sio.call("message-with-ack", "still here", timeout=5) == "still here"


def test_client_ping_is_an_error(server):
    """v4: only the server pings; a `2` from the client closes the session."""
    ws = ws_connect(websocket_url(server))
    try:
        ws_recv(ws)  # open
        ws.send("2")
        wait_ws_closed(ws, timeout=3)
    finally:
        ws.close()
