"""The application refuses a CONNECT: CONNECT_ERROR {"message": ...}."""

import pytest
import socketio

from wire import SIO_PATH, EventRecorder, websocket_url, ws_connect, ws_recv


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["websocket", "polling"])
def test_refused_connect_raises_and_reports_message(server, sio_client, transports):
    sio = sio_client()
    ev = EventRecorder()
    ev.record(sio, "connect_error")
    ev.record(sio, "auth")

    with pytest.raises(socketio.exceptions.ConnectionError):
        sio.connect(server.url, socketio_path=SIO_PATH, transports=transports,
                    auth={"refuse": "nope"}, wait_timeout=5)

    assert ev.get("connect_error") == ({"message": "nope"},)
    assert not sio.connected
    assert ev.empty("auth"), "a refused socket must not get the connection handler's emit"


def test_refused_connect_keeps_engineio_connection_open(server):
    ws = ws_connect(websocket_url(server))
    try:
        ws_recv(ws)  # open
        ws.send('40{"refuse":"go away"}')
        assert ws_recv(ws) == '44{"message":"go away"}'
        # the EIO connection stays; a later CONNECT on it succeeds
        ws.send('40{"token":"t"}')
        assert ws_recv(ws).startswith("40{")
        assert ws_recv(ws) == '42["auth",{"token":"t"}]'
    finally:
        ws.close()


def test_client_can_connect_after_a_refusal(server, sio_client):
    refused = sio_client()
    with pytest.raises(socketio.exceptions.ConnectionError):
        refused.connect(server.url, socketio_path=SIO_PATH, transports=["websocket"],
                        auth={"refuse": "no"}, wait_timeout=5)
    ok = sio_client()
    ok.connect(server.url, socketio_path=SIO_PATH, transports=["websocket"], auth={"user": "fine"}, wait_timeout=5)
    assert ok.call("message-with-ack", 1, timeout=5) == 1
