"""Namespaces: /custom exists next to /, unknown namespaces are refused."""

import time

import pytest
import socketio

from wire import SIO_PATH, EventRecorder, websocket_url, ws_connect, ws_recv


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["websocket", "polling"])
def test_custom_namespace_only_gets_auth_and_events(server, sio_client, transports):
    sio = sio_client()
    ev = EventRecorder()
    ev.record(sio, "auth", namespace="/custom")
    ev.record(sio, "message-back", namespace="/custom")
    ev.record(sio, "auth", namespace="/")

    sio.connect(server.url, socketio_path=SIO_PATH, transports=transports,
                namespaces=["/custom"], auth={"who": "custom"}, wait_timeout=5)

    assert ev.get("auth", "/custom") == ({"who": "custom"},)
    assert ev.empty("auth", "/"), "only /custom was joined"
    sio.emit("message", ("hi", b"\x01"), namespace="/custom")
    assert ev.get("message-back", "/custom") == ("hi", b"\x01")
    assert sio.call("message-with-ack", "c", namespace="/custom", timeout=5) == "c"


def test_two_namespaces_on_one_connection(server, sio_client):
    sio = sio_client()
    ev = EventRecorder()
    for nsp in ("/", "/custom"):
        ev.record(sio, "auth", namespace=nsp)
        ev.record(sio, "message-back", namespace=nsp)
    sio.connect(server.url, socketio_path=SIO_PATH, transports=["websocket"],
                namespaces=["/", "/custom"], wait_timeout=5)

    assert ev.get("auth", "/") == ({},)
    assert ev.get("auth", "/custom") == ({},)
    assert sio.get_sid("/") != sio.get_sid("/custom")
    sio.emit("message", "to-root")
    sio.emit("message", "to-custom", namespace="/custom")
    assert ev.get("message-back", "/") == ("to-root",)
    assert ev.get("message-back", "/custom") == ("to-custom",)
    assert ev.empty("message-back", "/") and ev.empty("message-back", "/custom")

    # rooms are per namespace
    assert sio.call("join", "r", namespace="/custom", timeout=5) is True
    assert sio.call("member-count", "r", namespace="/custom", timeout=5) == 1
    assert sio.call("member-count", "r", timeout=5) == 0


def test_unknown_namespace_is_refused(server, sio_client):
    sio = sio_client()
    ev = EventRecorder()
    ev.record(sio, "connect_error", namespace="/nope")
    with pytest.raises(socketio.exceptions.ConnectionError):
        sio.connect(server.url, socketio_path=SIO_PATH, transports=["websocket"],
                    namespaces=["/nope"], wait_timeout=5)
    assert ev.get("connect_error", "/nope") == ({"message": "Invalid namespace"},)


def test_unknown_namespace_wire_reply_keeps_connection(server):
    ws = ws_connect(websocket_url(server))
    try:
        ws_recv(ws)  # open
        ws.send("40/nope,")
        assert ws_recv(ws) == '44/nope,{"message":"Invalid namespace"}'
        ws.send("40/custom,")
        reply = ws_recv(ws)
        assert reply.startswith('40/custom,{"sid":'), reply
        assert ws_recv(ws) == '42/custom,["auth",{}]'
        # a namespace that runs to the end of the packet (no comma) is valid too
        ws.send("41/custom")
        ws.send("40/custom")
        assert ws_recv(ws).startswith('40/custom,{"sid":')
        assert ws_recv(ws) == '42/custom,["auth",{}]'
    finally:
        ws.close()


def test_leaving_a_namespace_keeps_the_other(server, sio_client):
    sio = sio_client()
    sio.connect(server.url, socketio_path=SIO_PATH, transports=["websocket"],
                namespaces=["/", "/custom"], wait_timeout=5)
    a = sio_client()
    a.connect(server.url, socketio_path=SIO_PATH, transports=["websocket"],
              namespaces=["/custom"], wait_timeout=5)
    assert sio.call("join", "room", namespace="/custom", timeout=5) is True
    assert a.call("join", "room", namespace="/custom", timeout=5) is True
    assert a.call("member-count", "room", namespace="/custom", timeout=5) == 2
    # python-socketio has no per-namespace disconnect API on Client; send it raw
    sio._send_packet(sio.packet_class(socketio.packet.DISCONNECT, namespace="/custom"))
    deadline = time.monotonic() + 5
    while a.call("member-count", "room", namespace="/custom", timeout=5) != 1:
        assert time.monotonic() < deadline, "leaving /custom did not leave its rooms"
        time.sleep(0.05)
    assert sio.call("message-with-ack", "root ok", timeout=5) == "root ok"
