"""A stand-in for Open WebUI's REST API, as the stock profile asks it (`openwebui.url`): a real
HTTP server on a free loopback port whose answers a test sets, and which records the requests it
gets. Only the endpoints the profile calls are served; the real backend is the e2e suite's."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class FakeOpenWebUI:
    def __init__(self):
        # token -> the user GET /api/v1/auths/ answers for it; else `users` by the token's `id` claim (absent: 401)
        self.sessions: dict[str, dict] = {}
        self.users: dict[str, dict] = {}
        # note id -> {"owner", "readers", "writers"}; channel id -> set of member ids
        self.notes: dict[str, dict] = {}
        self.channels: dict[str, set] = {}
        # chat id -> {"owner", "readers", "writers"} (shared chats)
        self.chats: dict[str, dict] = {}
        # channel id -> {"type", "is_private"} (absent: a public channel, type None)
        self.channel_kinds: dict[str, dict] = {}
        # GET /api/config's `features` (a signed-in user's view)
        self.features = {"enable_channels": True, "enable_encrypted_channels": True}
        # (note id, the user who saved, the JSON body) of every POST /api/v1/notes/{id}/update
        self.saved: list[tuple[str, str, dict]] = []
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
                user = fake.user_of(token)
                if user is None:
                    return self._send(401, {"detail": "Your session has expired or the token is invalid."})
                if self.path == "/api/v1/auths/":
                    return self._send(200, {"token": token, "token_type": "Bearer", **user})
                if self.path == "/api/config":
                    return self._send(200, {"name": "Open WebUI", "features": fake.features})
                if self.path.startswith("/api/v1/notes/"):
                    note = fake.notes.get(self.path[len("/api/v1/notes/"):])
                    if note is None:
                        return self._send(404, {"detail": "We could not find what you're looking for :/"})
                    uid, admin = user["id"], user["role"] == "admin"
                    writes = admin or uid == note["owner"] or uid in note["writers"]
                    if not (writes or uid in note["readers"]):
                        return self._send(403, {"detail": "An unexpected error occurred."})
                    return self._send(200, {"id": self.path.rsplit("/", 1)[1], "user_id": note["owner"],
                                            "data": {"content": {"md": "text"}}, "write_access": writes})
                if self.path.startswith("/api/v1/chats/"):
                    chat = fake.chats.get(self.path[len("/api/v1/chats/"):])
                    uid = user["id"]
                    if chat is None or not (uid == chat["owner"] or uid in chat["readers"] or uid in chat["writers"]):
                        return self._send(401, {"detail": "We could not find what you're looking for :/"})
                    writes = uid == chat["owner"] or uid in chat["writers"]
                    return self._send(200, {"id": self.path.rsplit("/", 1)[1],
                                            "chat": {"share_mode": "continue" if writes else None}})
                if self.path == "/api/v1/channels/":
                    return self._send(200, [{"id": cid, "name": cid} for cid, members in fake.channels.items()
                                            if user["id"] in members])
                if self.path.startswith("/api/v1/channels/"):
                    members = fake.channels.get(self.path[len("/api/v1/channels/"):])
                    if members is None:
                        return self._send(404, {"detail": "Not Found"})
                    if user["id"] not in members and user["role"] != "admin":
                        return self._send(403, {"detail": "An unexpected error occurred."})
                    channel_id = self.path.rsplit("/", 1)[1]
                    kind = fake.channel_kinds.get(channel_id, {"type": None, "is_private": None})
                    return self._send(200, {"id": channel_id, **kind, "user_ids": sorted(members)})
                self._send(404, {"detail": "Not Found"})

            def do_POST(self):
                auth = self.headers.get("Authorization", "")
                token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
                fake.requests.append((self.command, self.path))
                user = fake.user_of(token)
                if user is None:
                    return self._send(401, {"detail": "Your session has expired or the token is invalid."})
                if self.path.startswith("/api/v1/notes/") and self.path.endswith("/update"):
                    note_id = self.path[len("/api/v1/notes/"):-len("/update")]
                    note = fake.notes.get(note_id)
                    if note is None:
                        return self._send(404, {"detail": "Not Found"})
                    if user["id"] not in note["writers"] and user["id"] != note["owner"] and user["role"] != "admin":
                        return self._send(403, {"detail": "An unexpected error occurred."})
                    fake.saved.append((note_id, user["id"], body))
                    return self._send(200, {"id": note_id})
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

    @staticmethod
    def _user(user_id: str, role: str, name: str, **extra) -> dict:
        return {"id": user_id, "email": f"{user_id}@example.com", "name": name, "role": role,
                "permissions": {"features": {"notes": True, "channels": True, "encrypted_channels": True}}, **extra}

    def sign_in(self, token: str, user_id: str, role: str = "user", name: str = "Ann", **extra) -> None:
        self.sessions[token] = self._user(user_id, role, name, **extra)

    def add_user(self, user_id: str, role: str = "user", name: str | None = None) -> None:
        """Every token whose `id` claim names this user is a live session of theirs."""
        self.users[user_id] = self._user(user_id, role, name or user_id)

    def user_of(self, token: str) -> dict | None:
        if token in self.sessions:
            return self.sessions[token]
        try:
            payload = token.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except Exception:  # noqa: BLE001 - not a JWT: no session
            return None
        return self.users.get(str(claims.get("id")))

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
