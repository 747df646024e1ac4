"""A python-socketio client on the WebSocket transport only (no polling)."""

import json

from wire import SIO_PATH, EventRecorder, OPEN_KEYS, parse_open, websocket_url, ws_connect, ws_recv


def test_websocket_only_client_gets_empty_auth_and_message_back(server, sio_client):
    sio = sio_client()
    ev = EventRecorder()
    ev.record(sio, "auth")
    ev.record(sio, "message-back")

    sio.connect(server.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=5)

    assert sio.transport() == "websocket"
    assert ev.get("auth") == ({},)
    sio.emit("message", ("hello", 1, {"a": [True, None, 2.5]}))
    assert ev.get("message-back") == ("hello", 1, {"a": [True, None, 2.5]})


def test_websocket_client_auth_object_is_echoed(server, sio_client):
    sio = sio_client()
    ev = EventRecorder()
    ev.record(sio, "auth")
    sio.connect(server.url, socketio_path=SIO_PATH, transports=["websocket"],
                auth={"token": "abc", "n": 3}, wait_timeout=5)
    assert ev.get("auth") == ({"token": "abc", "n": 3},)


def test_also_served_on_default_socketio_path(server, sio_client):
    sio = sio_client()
    ev = EventRecorder()
    ev.record(sio, "auth")
    sio.connect(server.url, socketio_path="socket.io", transports=["websocket"], wait_timeout=5)
    assert ev.get("auth") == ({},)
    assert sio.call("message-with-ack", "x", timeout=5) == "x"


def test_direct_websocket_open_packet_and_connect_reply(server):
    ws = ws_connect(websocket_url(server))
    try:
        handshake = parse_open(ws_recv(ws))
        assert set(handshake) == OPEN_KEYS
        assert handshake["upgrades"] == []
        assert handshake["pingInterval"] == 25000
        assert handshake["pingTimeout"] == 20000

        ws.send("40")
        reply = ws_recv(ws)
        assert reply.startswith("40{"), reply
        body = json.loads(reply[2:])
        assert set(body) == {"sid"}
        assert isinstance(body["sid"], str) and body["sid"]
        # the namespace socket id is not the Engine.IO session id (a secret)
        assert body["sid"] != handshake["sid"]
        # the CONNECT reply comes before anything the app emits on connect
        assert ws_recv(ws) == '42["auth",{}]'
    finally:
        ws.close()
