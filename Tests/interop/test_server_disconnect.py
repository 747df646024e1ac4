"""The server disconnects a socket (`disconnect-me`): the client sees a server disconnect."""

import threading
import time

import pytest

from wire import SIO_PATH, websocket_url, ws_connect, ws_recv


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["websocket", "polling"])
def test_server_disconnect_reaches_python_client(server, sio_client, transports):
    sio = sio_client(reconnection=True)  # a server disconnect must not trigger reconnection
    reasons = []
    done = threading.Event()

    @sio.on("disconnect")
    def on_disconnect(*args):
        reasons.append(args)
        done.set()

    sio.connect(server.url, socketio_path=SIO_PATH, transports=transports, wait_timeout=5)
    sio.emit("disconnect-me")
    assert done.wait(5), "client was not disconnected"
    assert reasons[0] == (sio.reason.SERVER_DISCONNECT,), reasons
    assert not sio.connected


def test_server_disconnect_wire_sends_disconnect_packet(server):
    ws = ws_connect(websocket_url(server))
    try:
        ws_recv(ws)  # open
        ws.send("40")
        assert ws_recv(ws).startswith("40{")
        assert ws_recv(ws) == '42["auth",{}]'
        ws.send('42["disconnect-me"]')
        assert ws_recv(ws) == "41"
    finally:
        ws.close()


def test_disconnecting_one_socket_leaves_others_in_room(server, sio_client):
    a, b = sio_client(), sio_client()
    for c in (a, b):
        c.connect(server.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=5)
        assert c.call("join", "r", timeout=5) is True
    b.emit("disconnect-me")
    deadline = time.monotonic() + 5
    while a.call("member-count", "r", timeout=5) != 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
