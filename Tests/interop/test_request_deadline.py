"""`--request-timeout`: a connection must send a complete HTTP request in time.

The deadline bounds how long the server waits for a request (slowloris); it does
not apply to an open WebSocket or to a long-poll GET the server is holding.
"""

import socket
import threading
import time

import pytest

from wire import SIO_PATH, HTTPResponseReader, read_until_closed

REQUEST_TIMEOUT_S = 1
# the server must close within the deadline plus this much slack
CLOSE_WITHIN_S = 3.0


@pytest.fixture
def srv(server_factory):
    return server_factory("--request-timeout", str(REQUEST_TIMEOUT_S))


def _assert_closed_by_deadline(srv, sent: bytes):
    started = time.monotonic()
    with socket.create_connection((srv.host, srv.port), timeout=5) as raw:
        if sent:
            raw.sendall(sent)
        reply = read_until_closed(raw, timeout=CLOSE_WITHIN_S)
    elapsed = time.monotonic() - started
    # closed because of the deadline, not at once
    assert elapsed >= REQUEST_TIMEOUT_S * 0.8, f"closed after {elapsed:.2f} s, before the deadline"
    # a 408 before closing is fine; an answer to a request never completed is not
    assert reply == b"" or reply.startswith(b"HTTP/1.1 4"), reply


def test_connection_that_sends_nothing_is_closed_after_the_deadline(srv):
    _assert_closed_by_deadline(srv, b"")


def test_connection_that_stops_mid_request_is_closed_after_the_deadline(srv):
    _assert_closed_by_deadline(srv, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")


def test_keep_alive_connection_gets_answers_to_pipelined_requests(srv):
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection((srv.host, srv.port), timeout=5) as raw:
        raw.sendall(request + request)
        reader = HTTPResponseReader(raw)
        for _ in range(2):
            status, _, body = reader.response(timeout=5)
            assert status == 200, body
            assert b'"status"' in body


def test_deadline_is_per_request_not_per_connection(srv):
    """Three prompt requests spread over more than the deadline on one connection all succeed."""
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    started = time.monotonic()
    with socket.create_connection((srv.host, srv.port), timeout=5) as raw:
        reader = HTTPResponseReader(raw)
        for i in range(3):
            if i:
                time.sleep(REQUEST_TIMEOUT_S * 0.6)  # idle, but less than the deadline
            raw.sendall(request)
            status, _, body = reader.response(timeout=5)
            assert status == 200, (i, body)
    assert time.monotonic() - started > REQUEST_TIMEOUT_S


def test_open_websocket_outlives_the_request_deadline(srv, sio_client):
    sio = sio_client()
    disconnected = threading.Event()
    sio.on("disconnect", lambda *a: disconnected.set())
    sio.connect(srv.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=5)

    # meanwhile, stalled raw connections are cut by the deadline
    _assert_closed_by_deadline(srv, b"")
    _assert_closed_by_deadline(srv, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")

    # the WebSocket has now been open (and idle) for twice the deadline
    assert not disconnected.is_set(), "the WebSocket client was disconnected"
    assert sio.connected
    assert sio.call("message-with-ack", "still here", timeout=5) == "still here"


def test_pending_long_poll_outlives_the_request_deadline(srv, sio_client):
    """A polling client's GET is held (no packets to send) for longer than the deadline."""
    sio = sio_client()
    disconnected = threading.Event()
    sio.on("disconnect", lambda *a: disconnected.set())
    sio.connect(srv.url, socketio_path=SIO_PATH, transports=["polling"], wait_timeout=5)
    assert sio.call("message-with-ack", "first", timeout=5) == "first"

    # the client's next GET waits with nothing to receive for 2.5 deadlines
    assert not disconnected.wait(REQUEST_TIMEOUT_S * 2.5), "the polling client was disconnected"
    assert sio.connected
    assert sio.call("message-with-ack", "after the wait", timeout=5) == "after the wait"
