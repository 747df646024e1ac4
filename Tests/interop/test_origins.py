"""Origin checks on the polling handshake and on WebSocket upgrades (--origins)."""

import pytest
import requests
import socketio
import websocket

from wire import SIO_PATH, OPEN_KEYS, parse_open, polling_url, websocket_url, ws_connect, ws_recv

GOOD = "https://good.example"
EVIL = "https://evil.example"


def _poll_handshake(srv, origin=None):
    headers = {"Origin": origin} if origin is not None else {}
    return requests.get(polling_url(srv), headers=headers, timeout=5)


def _assert_polling_accepted(r, origin=None):
    assert r.status_code == 200, f"handshake refused: {r.status_code} {r.text!r}"
    assert set(parse_open(r.text)) == OPEN_KEYS
    if origin is not None:
        assert r.headers.get("Access-Control-Allow-Origin") in (origin, "*"), dict(r.headers)


def _assert_polling_refused(r):
    assert 400 <= r.status_code < 500, f"expected a 4xx refusal, got {r.status_code} {r.text!r}"
    assert not r.text.startswith("0{"), "refused handshake must not open a session"


def _assert_ws_accepted(srv, origin):
    ws = ws_connect(websocket_url(srv), origin=origin)
    try:
        assert set(parse_open(ws_recv(ws))) == OPEN_KEYS
    finally:
        ws.close()


def _assert_ws_refused(srv, origin):
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        ws = ws_connect(websocket_url(srv), origin=origin)
        ws.close()
    assert 400 <= info.value.status_code < 500, info.value


def test_configured_origin_refuses_other_origins(server_factory):
    srv = server_factory("--origins", GOOD)
    _assert_polling_refused(_poll_handshake(srv, EVIL))
    _assert_ws_refused(srv, EVIL)


def test_configured_origin_is_accepted_with_cors_header(server_factory):
    srv = server_factory("--origins", GOOD)
    r = _poll_handshake(srv, GOOD)
    _assert_polling_accepted(r)
    assert r.headers.get("Access-Control-Allow-Origin") == GOOD
    _assert_ws_accepted(srv, GOOD)

    # later polling requests of the session carry the header too
    sid = parse_open(r.text)["sid"]
    post = requests.post(polling_url(srv, sid=sid), data="40", headers={"Origin": GOOD}, timeout=5)
    assert post.status_code == 200 and post.text == "ok"
    assert post.headers.get("Access-Control-Allow-Origin") == GOOD


def test_configured_origin_list_accepts_each_listed_origin(server_factory):
    srv = server_factory("--origins", f"{GOOD},https://b.example")
    _assert_polling_accepted(_poll_handshake(srv, "https://b.example"), "https://b.example")
    _assert_polling_accepted(_poll_handshake(srv, GOOD), GOOD)
    _assert_polling_refused(_poll_handshake(srv, EVIL))


def test_preflight_for_allowed_origin(server_factory):
    srv = server_factory("--origins", GOOD)
    r = requests.options(polling_url(srv), headers={
        "Origin": GOOD,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }, timeout=5)
    assert r.status_code in (200, 204), f"{r.status_code} {r.text!r}"
    assert r.headers.get("Access-Control-Allow-Origin") == GOOD
    assert "authorization" in r.headers.get("Access-Control-Allow-Headers", "").lower()


def test_real_client_with_allowed_origin_connects(server_factory):
    srv = server_factory("--origins", GOOD)
    polling = socketio.Client(reconnection=False)
    ws_client = socketio.Client(reconnection=False, websocket_extra_options={"origin": GOOD})
    try:
        polling.connect(srv.url, socketio_path=SIO_PATH, transports=["polling"],
                        headers={"Origin": GOOD}, wait_timeout=5)
        assert polling.call("message-with-ack", "p", timeout=5) == "p"
        ws_client.connect(srv.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=5)
        assert ws_client.call("message-with-ack", "w", timeout=5) == "w"
    finally:
        polling.shutdown()
        ws_client.shutdown()


def test_real_client_with_refused_origin_fails_to_connect(server_factory):
    srv = server_factory("--origins", GOOD)
    sio = socketio.Client(reconnection=False)
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            sio.connect(srv.url, socketio_path=SIO_PATH, transports=["polling"],
                        headers={"Origin": EVIL}, wait_timeout=5)
    finally:
        sio.shutdown()


def test_default_allows_no_origin_and_same_origin_only(server):
    # no Origin header (non-browser clients)
    _assert_polling_accepted(_poll_handshake(server))
    _assert_ws_accepted(server, None)
    # Origin equal to http://<Host header>
    same = f"http://{server.hostport}"
    _assert_polling_accepted(_poll_handshake(server, same))
    _assert_ws_accepted(server, same)
    # anything else
    for origin in (EVIL, "http://evil.example", f"https://{server.hostport}", "null"):
        _assert_polling_refused(_poll_handshake(server, origin))
        _assert_ws_refused(server, origin)


def test_wildcard_accepts_any_origin(server_factory):
    srv = server_factory("--origins", "*")
    for origin in (EVIL, GOOD, "http://localhost:1234"):
        r = _poll_handshake(srv, origin)
        _assert_polling_accepted(r, origin)
        _assert_ws_accepted(srv, origin)
    _assert_polling_accepted(_poll_handshake(srv))


def test_error_responses_carry_cors_header_for_allowed_origin(server_factory):
    """So a browser page can read the error (reference: CORS headers on every polling response)."""
    srv = server_factory("--origins", GOOD)
    r = requests.get(polling_url(srv, sid="doesnotexist"), headers={"Origin": GOOD}, timeout=5)
    assert r.status_code == 400
    assert r.headers.get("Access-Control-Allow-Origin") == GOOD
