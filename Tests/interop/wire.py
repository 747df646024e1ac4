"""Raw Engine.IO / Socket.IO helpers for tests that check the wire itself.

Kept small on purpose: just enough to do a polling handshake, a raw WebSocket
session and to split polling payloads. See shared/reference/socketio-protocol.md.
"""

from __future__ import annotations

import json
import queue
import threading
import time

import requests
import websocket

#: Open WebUI's Socket.IO path, the server's default.
SIO_PATH = "/ws/socket.io"
RS = "\x1e"  # Engine.IO polling packet separator
OPEN_KEYS = {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}


def eio_path(path: str = "/ws/socket.io") -> str:
    return path.rstrip("/") + "/"


def polling_url(srv, path: str = "/ws/socket.io", sid: str | None = None, **extra) -> str:
    q = "EIO=4&transport=polling"
    if sid:
        q += f"&sid={sid}"
    for k, v in extra.items():
        q += f"&{k}={v}"
    return f"{srv.url}{eio_path(path)}?{q}"


def websocket_url(srv, path: str = "/ws/socket.io", sid: str | None = None) -> str:
    q = "EIO=4&transport=websocket"
    if sid:
        q += f"&sid={sid}"
    return f"{srv.ws_url}{eio_path(path)}?{q}"


def split_payload(body: str) -> list[str]:
    return body.split(RS)


def parse_open(packet: str) -> dict:
    assert packet[:1] == "0", f"expected an open packet, got {packet!r}"
    return json.loads(packet[1:])


def polling_handshake(srv, path: str = "/ws/socket.io", headers=None) -> tuple[dict, requests.Response]:
    """GET handshake; asserts 200 and a lone open packet; returns (open, response)."""
    r = requests.get(polling_url(srv, path), headers=headers or {}, timeout=5)
    assert r.status_code == 200, f"handshake: HTTP {r.status_code} {r.text!r}"
    packets = split_payload(r.text)
    assert len(packets) == 1, f"handshake body must hold only the open packet: {r.text!r}"
    return parse_open(packets[0]), r


def ws_connect(url: str, origin: str | None = None, timeout: float = 5.0, **kw) -> websocket.WebSocket:
    """websocket-client connection that sends no Origin unless one is given.

    (websocket-client adds ``Origin: http://host:port`` by default.)
    """
    if origin is None:
        kw["suppress_origin"] = True
    else:
        kw["origin"] = origin
    return websocket.create_connection(url, timeout=timeout, **kw)


def ws_socketio_connect(srv) -> websocket.WebSocket:
    """A raw WebSocket to the test server with Socket.IO connected to the main namespace (its
    ``auth`` event read)."""
    ws = ws_connect(websocket_url(srv))
    parse_open(ws_recv(ws))
    ws.send("40")
    assert ws_recv(ws).startswith("40{")
    assert ws_recv(ws) == '42["auth",{}]'
    return ws


def ws_recv(ws: websocket.WebSocket, timeout: float = 5.0):
    """Next data frame (str for text, bytes for binary); raises on close/timeout."""
    ws.settimeout(timeout)
    opcode, data = ws.recv_data(control_frame=False)
    if opcode == websocket.ABNF.OPCODE_TEXT:
        return data.decode("utf-8")
    if opcode == websocket.ABNF.OPCODE_BINARY:
        return bytes(data)
    if opcode == websocket.ABNF.OPCODE_CLOSE:
        raise websocket.WebSocketConnectionClosedException("close frame")
    raise AssertionError(f"unexpected opcode {opcode}")


def ws_recv_skipping_pings(ws: websocket.WebSocket, timeout: float = 5.0):
    """Next frame that is not an Engine.IO ping; answers pings with pongs."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no frame before deadline")
        frame = ws_recv(ws, left)
        if frame == "2":
            ws.send("3")
            continue
        return frame


def wait_ws_closed(ws: websocket.WebSocket, timeout: float) -> list:
    """Read (and never answer) frames until the server closes the connection.

    Returns the frames received. Raises AssertionError if still open at the
    deadline.
    """
    frames = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"WebSocket still open after {timeout} s; frames seen: {frames!r}")
        ws.settimeout(left)
        try:
            opcode, data = ws.recv_data(control_frame=True)
        except websocket.WebSocketTimeoutException:
            continue
        except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
            return frames
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return frames
        if opcode in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
            frames.append(data.decode("utf-8") if opcode == websocket.ABNF.OPCODE_TEXT else bytes(data))


class EventRecorder:
    """Thread-safe per-event queues for socketio client handlers."""

    def __init__(self):
        self._queues: dict[tuple[str, str], queue.Queue] = {}
        self._lock = threading.Lock()

    def q(self, event: str, namespace: str = "/") -> queue.Queue:
        with self._lock:
            return self._queues.setdefault((event, namespace), queue.Queue())

    def record(self, sio, event: str, namespace: str = "/") -> None:
        q = self.q(event, namespace)

        def handler(*args):
            q.put(args)

        sio.on(event, handler, namespace=namespace)

    def get(self, event: str, namespace: str = "/", timeout: float = 5.0):
        try:
            return self.q(event, namespace).get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no {event!r} event on {namespace} within {timeout} s") from None

    def empty(self, event: str, namespace: str = "/") -> bool:
        return self.q(event, namespace).empty()


def read_until_closed(sock, timeout: float) -> bytes:
    """Everything the server sends on a raw socket until it closes (EOF or reset).

    Raises AssertionError if the connection is still open at the deadline.
    """
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"server kept the connection open for {timeout} s; got {data[:300]!r}")
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


class HTTPResponseReader:
    """Reads HTTP/1.1 responses (Content-Length bodies) one by one from a raw socket,
    keeping bytes that belong to the next response (keep-alive, pipelining)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self, deadline: float, timeout: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"incomplete HTTP response after {timeout} s: {self.buf[:300]!r}")
        self.sock.settimeout(left)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed mid-response: {self.buf[:300]!r}")
        self.buf += chunk

    def response(self, timeout: float = 5.0) -> tuple[int, dict, bytes]:
        """(status, headers with lower-case names, body) of the next response."""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            self._fill(deadline, timeout)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            self._fill(deadline, timeout)
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, headers, body
