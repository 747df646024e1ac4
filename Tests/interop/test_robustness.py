"""Bad input on one connection never disturbs the others."""

import socket
import time

import pytest

from wire import SIO_PATH, parse_open, websocket_url, wait_ws_closed, ws_connect, ws_recv


def _read_until_eof(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends until it closes; fails if it stays open."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        if time.monotonic() > deadline:
            raise AssertionError(f"server kept the connection open; got {data!r}")
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            raise AssertionError(f"server kept the connection open; got {data!r}") from None
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def test_garbage_tcp_connection_is_closed_and_others_keep_working(server, sio_client):
    sio = sio_client()
    sio.connect(server.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=5)
    assert sio.call("message-with-ack", "before", timeout=5) == "before"

    with socket.create_connection((server.host, server.port), timeout=5) as raw:
        raw.sendall(b"GARBAGE\r\n\r\n")
        reply = _read_until_eof(raw, timeout=5)
    # a 400 answer before closing is fine, a success is not
    assert not reply.startswith(b"HTTP/1.1 2"), reply

    assert sio.call("message-with-ack", "after", timeout=5) == "after"
    assert sio.connected


def test_binary_garbage_and_abrupt_disconnects_do_not_hurt(server, sio_client):
    sio = sio_client()
    sio.connect(server.url, socketio_path=SIO_PATH, transports=["polling"], wait_timeout=5)

    with socket.create_connection((server.host, server.port), timeout=5) as raw:
        raw.sendall(bytes(range(256)) * 8)
        _read_until_eof(raw, timeout=5)
    # half a request, then the client vanishes
    raw = socket.create_connection((server.host, server.port), timeout=5)
    raw.sendall(b"GET /ws/socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n")
    raw.close()
    # a WebSocket that disappears without a close frame
    raw = socket.create_connection((server.host, server.port), timeout=5)
    raw.sendall(b"GET /ws/socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
                b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    raw.recv(1024)
    raw.close()

    assert sio.call("message-with-ack", "still fine", timeout=5) == "still fine"


@pytest.mark.parametrize("bad", [
    "42{}",                      # EVENT payload must be an array
    "42[]",                      # ... and non-empty
    '42["disconnect"]',          # reserved event name
    "4abc",                      # unknown SIO packet type
    '42/nope,["message"]',       # namespace never joined
    '451-["message",{"_placeholder":true,"num":0}]x',  # bad JSON after placeholder array
])
def test_invalid_socketio_packet_closes_only_that_connection(server, sio_client, bad):
    sio = sio_client()
    sio.connect(server.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=5)

    ws = ws_connect(websocket_url(server))
    try:
        parse_open(ws_recv(ws))
        ws.send("40")
        assert ws_recv(ws).startswith("40{")
        assert ws_recv(ws) == '42["auth",{}]'
        ws.send(bad)
        frames = wait_ws_closed(ws, timeout=3)
        assert all(not (isinstance(f, str) and f.startswith("42")) for f in frames), frames
    finally:
        ws.close()

    assert sio.call("message-with-ack", bad, timeout=5) == bad


def test_websocket_message_over_max_payload_closes_that_connection(server_factory, sio_client):
    srv = server_factory("--max-payload", "1000")
    sio = sio_client()
    sio.connect(srv.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=5)

    ws = ws_connect(websocket_url(srv))
    try:
        parse_open(ws_recv(ws))
        ws.send("40")
        assert ws_recv(ws).startswith("40{")
        ws.send('42["message","' + "x" * 5000 + '"]')
        frames = wait_ws_closed(ws, timeout=3)
        assert not any(isinstance(f, str) and f.startswith('42["message-back"') for f in frames)
    finally:
        ws.close()
    assert sio.call("message-with-ack", "ok", timeout=5) == "ok"


def test_connection_with_no_namespace_is_closed_after_connect_timeout(server_factory):
    srv = server_factory("--connect-timeout", "500")
    ws = ws_connect(websocket_url(srv))
    try:
        parse_open(ws_recv(ws))
        started = time.monotonic()
        wait_ws_closed(ws, timeout=3)
        assert time.monotonic() - started >= 0.35
    finally:
        ws.close()


def test_server_survives_and_stops_cleanly_on_sigterm(server_factory, sio_client):
    srv = server_factory()
    sio = sio_client()
    sio.connect(srv.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=5)
    assert srv.stop() == 0
