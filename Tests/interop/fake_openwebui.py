"""A stand-in for Open WebUI's REST API, as the stock profile asks it (`openwebui.url`): a real
HTTP server on a free loopback port whose answers a test sets, and which records the requests it
gets. Only the endpoints the profile calls are served; the real backend is the e2e suite's."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class FakeOpenWebUI:
    def __init__(self):
        # token -> the user GET /api/v1/auths/ answers for it (absent: 401)
        self.sessions: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self.down = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                auth = self.headers.get("Authorization", "")
                token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
                fake.requests.append((self.command, self.path))
                if fake.down:
                    return self._send(503, {"detail": "down"})
                if self.path == "/api/v1/auths/":
                    user = fake.sessions.get(token)
                    if user is None:
                        return self._send(401, {"detail": "Your session has expired or the token is invalid."})
                    return self._send(200, {"token": token, "token_type": "Bearer", **user})
                self._send(404, {"detail": "Not Found"})

            def _send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def sign_in(self, token: str, user_id: str, role: str = "user", name: str = "Ann", **extra) -> None:
        self.sessions[token] = {"id": user_id, "email": f"{user_id}@example.com", "name": name, "role": role,
                                "permissions": {"features": {"notes": True, "channels": True}}, **extra}

    def auth_requests(self) -> int:
        return sum(1 for _, path in self.requests if path == "/api/v1/auths/")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def openwebui():
    fake = FakeOpenWebUI()
    yield fake
    fake.close()
