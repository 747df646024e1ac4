"""Long-polling sessions and the polling → WebSocket upgrade."""

import json
import threading
import time

import pytest
import requests
import websocket

from wire import (SIO_PATH, EventRecorder, RS, polling_handshake, polling_url, split_payload,
                  wait_ws_closed, websocket_url, ws_connect, ws_recv)


def test_default_client_upgrades_from_polling_to_websocket(server, sio_client):
    sio = sio_client()
    ev = EventRecorder()
    ev.record(sio, "auth")
    ev.record(sio, "message-back")

    sio.connect(server.url, socketio_path=SIO_PATH, wait_timeout=5)

    # python-engineio upgrades right after the handshake, before connect() returns
    deadline = time.monotonic() + 5
    while sio.transport() != "websocket" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sio.transport() == "websocket"
    assert ev.get("auth") == ({},)
    sio.emit("message", "after upgrade")
    assert ev.get("message-back") == ("after upgrade",)
    assert sio.call("message-with-ack", (1, "2"), timeout=5) == (1, "2")


def test_polling_only_client_works(server, sio_client):
    sio = sio_client()
    ev = EventRecorder()
    ev.record(sio, "auth")
    ev.record(sio, "message-back")

    sio.connect(server.url, socketio_path=SIO_PATH, transports=["polling"], wait_timeout=5)

    assert sio.transport() == "polling"
    assert ev.get("auth") == ({},)
    for i in range(5):
        sio.emit("message", ("poll", i))
    for i in range(5):
        assert ev.get("message-back") == ("poll", i)
    assert sio.call("message-with-ack", {"k": "v"}, timeout=5) == {"k": "v"}
    assert sio.transport() == "polling"


def test_raw_upgrade_probe_then_polling_is_refused(server):
    """2probe → 3probe as first frame, 5, then traffic on WebSocket; polling → 400 code 3."""
    handshake, _ = polling_handshake(server)
    assert handshake["upgrades"] == ["websocket"]
    sid = handshake["sid"]

    ws = ws_connect(websocket_url(server, sid=sid))
    try:
        ws.send("2probe")
        assert ws_recv(ws) == "3probe"
        ws.send("5")
        ws.send("40")
        reply = ws_recv(ws)
        if reply == "6":  # a noop left over from draining the polling transport is harmless
            reply = ws_recv(ws)
        assert reply.startswith("40{"), reply
        assert set(json.loads(reply[2:])) == {"sid"}
        assert ws_recv(ws) == '42["auth",{}]'
        ws.send('421["message-with-ack","upgraded"]')
        assert ws_recv(ws) == '431["upgraded"]'

        r = requests.get(polling_url(server, sid=sid), timeout=5)
        assert r.status_code == 400
        assert r.json() == {"code": 3, "message": "Bad request"}
    finally:
        ws.close()


def test_pending_poll_is_released_with_noop_during_upgrade(server):
    """A GET pending when the probe completes is answered (6) so the client can pause polling."""
    handshake, _ = polling_handshake(server)
    sid = handshake["sid"]

    result = {}

    def long_poll():
        r = requests.get(polling_url(server, sid=sid), timeout=10)
        result["status"], result["body"] = r.status_code, r.text

    t = threading.Thread(target=long_poll)
    t.start()
    time.sleep(0.3)  # let the GET become the pending poll (no event observable from here)
    ws = ws_connect(websocket_url(server, sid=sid))
    try:
        ws.send("2probe")
        assert ws_recv(ws) == "3probe"
        t.join(5)
        assert not t.is_alive(), "pending GET not released during the upgrade"
        assert result["status"] == 200
        assert "6" in split_payload(result["body"]), result["body"]
        ws.send("5")
        ws.send("40")
        assert ws_recv(ws).startswith("40{")
    finally:
        ws.close()
        t.join(5)


def test_raw_polling_session_connect_event_and_post_ok(server):
    handshake, _ = polling_handshake(server)
    sid = handshake["sid"]
    r = requests.post(polling_url(server, sid=sid), data="40", headers={"Content-Type": "text/plain"}, timeout=5)
    assert r.status_code == 200 and r.text == "ok"

    packets = []
    deadline = time.monotonic() + 5
    while len(packets) < 2 and time.monotonic() < deadline:
        r = requests.get(polling_url(server, sid=sid), timeout=5)
        assert r.status_code == 200
        packets += split_payload(r.text)
    assert packets[0].startswith("40{"), packets
    assert packets[1] == '42["auth",{}]', packets

    r = requests.post(polling_url(server, sid=sid), data=f'42["message","a"]{RS}42["message","b"]', timeout=5)
    assert r.text == "ok"
    got = []
    while len(got) < 2 and time.monotonic() < deadline + 5:
        got += split_payload(requests.get(polling_url(server, sid=sid), timeout=5).text)
    assert got == ['42["message-back","a"]', '42["message-back","b"]']


def test_websocket_upgrade_with_unknown_sid_is_refused_with_400(server):
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        ws_connect(websocket_url(server, sid="doesnotexist")).close()
    assert info.value.status_code == 400


def test_second_websocket_for_upgraded_sid_is_accepted_then_closed(server):
    """Reference: a WebSocket for an already upgraded sid completes 101, then is closed."""
    handshake, _ = polling_handshake(server)
    sid = handshake["sid"]
    ws = ws_connect(websocket_url(server, sid=sid))
    try:
        ws.send("2probe")
        assert ws_recv(ws) == "3probe"
        ws.send("5")
        ws.send("40")
        frame = ws_recv(ws)
        if frame == "6":
            frame = ws_recv(ws)
        assert frame.startswith("40{")

        dup = ws_connect(websocket_url(server, sid=sid))  # must not raise: 101 first
        try:
            frames = wait_ws_closed(dup, timeout=3)
            assert frames == [], f"the duplicate WebSocket must carry nothing, got {frames!r}"
        finally:
            dup.close()

        # the upgraded session is unaffected
        assert ws_recv(ws) == '42["auth",{}]'
        ws.send('427["message-with-ack","same session"]')
        assert ws_recv(ws) == '437["same session"]'
    finally:
        ws.close()
