"""Binary payloads (Socket.IO attachments) round-trip over WebSocket and polling."""

import os

import pytest
import requests

from wire import SIO_PATH, EventRecorder, polling_handshake, polling_url, split_payload, websocket_url, ws_connect, ws_recv

TRANSPORTS = [["websocket"], ["polling"]]


@pytest.mark.parametrize("transports", TRANSPORTS, ids=["websocket", "polling"])
def test_bytes_argument_comes_back_equal(server, sio_client, transports):
    sio = sio_client()
    ev = EventRecorder()
    ev.record(sio, "message-back")
    sio.connect(server.url, socketio_path=SIO_PATH, transports=transports, wait_timeout=5)

    sio.emit("message", b"\x01\x02\x03")
    assert ev.get("message-back") == (b"\x01\x02\x03",)

    everything = bytes(range(256)) * 4
    sio.emit("message", everything)
    assert ev.get("message-back") == (everything,)

    sio.emit("message", b"")
    assert ev.get("message-back") == (b"",)


@pytest.mark.parametrize("transports", TRANSPORTS, ids=["websocket", "polling"])
def test_nested_bytes_with_two_attachments_come_back_equal(server, sio_client, transports):
    sio = sio_client()
    ev = EventRecorder()
    ev.record(sio, "message-back")
    sio.connect(server.url, socketio_path=SIO_PATH, transports=transports, wait_timeout=5)

    payload = {"a": b"\x01\x02\x03", "list": [1, "two", {"b": b"\x04\x05\x06"}], "z": None}
    sio.emit("message", (payload, "text", 7))
    assert ev.get("message-back") == (payload, "text", 7)

    # text and binary messages interleave without mixing attachments up
    blob = os.urandom(100_000)
    sio.emit("message", "plain")
    sio.emit("message", ([b"x", blob],))
    sio.emit("message", "plain again")
    assert ev.get("message-back") == ("plain",)
    assert ev.get("message-back") == ([b"x", blob],)
    assert ev.get("message-back") == ("plain again",)


@pytest.mark.parametrize("transports", TRANSPORTS, ids=["websocket", "polling"])
def test_binary_ack_round_trip(server, sio_client, transports):
    sio = sio_client()
    sio.connect(server.url, socketio_path=SIO_PATH, transports=transports, wait_timeout=5)
    assert sio.call("message-with-ack", (b"\x00\xff", {"k": [b"\x10"]}), timeout=5) == (b"\x00\xff", {"k": [b"\x10"]})


def test_raw_websocket_binary_event_wire_format(server):
    """Header text frame with placeholders in depth-first order, then one binary frame per attachment."""
    ws = ws_connect(websocket_url(server))
    try:
        ws_recv(ws)  # open
        ws.send("40")
        assert ws_recv(ws).startswith("40{")
        assert ws_recv(ws) == '42["auth",{}]'
        ws.send('452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
        ws.send_binary(b"\x01\x02\x03")
        ws.send_binary(b"\x04\x05\x06")
        assert ws_recv(ws) == '452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'
        assert ws_recv(ws) == b"\x01\x02\x03"
        assert ws_recv(ws) == b"\x04\x05\x06"
    finally:
        ws.close()


def test_raw_polling_binary_is_b_base64(server):
    handshake, _ = polling_handshake(server)
    sid = handshake["sid"]
    url = polling_url(server, sid=sid)
    assert requests.post(url, data="40", timeout=5).text == "ok"
    got = []
    while len(got) < 2:
        got += split_payload(requests.get(url, timeout=5).text)
    assert requests.post(url, data='451-["message",{"_placeholder":true,"num":0}]\x1ebAQIDBA==', timeout=5).text == "ok"
    got = []
    while len(got) < 2:
        r = requests.get(url, timeout=5)
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        got += split_payload(r.text)
    assert got == ['451-["message-back",{"_placeholder":true,"num":0}]', "bAQIDBA=="]
