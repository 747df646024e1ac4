"""`px.http` (issue 18, item 1): HTTP(S) from a Lua plugin to the base URLs the configuration
allows, the hook's coroutine waiting while the loop goes on.

A real `palisade serve` with a plugin whose `fetch` event runs `px.http.request(options)` and
acks what it got; on the other side real HTTP servers (Python's http.server, one of them over
TLS with a certificate made by openssl) that count the requests they receive."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import socketio

from product import ProductProcess
from wire import SIO_PATH

PLUGIN = """
local px = require "palisade"
local M = { events = {} }
M.events["fetch"] = function(conn, options, ack)
  local started = px.now()
  local res, err = px.http.request(options)
  if res then res.elapsed = px.now() - started end
  ack(res or { error = err })
end
M.events["forget"] = function(conn, prefix, ack) ack(px.http.forget(prefix)) end
M.events["alive"] = function(conn, _, ack) ack(true) end
M.events["config"] = function(conn, _, ack) ack(px.config.openwebui and px.config.openwebui.url or px.null) end
return M
"""

ALLOW_ALL = """
local px = require "palisade"
return {
  authenticate = function() return { anonymous = true } end,
  authorize = function() return px.allow() end,
}
"""


class Upstream:
    """An HTTP server on a free loopback port that records every request it receives."""

    def __init__(self, tls: tuple[str, str] | None = None):
        self.requests: list[dict] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                upstream.requests.append({"method": self.command, "path": self.path,
                                          "headers": dict(self.headers), "body": body})
                if self.path.startswith("/api/slow"):
                    time.sleep(1.5)
                if self.path.startswith("/api/big"):
                    payload = b"x" * (2 << 20)
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if self.path.startswith("/api/redirect"):
                    self.send_response(302)
                    self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                reply = json.dumps({"path": self.path, "method": self.command,
                                    "auth": self.headers.get("Authorization"),
                                    "body": body.decode() if body else None}).encode()
                self.send_response(404 if self.path.startswith("/api/missing") else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Upstream", "yes")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = do_PUT = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def certificate(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return str(cert), str(key)


@pytest.fixture
def upstream():
    server = Upstream()
    yield server
    server.close()


@pytest.fixture
def gateway(tmp_path):
    started = []

    def start(**env):
        policies, plugins = tmp_path / "policies", tmp_path / "plugins"
        policies.mkdir(exist_ok=True)
        plugins.mkdir(exist_ok=True)
        (policies / "10-allow-all.lua").write_text(ALLOW_ALL)
        (plugins / "50-fetch.lua").write_text(PLUGIN)
        srv = ProductProcess()
        environment = {"PATH": "/usr/bin:/bin", "PALISADE_LIMITS_HOOK_DEADLINE_S": "1", **env}
        srv.launch(["--port", "0", "--policies", str(policies), "--plugins", str(plugins),
                    "--data-dir", str(tmp_path / "data")], environment, tmp_path)
        started.append(srv)
        client = socketio.Client(reconnection=False)
        client.connect(srv.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=10)
        client.gateway_url = srv.url
        started.append(client)
        return client

    yield start
    for item in reversed(started):
        if isinstance(item, socketio.Client):
            item.disconnect()
        else:
            item.stop()


def fetch(client, **options):
    return client.call("fetch", options, timeout=10)


def test_a_get_answers_status_headers_body_and_json(gateway, upstream):
    client = gateway(PALISADE_HTTP_ALLOWED_URLS=f"{upstream.url}/api/")
    res = fetch(client, url=f"{upstream.url}/api/v1/auths/", headers={"Authorization": "Bearer t0k"})
    assert res["status"] == 200
    assert res["headers"]["x-upstream"] == "yes"
    assert res["json"] == {"path": "/api/v1/auths/", "method": "GET", "auth": "Bearer t0k", "body": None}
    assert json.loads(res["body"]) == res["json"]
    # Statuses other than 2xx are answers too.
    assert fetch(client, url=f"{upstream.url}/api/missing")["status"] == 404


def test_a_post_sends_a_json_body(gateway, upstream):
    client = gateway(PALISADE_HTTP_ALLOWED_URLS=f"{upstream.url}/api/")
    res = fetch(client, method="POST", url=f"{upstream.url}/api/v1/notes/n1/update", json={"data": {"content": "hi"}})
    assert res["json"]["method"] == "POST"
    assert json.loads(res["json"]["body"]) == {"data": {"content": "hi"}}
    assert upstream.requests[-1]["headers"]["Content-Type"] == "application/json"


@pytest.mark.parametrize("path", ["/admin/users", "/apix", "/api/../admin", "/api/%2e%2e/admin", "/api/..%2fadmin"])
def test_urls_outside_the_allowed_bases_never_leave(gateway, upstream, path):
    client = gateway(PALISADE_HTTP_ALLOWED_URLS=f"{upstream.url}/api/")
    res = fetch(client, url=f"{upstream.url}{path}")
    assert res["error"].startswith("not allowed"), res
    assert upstream.requests == []


def test_another_host_or_port_or_scheme_is_refused(gateway, upstream):
    client = gateway(PALISADE_HTTP_ALLOWED_URLS=f"{upstream.url}/api/")
    for url, refusal in ((f"http://localhost:{upstream.port}/api/x", "not allowed"),
                         (f"http://127.0.0.1:{upstream.port + 1}/api/x", "not allowed"),
                         (f"https://127.0.0.1:{upstream.port}/api/x", "not allowed"),
                         (f"http://user@127.0.0.1:{upstream.port}/api/x", "invalid url"),
                         ("file:///etc/passwd", "invalid url")):
        res = fetch(client, url=url)
        assert res.get("error", "").startswith(refusal), (url, res)
    assert upstream.requests == []


def test_without_allowed_urls_every_call_is_refused(gateway, upstream):
    client = gateway()
    assert fetch(client, url=f"{upstream.url}/api/x")["error"].startswith("not allowed")
    assert upstream.requests == []


def test_a_redirect_is_answered_not_followed(gateway, upstream):
    client = gateway(PALISADE_HTTP_ALLOWED_URLS=f"{upstream.url}/api/")
    res = fetch(client, url=f"{upstream.url}/api/redirect")
    assert res["status"] == 302 and res["headers"]["location"] == "http://127.0.0.1:1/elsewhere"
    assert len(upstream.requests) == 1


def test_a_slow_server_times_out_and_the_loop_keeps_serving(gateway, upstream):
    client = gateway(PALISADE_HTTP_ALLOWED_URLS=f"{upstream.url}/api/")
    answers = {}

    def slow_call():
        started = time.monotonic()
        answers.update(fetch(client, url=f"{upstream.url}/api/slow", timeout_s=0.3))
        answers["elapsed"] = time.monotonic() - started

    worker = threading.Thread(target=slow_call)
    worker.start()
    time.sleep(0.05)
    # The hook waits, the loop does not: another socket is served meanwhile (one socket's
    # events are handled in order, so its own next event would wait).
    other = socketio.Client(reconnection=False)
    other.connect(client.gateway_url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=10)
    try:
        assert other.call("alive", {}, timeout=1) is True
        assert worker.is_alive(), "the slow call had already ended: the check proves nothing"
    finally:
        other.disconnect()
    worker.join(10)
    assert answers["error"].startswith("timeout"), answers
    # The call's own 0.3 s, not the hook's 1 s deadline, ended it.
    assert answers["elapsed"] < 0.8, answers


def test_the_hook_deadline_bounds_a_call_that_names_a_longer_timeout(gateway, upstream):
    client = gateway(PALISADE_HTTP_ALLOWED_URLS=f"{upstream.url}/api/", PALISADE_LIMITS_HOOK_DEADLINE_S="0.4")
    started = time.monotonic()
    res = fetch(client, url=f"{upstream.url}/api/slow", timeout_s=30)
    assert res["error"].startswith("timeout"), res
    assert time.monotonic() - started < 1.2


def test_a_response_over_the_cap_is_refused(gateway, upstream):
    client = gateway(PALISADE_HTTP_ALLOWED_URLS=f"{upstream.url}/api/", PALISADE_HTTP_MAX_RESPONSE_BYTES="1048576")
    assert fetch(client, url=f"{upstream.url}/api/big")["error"].startswith("response too large")
    # A call's own cap, on an answer of about 80 bytes that the configured cap lets through.
    assert fetch(client, url=f"{upstream.url}/api/v1/small")["status"] == 200
    assert fetch(client, url=f"{upstream.url}/api/v1/small", max_bytes=10)["error"].startswith("response too large")


def test_cached_answers_do_not_reach_the_server_until_forgotten(gateway, upstream):
    client = gateway(PALISADE_HTTP_ALLOWED_URLS=f"{upstream.url}/api/")
    url = f"{upstream.url}/api/v1/notes/n1"
    first = fetch(client, url=url, cache_s=30, headers={"Authorization": "Bearer a"})
    again = fetch(client, url=url, cache_s=30, headers={"Authorization": "Bearer a"})
    assert first["json"] == again["json"] and len(upstream.requests) == 1
    # Another user's token is another key.
    assert fetch(client, url=url, cache_s=30, headers={"Authorization": "Bearer b"})["json"]["auth"] == "Bearer b"
    assert len(upstream.requests) == 2
    # Without cache_s, always asked.
    fetch(client, url=url, headers={"Authorization": "Bearer a"})
    assert len(upstream.requests) == 3
    assert client.call("forget", f"{upstream.url}/api/v1/notes/", timeout=5) == 2
    fetch(client, url=url, cache_s=30, headers={"Authorization": "Bearer a"})
    assert len(upstream.requests) == 4


def test_https_with_the_configured_roots(gateway, certificate):
    server = Upstream(tls=certificate)
    try:
        client = gateway(PALISADE_HTTP_ALLOWED_URLS=f"{server.url}/api/", PALISADE_HTTP_CA_FILE=certificate[0])
        res = fetch(client, url=f"{server.url}/api/v1/auths/")
        assert res["status"] == 200 and res["json"]["path"] == "/api/v1/auths/"
    finally:
        server.close()


def test_https_to_an_untrusted_certificate_fails(gateway, certificate):
    server = Upstream(tls=certificate)
    try:
        client = gateway(PALISADE_HTTP_ALLOWED_URLS=f"{server.url}/api/")
        res = fetch(client, url=f"{server.url}/api/v1/auths/")
        assert "certificate verify failed" in res.get("error", ""), res
        assert not server.requests
    finally:
        server.close()


def test_openwebui_url_is_allowed_and_in_px_config(gateway, upstream, tmp_path):
    client = gateway(PALISADE_OPENWEBUI_URL=upstream.url)
    assert fetch(client, url=f"{upstream.url}/api/v1/auths/")["status"] == 200
    assert client.call("config", {}, timeout=5) == upstream.url
