"""Malformed input closes only the connection (or session) that sent it.

Each test checks a healthy python-socketio client and GET /healthz before and
after the bad input.
"""

import socket
import struct

import pytest
import requests
import websocket

from wire import (SIO_PATH, polling_handshake, polling_url, read_until_closed, ws_recv,
                  ws_socketio_connect)


@pytest.fixture
def healthy(sio_client):
    """``check(srv)``: a websocket client connected at the first call answers an ack, and /healthz is 200."""
    state = {}

    def check(srv, tag="check"):
        if "sio" not in state:
            state["sio"] = sio_client()
            state["sio"].connect(srv.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=5)
        sio = state["sio"]
        assert sio.connected, "the healthy client was disconnected"
        assert sio.call("message-with-ack", tag, timeout=5) == tag
        assert requests.get(f"{srv.url}/healthz", timeout=5).status_code == 200

    return check


def _send_and_read_until_closed(srv, data: bytes) -> bytes:
    with socket.create_connection((srv.host, srv.port), timeout=5) as raw:
        try:
            raw.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close before reading everything: that is a close too
        return read_until_closed(raw, timeout=5)


def _wait_close_code(ws: websocket.WebSocket, timeout: float = 5.0):
    """Read until the server closes; the close frame's status code, or None if the TCP
    connection ended without one (or with an empty close frame). Data frames are ignored."""
    ws.settimeout(timeout)
    while True:
        try:
            opcode, data = ws.recv_data(control_frame=True)
        except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
            return None
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None


@pytest.mark.parametrize("data", [
    pytest.param(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(200)), id="garbage-bytes"),
    pytest.param(b"G(T /healthz HTTP/1.1\r\nHost: x\r\n\r\n", id="invalid-method-token"),
    pytest.param(b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Name: 1\r\n\r\n", id="invalid-header-name"),
    pytest.param(b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", id="unknown-http-version"),
])
def test_malformed_request_closes_only_its_connection(server, healthy, data):
    healthy(server, "before")
    reply = _send_and_read_until_closed(server, data)
    # an error status before closing is fine; a success is not
    assert reply == b"" or reply.startswith((b"HTTP/1.1 4", b"HTTP/1.0 4", b"HTTP/1.1 5")), reply[:200]
    healthy(server, "after")


def test_header_block_over_16_kib_is_refused(server, healthy):
    healthy(server, "before")
    big = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (17 * 1024) + b"\r\n\r\n"
    reply = _send_and_read_until_closed(server, big)
    assert reply == b"" or reply.startswith((b"HTTP/1.1 431", b"HTTP/1.1 400")), reply[:200]
    healthy(server, "after")


def test_header_block_under_the_limit_is_served(server):
    with requests.Session() as s:
        r = s.get(f"{server.url}/healthz", headers={"X-Big": "a" * 8 * 1024}, timeout=5)
    assert r.status_code == 200


def test_invalid_engineio_polling_body_closes_the_session(server, healthy):
    healthy(server, "before")
    handshake, _ = polling_handshake(server)
    url = polling_url(server, sid=handshake["sid"])
    r = requests.post(url, data="abc", timeout=5)
    # engine.io answers "ok" then closes the session, python-engineio answers 400: both fine
    assert r.status_code in (200, 400), f"{r.status_code} {r.text!r}"
    g = requests.get(url, timeout=5)
    assert g.status_code == 400, f"{g.status_code} {g.text!r}"
    assert g.json()["code"] == 1  # Session ID unknown
    healthy(server, "after")


def _connected_raw_websocket(srv) -> websocket.WebSocket:
    return ws_socketio_connect(srv)


def _assert_closes_with(srv, healthy, send, codes):
    """On a connected raw WebSocket, `send(ws)` makes the server close it with one of `codes`;
    a healthy client is served before and after."""
    healthy(srv, "before")
    ws = _connected_raw_websocket(srv)
    try:
        send(ws)
        code = _wait_close_code(ws)
        assert code in codes, f"close code {code}, expected one of {codes}"
    finally:
        ws.close()
    healthy(srv, "after")


def test_websocket_text_frame_with_invalid_utf8_closes_that_socket(server, healthy):
    # "4" (an Engine.IO message) then bytes that are not UTF-8, sent as a *text* frame: 1007
    frame = websocket.ABNF.create_frame(b'42["message","\xff\xfe\xc3"]', websocket.ABNF.OPCODE_TEXT)
    _assert_closes_with(server, healthy, lambda ws: ws.send_frame(frame), (None, 1007))


def test_websocket_message_over_max_payload_is_closed_with_1009(server_factory, healthy):
    srv = server_factory("--max-payload", "1000")
    _assert_closes_with(srv, healthy, lambda ws: ws.send('42["message","' + "x" * 5000 + '"]'), (None, 1009))


def _send_fragments(ws: websocket.WebSocket, parts: list[bytes], opcode=websocket.ABNF.OPCODE_TEXT):
    """One message in `parts`: the first frame carries the opcode, the rest are continuations."""
    for index, part in enumerate(parts):
        frame_opcode = opcode if index == 0 else websocket.ABNF.OPCODE_CONT
        ws.send_frame(websocket.ABNF.create_frame(part, frame_opcode, fin=int(index == len(parts) - 1)))


def test_a_fragmented_message_is_joined_with_control_frames_between(server, healthy):
    healthy(server, "before")
    ws = _connected_raw_websocket(server)
    try:
        message = b'421["message-with-ack","fragm\xc3\xa9nted"]'
        # split inside the two-byte é too: UTF-8 is checked on the whole message, not per frame
        ws.send_frame(websocket.ABNF.create_frame(message[:10], websocket.ABNF.OPCODE_TEXT, fin=0))
        ws.send_frame(websocket.ABNF.create_frame(b"are you there", websocket.ABNF.OPCODE_PING))
        ws.send_frame(websocket.ABNF.create_frame(message[10:35], websocket.ABNF.OPCODE_CONT, fin=0))
        ws.send_frame(websocket.ABNF.create_frame(message[35:], websocket.ABNF.OPCODE_CONT, fin=1))
        ws.settimeout(5)
        opcode, data = ws.recv_data(control_frame=True)
        assert (opcode, data) == (websocket.ABNF.OPCODE_PONG, b"are you there")
        assert ws_recv(ws) == '431["fragménted"]'
    finally:
        ws.close()
    healthy(server, "after")


@pytest.mark.parametrize("frames", [
    pytest.param([(b'42["message","x"]', websocket.ABNF.OPCODE_CONT, 1)], id="continuation-without-a-start"),
    pytest.param([(b'42["mess', websocket.ABNF.OPCODE_TEXT, 0), (b'42["message","x"]', websocket.ABNF.OPCODE_TEXT, 1)],
                 id="new-message-inside-a-fragmented-one"),
])
def test_fragments_out_of_order_close_with_1002(server, healthy, frames):
    def send(ws):
        for data, opcode, fin in frames:
            ws.send_frame(websocket.ABNF.create_frame(data, opcode, fin=fin))
    _assert_closes_with(server, healthy, send, (1002,))


def test_fragments_over_max_payload_together_are_closed_with_1009(server_factory, healthy):
    srv = server_factory("--max-payload", "1000")
    # each fragment is within the limit; the message is not
    # None: the close frame lost to a reset while the client still sends (1 run in 30 or so); a
    # message the server took would leave the connection open, and the wait for the close fails.
    _assert_closes_with(srv, healthy, lambda ws: _send_fragments(ws, [b'42["message","'] + [b"x" * 400] * 3 + [b'"]']), (None, 1009))


@pytest.mark.parametrize("raw", [
    pytest.param(b"\x81\x013", id="unmasked-text-frame"),
    pytest.param(b"\xc1\x81\x00\x00\x00\x003", id="reserved-bit-set"),
    pytest.param(b"\x83\x81\x00\x00\x00\x003", id="reserved-opcode"),
    pytest.param(b"\x09\x81\x00\x00\x00\x003", id="fragmented-ping"),
])
def test_frames_rfc_6455_forbids_close_with_1002(server, healthy, raw):
    # Raw bytes (websocket-client never writes such frames), each carrying "3", an Engine.IO
    # pong that would be served without a word if the frame were accepted.
    _assert_closes_with(server, healthy, lambda ws: ws.sock.sendall(raw), (1002,))


def _close_frame(payload: bytes):
    return lambda ws: ws.send_frame(websocket.ABNF.create_frame(payload, websocket.ABNF.OPCODE_CLOSE))


@pytest.mark.parametrize("payload", [
    pytest.param(b"\x03\xe7", id="code-999"),
    pytest.param(b"\x03\xed", id="code-1005-reserved"),
    pytest.param(b"\x03\xee", id="code-1006-reserved"),
    pytest.param(b"\x13\x88", id="code-5000"),
    pytest.param(b"\x03", id="one-byte"),
])
def test_close_frames_with_a_code_a_peer_may_not_send_are_answered_1002(server, healthy, payload):
    _assert_closes_with(server, healthy, _close_frame(payload), (1002,))


def test_a_close_reason_that_is_not_utf8_is_answered_1007(server, healthy):
    _assert_closes_with(server, healthy, _close_frame(b"\x03\xe8\xff\xfe"), (1007,))


@pytest.mark.parametrize("payload", [
    pytest.param(b"", id="empty"),
    pytest.param(b"\x03\xe8bye", id="1000-with-reason"),
    pytest.param(b"\x0f\xa0", id="code-4000"),
])
def test_valid_close_frames_are_answered_1000(server, healthy, payload):
    _assert_closes_with(server, healthy, _close_frame(payload), (1000,))


def test_a_message_past_the_shared_inbound_budget_closes_that_connection_only(server_factory, healthy):
    """A 16 MiB `maxPayload` (Open WebUI's) lets one connection send a large message, but the
    messages being received by all connections together stay within the inbound budget: the
    connection whose message would pass it is closed with 1013 (try again later), others go on,
    and the budget is free again afterwards."""
    srv = server_factory("--max-payload", str(16 << 20), "--max-inbound-buffer", "300000")
    big = [b'421["message-with-ack","'] + [b"x" * 100_000] * 6 + [b'"]']
    # The close frame (1013) may be lost to a reset (the client is still sending when the server
    # closes), so what is checked is that the connection closes and the message never arrives:
    # without the budget it would be answered (431[…]).
    healthy(srv, "before")
    ws = _connected_raw_websocket(srv)
    try:
        try:
            _send_fragments(ws, big)
        except (BrokenPipeError, ConnectionResetError, websocket.WebSocketConnectionClosedException):
            pass
        ws.settimeout(5)
        received = []
        while True:
            try:
                opcode, data = ws.recv_data(control_frame=True)
            except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
                break
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                assert len(data) < 2 or struct.unpack("!H", data[:2])[0] == 1013, data
                break
            received.append(data)
        assert not any(d.startswith(b"431") for d in received), "the message over the budget was delivered"
    finally:
        ws.close()
    healthy(srv, "after")
    # Within the budget (300 kB + 64 KiB free), a 250 kB message in fragments passes, twice.
    for attempt in ("first", "second"):
        ws = _connected_raw_websocket(srv)
        try:
            payload = b"y" * 250_000
            _send_fragments(ws, [b'421["message-with-ack","'] + [payload[i:i + 50_000] for i in range(0, 250_000, 50_000)] + [b'"]'])
            ws.settimeout(5)
            assert ws_recv(ws) == '431["' + "y" * 250_000 + '"]', attempt
        finally:
            ws.close()


def test_polling_bodies_count_against_the_inbound_budget(server_factory, healthy):
    srv = server_factory("--max-payload", str(16 << 20), "--max-inbound-buffer", "100000")
    healthy(srv, "before")
    handshake, _ = polling_handshake(srv)
    body = b"4" + b"z" * 400_000
    r = requests.post(polling_url(srv, sid=handshake["sid"]), data=body, timeout=5)
    assert r.status_code == 503
    healthy(srv, "after")
