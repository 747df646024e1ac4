"""Behaviours the official Engine.IO / Socket.IO conformance suites caught, as our own
tests over raw sockets (some were races: those loop)."""

import json
import socket

import pytest
import requests

from wire import (HTTPResponseReader, parse_open, polling_handshake, polling_url, websocket_url,
                  ws_connect, ws_recv)


def _recv_skipping_noops(ws):
    """Next frame that is not an Engine.IO noop (`6`) left over from the polling transport."""
    while True:
        frame = ws_recv(ws)
        if frame != "6":
            return frame


def test_probe_reply_survives_upgrade_sent_before_reading_and_polling_is_refused(server):
    for attempt in range(20):
        sid = polling_handshake(server)[0]["sid"]
        ws = ws_connect(websocket_url(server, sid=sid))
        try:
            ws.send("2probe")
            ws.send("5")
            r = requests.get(polling_url(server, sid=sid), timeout=5)
            assert r.status_code == 400, f"attempt {attempt}: GET after upgrade: {r.status_code} {r.text!r}"
            assert ws_recv(ws) == "3probe", f"attempt {attempt}: probe reply lost"
            ws.send("40")
            reply = _recv_skipping_noops(ws)
            assert reply.startswith("40{"), f"attempt {attempt}: {reply!r}"
            assert set(json.loads(reply[2:])) == {"sid"}
        finally:
            ws.close()


def test_poll_during_upgrade_is_answered_with_noop_then_upgrade_completes(server):
    for attempt in range(10):
        sid = polling_handshake(server)[0]["sid"]
        ws = ws_connect(websocket_url(server, sid=sid))
        try:
            ws.send("2probe")
            assert ws_recv(ws) == "3probe"
            r = requests.get(polling_url(server, sid=sid), timeout=5)
            assert (r.status_code, r.text) == (200, "6"), f"attempt {attempt}: {r.status_code} {r.text!r}"
            ws.send("5")
            ws.send("40")
            reply = _recv_skipping_noops(ws)
            assert reply.startswith("40{"), f"attempt {attempt}: {reply!r}"
            assert ws_recv(ws) == '42["auth",{}]'
        finally:
            ws.close()


RFC_KEY_HEADERS = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"


def _raw_upgrade(srv, query: str, websocket_headers: str = RFC_KEY_HEADERS,
                 connection: str = "Connection: Upgrade\r\n") -> tuple[int, dict, bytes]:
    request = (f"GET /ws/socket.io/?{query} HTTP/1.1\r\nHost: {srv.hostport}\r\n"
               f"Upgrade: websocket\r\n{connection}{websocket_headers}\r\n").encode()
    with socket.create_connection((srv.host, srv.port), timeout=5) as raw:
        raw.sendall(request)
        # the status line, or whatever came before the server closed
        return HTTPResponseReader(raw).response(timeout=5)


@pytest.mark.parametrize("query", [
    "EIO=4&transport=websocket&sid=doesnotexist",
    "transport=websocket",
    "EIO=4&transport=abc",
], ids=["unknown-sid", "no-EIO", "unknown-transport"])
def test_refused_websocket_upgrade_gets_an_http_400_response(server, query):
    status, headers, body = _raw_upgrade(server, query)
    assert status == 400, (status, headers, body)
    assert "upgrade" not in headers, headers


def test_an_upgrade_is_answered_with_the_rfcs_accept_key(server):
    status, headers, _ = _raw_upgrade(server, "EIO=4&transport=websocket")
    assert status == 101, (status, headers)
    assert headers.get("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 §1.3


@pytest.mark.parametrize("websocket_headers", [
    "Sec-WebSocket-Version: 13\r\n",
    "Sec-WebSocket-Key: a2V5MQ==\r\nSec-WebSocket-Key: a2V5Mg==\r\nSec-WebSocket-Version: 13\r\n",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 12\r\n",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
], ids=["no-key", "two-keys", "version-12", "no-version"])
def test_an_upgrade_without_one_key_and_version_13_is_refused(server, websocket_headers):
    status, headers, _ = _raw_upgrade(server, "EIO=4&transport=websocket", websocket_headers)
    assert status != 101 and 400 <= status < 500, (status, headers)
    assert "sec-websocket-accept" not in headers


@pytest.mark.parametrize("key", [
    "dGhlIHNhbXBsZQ==",                  # 10 bytes, not 16
    "dGhlIHNhbXBsZSBub25jZQ",            # no padding
    "dGhlIHNhbXBsZSBub25jZR==",          # stray bits in the last character
    "dGhlIHNhbXBsZSBub2*jZQ==",          # not base64
    "a" * 1024,
])
def test_an_upgrade_whose_key_is_not_16_bytes_of_base64_is_refused(server, key):
    status, headers, _ = _raw_upgrade(server, "EIO=4&transport=websocket",
                                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n")
    assert status != 101 and 400 <= status < 500, (status, headers)


def test_an_upgrade_without_connection_upgrade_is_refused(server):
    status, headers, _ = _raw_upgrade(server, "EIO=4&transport=websocket", connection="")
    assert status != 101 and 400 <= status < 500, (status, headers)


def test_connection_may_list_upgrade_among_other_tokens_in_any_case(server):
    status, headers, _ = _raw_upgrade(server, "EIO=4&transport=websocket", connection="Connection: keep-alive, UPGRADE\r\n")
    assert status == 101, (status, headers)


def test_connect_reply_precedes_the_apps_first_event_as_separate_messages(server):
    for attempt in range(50):
        ws = ws_connect(websocket_url(server))
        try:
            parse_open(ws_recv(ws))
            ws.send("40")
            first = ws_recv(ws)
            assert first.startswith("40{") and set(json.loads(first[2:])) == {"sid"}, \
                f"attempt {attempt}: first message {first!r}"
            assert ws_recv(ws) == '42["auth",{}]', f"attempt {attempt}"
        finally:
            ws.close()
