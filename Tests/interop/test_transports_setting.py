"""--transports websocket|polling restricts what the server accepts."""

import pytest
import requests
import socketio
import websocket

from wire import SIO_PATH, OPEN_KEYS, parse_open, polling_handshake, polling_url, websocket_url, ws_connect, ws_recv


def test_websocket_only_server_refuses_polling_handshake(server_factory):
    srv = server_factory("--transports", "websocket")
    r = requests.get(polling_url(srv), timeout=5)
    assert r.status_code == 400
    assert r.headers.get("Content-Type", "").startswith("application/json")
    assert r.json() == {"code": 0, "message": "Transport unknown"}


def test_websocket_only_server_serves_websocket_client(server_factory, sio_client):
    srv = server_factory("--transports", "websocket")
    ws = ws_connect(websocket_url(srv))
    try:
        handshake = parse_open(ws_recv(ws))
        assert set(handshake) == OPEN_KEYS and handshake["upgrades"] == []
    finally:
        ws.close()

    sio = sio_client()
    sio.connect(srv.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=5)
    assert sio.transport() == "websocket"
    assert sio.call("message-with-ack", "ws", timeout=5) == "ws"


def test_websocket_only_server_refuses_default_polling_first_client(server_factory, sio_client):
    srv = server_factory("--transports", "websocket")
    sio = sio_client()
    with pytest.raises(socketio.exceptions.ConnectionError):
        sio.connect(srv.url, socketio_path=SIO_PATH, transports=["polling"], wait_timeout=5)


def test_polling_only_server_refuses_websocket(server_factory):
    srv = server_factory("--transports", "polling")
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        ws = ws_connect(websocket_url(srv))
        ws.close()
    assert info.value.status_code == 400


def test_polling_only_server_offers_no_upgrade_and_refuses_upgrade_attempt(server_factory):
    srv = server_factory("--transports", "polling")
    handshake, _ = polling_handshake(srv)
    assert handshake["upgrades"] == []
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        ws = ws_connect(websocket_url(srv, sid=handshake["sid"]))
        ws.close()
    assert info.value.status_code == 400
    # the polling session is unharmed by the refused upgrade
    r = requests.post(polling_url(srv, sid=handshake["sid"]), data="40", timeout=5)
    assert r.status_code == 200 and r.text == "ok"


def test_polling_only_server_serves_polling_client(server_factory, sio_client):
    srv = server_factory("--transports", "polling")
    sio = sio_client()
    # default transports: polling first, no upgrade offered, so it stays on polling
    sio.connect(srv.url, socketio_path=SIO_PATH, wait_timeout=5)
    assert sio.transport() == "polling"
    assert sio.call("message-with-ack", "poll", timeout=5) == "poll"
