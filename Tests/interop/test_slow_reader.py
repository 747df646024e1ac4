"""`--max-outbound-bytes`: a client that does not read is closed; others carry on.

The server must not buffer without bound for a peer that stops reading: once a
session has more than the limit queued, that session is closed.
"""

import json
import socket
import struct
import time

import pytest
import requests
import websocket

from wire import (SIO_PATH, parse_open, polling_handshake, polling_url, split_payload,
                  websocket_url, ws_connect, ws_recv)

MAX_OUTBOUND = 262144
BIG = "x" * 60_000  # each message makes the server echo ~60 KB back
SEND_FOR_S = 10.0

TCP_ESTABLISHED = 1


def _tcp_state(sock: socket.socket) -> int:
    """Linux TCP state of a socket (first byte of TCP_INFO): tells a FIN or RST
    from the server without reading the data queued in front of it."""
    return struct.unpack("B", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1))[0]


@pytest.fixture
def srv(server_factory):
    return server_factory("--max-outbound-bytes", str(MAX_OUTBOUND))


def test_websocket_client_that_never_reads_is_closed(srv, sio_client):
    healthy = sio_client()
    healthy.connect(srv.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=5)

    slow = ws_connect(websocket_url(srv), sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    try:
        parse_open(ws_recv(slow))
        slow.send("40")
        assert ws_recv(slow).startswith("40{")
        assert ws_recv(slow) == '42["auth",{}]'
        slow.settimeout(2)
        message = json.dumps(["message", BIG])
        sent = 0
        closed_by = None
        started = time.monotonic()
        while time.monotonic() - started < SEND_FOR_S:
            if _tcp_state(slow.sock) != TCP_ESTABLISHED:
                closed_by = "server FIN/RST seen"
                break
            try:
                slow.send("42" + message)
                sent += 1
            except websocket.WebSocketTimeoutException:
                # the server stopped reading from us; it may still close us: watch the socket
                # without sending (a half-written frame must not be followed by another)
                while time.monotonic() - started < SEND_FOR_S:
                    if _tcp_state(slow.sock) != TCP_ESTABLISHED:
                        closed_by = "server FIN/RST seen after sends blocked"
                        break
                    time.sleep(0.05)
                break
            except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError) as e:
                closed_by = f"send failed: {e!r}"
                break
        elapsed = time.monotonic() - started
        assert closed_by, (f"slow reader still connected after {elapsed:.1f} s and {sent} messages "
                           f"of {len(message)} bytes (echoes not read)")
        # it was the outbound limit, not something else: more than the limit was asked for
        assert sent * len(message) > MAX_OUTBOUND, (sent, closed_by)
    finally:
        slow.close()

    assert healthy.connected
    assert healthy.call("message-with-ack", "unaffected", timeout=5) == "unaffected"


def test_polling_session_that_never_polls_is_closed_when_its_queue_overflows(srv, sio_client):
    handshake, _ = polling_handshake(srv)
    url = polling_url(srv, sid=handshake["sid"])

    def poll_until(packet_wanted):
        packets = []
        deadline = time.monotonic() + 5
        while not any(packet_wanted(p) for p in packets):
            assert time.monotonic() < deadline, packets
            packets += split_payload(requests.get(url, timeout=5).text)

    assert requests.post(url, data="40", timeout=5).text == "ok"
    poll_until(lambda p: p.startswith("40{"))
    assert requests.post(url, data='420["join","slow-room"]', timeout=5).text == "ok"
    poll_until(lambda p: p == "430[true]")
    # from here on the polling session never GETs

    sender = sio_client()
    sender.connect(srv.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=5)
    assert sender.call("member-count", "slow-room", timeout=5) == 1
    for _ in range(2 * MAX_OUTBOUND // len(BIG)):
        assert sender.call("broadcast", ("slow-room", "big", BIG), timeout=5) is True

    # the overflowing session leaves the room when it is closed
    deadline = time.monotonic() + 5
    while sender.call("member-count", "slow-room", timeout=5) != 0:
        assert time.monotonic() < deadline, "the non-polling session is still in its room"
        time.sleep(0.05)
    r = requests.get(url, timeout=5)
    assert r.status_code == 400, f"{r.status_code} {r.text[:200]!r}"
    assert r.json()["code"] == 1  # Session ID unknown

    assert sender.call("message-with-ack", "unaffected", timeout=5) == "unaffected"
