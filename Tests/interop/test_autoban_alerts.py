"""Automated responses (issue 20, item 4): the stock policies ban an address after repeated
refused tokens and a user after repeated refusals, for a while (07-autoban's settings), and
`px.alert` reports each ban to `alerts.webhook_url` (a local HTTP server here), retrying a failed
delivery. The ban shows in the admin API's list and ends by itself."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import socketio

from stock import client, mint, stock  # noqa: F401 (fixtures)
from test_bans import PROXY, connect_from, handshake_from
from waiting import eventually


class Webhook:
    """Records the JSON bodies POSTed to it; answers `failures` 500s first."""

    def __init__(self, failures: int = 0):
        self.bodies: list[dict] = []
        self.attempts = 0
        self.failures = failures
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                hook.attempts += 1
                if hook.attempts <= hook.failures:
                    self.send_response(500)
                else:
                    hook.bodies.append(body)
                    self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    hooks: list[Webhook] = []

    def make(failures: int = 0) -> Webhook:
        hook = Webhook(failures)
        hooks.append(hook)
        return hook

    yield make
    for hook in hooks:
        hook.close()


def test_refused_tokens_ban_the_address_and_the_webhook_hears_of_it(stock, webhook):
    hook = webhook(failures=1)  # the first delivery fails: it is tried again
    srv = stock({"autoban": {"auth_failures": 3, "window_s": 60, "ban_s": 2}},
                PALISADE_ALERTS_WEBHOOK_URL=hook.url, **PROXY)
    bystander = connect_from(srv, "10.1.1.2", mint("u2"))
    for _ in range(4):
        c = connect_from(srv, "10.1.1.1", "not-a-token")  # anonymous, but each refused token counts
        c.disconnect()
    assert eventually(lambda: handshake_from(srv, "10.1.1.1").status_code == 403, timeout=3), "no automatic ban"
    (listed,) = srv.admin("GET", "bans").json()
    assert (listed["kind"], listed["value"]) == ("ip", "10.1.1.1") and listed["reason"].startswith("automatic")
    assert eventually(lambda: hook.bodies, timeout=5), "the webhook got nothing"
    (alert,) = hook.bodies
    assert alert["kind"] == "ban" and alert["fields"]["value"] == "10.1.1.1" and alert["fields"]["kind"] == "ip"
    assert hook.attempts == 2, "the failed delivery was not retried"
    assert bystander.connected and handshake_from(srv, "10.1.1.2").status_code == 200
    assert eventually(lambda: handshake_from(srv, "10.1.1.1").status_code == 200, timeout=5), "the ban did not end"


def test_a_user_who_keeps_being_refused_is_banned(stock, client):
    srv = stock({"autoban": {"refusals": 5, "window_s": 60, "ban_s": 600},
                 "ratelimit": {"events": {"limit": 2, "window_s": 60}, "offences": {"limit": 1000, "window_s": 60}}})
    flooder = client(srv).connect(mint("flooder"))
    for _ in range(12):
        flooder.emit("heartbeat", {})
    assert flooder.disconnected.wait(5), "the banned user's socket stayed"
    again = client(srv)
    with pytest.raises(socketio.exceptions.ConnectionError):
        again.connect(mint("flooder"))
    assert again.next("connect_error") == ({"message": "banned"},)
    assert client(srv).connect(mint("someone-else")).sio.connected
