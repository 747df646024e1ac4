"""Helpers for the tests of the stock policies and plugins (``test_stock_*.py``).

They run the product, ``.build/debug/palisade serve`` (``PALISADE_BINARY``
overrides), with the repository's own ``policies/`` and ``plugins/`` folders,
``PALISADE_JWT_SECRET=test-secret`` and an admin token, and talk to it with the
real python-socketio client as Open WebUI's browser client would: tokens minted
with PyJWT the way Open WebUI's ``create_token`` does (claims ``id``, ``exp``,
``jti``, ``iat``, HS256).

Each test gets fresh servers: the stock rate limits and the per-IP cap of
anonymous sockets count every test's connections from 127.0.0.1 otherwise.
"""

from __future__ import annotations

import json
import os
import queue
import re
import threading
import time
import uuid
import warnings
from pathlib import Path

import jwt
import pytest
import requests
import socketio

from conftest import REPO_ROOT
from product import ProductProcess
from wire import SIO_PATH, EventRecorder

SECRET = "test-secret"
ADMIN_TOKEN = "stock-admin-token"


def mint(user_id: str, *, ttl: float = 3600, secret: str = SECRET, iat: float | None = None, **claims) -> str:
    """An Open WebUI session token for ``user_id``; ``claims`` add or replace claims (None drops one)."""
    now = time.time()
    body = {"id": user_id, "jti": str(uuid.uuid4()), "iat": int(now if iat is None else iat), "exp": int(now + ttl)}
    body.update(claims)
    with warnings.catch_warnings():  # "test-secret" is shorter than PyJWT recommends
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode({k: v for k, v in body.items() if v is not None}, secret, algorithm="HS256")


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PALISADE_") and k not in {"WEBUI_SECRET_KEY", "WEBSOCKET_REDIS_URL", "REDIS_KEY_PREFIX"}}
    env.update(PALISADE_JWT_SECRET=SECRET, PALISADE_ADMIN_TOKEN=ADMIN_TOKEN)
    env.update(extra)
    return env


class StockServer(ProductProcess):
    """A running ``palisade serve`` with the stock policies and plugins."""

    def __init__(self, workdir: Path, policy: dict | None, env: dict):
        workdir.mkdir(parents=True, exist_ok=True)
        args = ["--port", "0", "--policies", str(REPO_ROOT / "policies"),
                "--plugins", str(REPO_ROOT / "plugins"), "--data-dir", str(workdir / "data")]
        if policy:
            config = workdir / "palisade.json"
            config.write_text(json.dumps({"policy": policy}))
            args += ["--config", str(config)]
        self.launch(args, _env(**env), workdir)

    def wait_log(self, text: str, timeout: float = 5.0, after: int = 0) -> str:
        """The first stderr line (from line ``after`` on) containing ``text``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.stderr_lines[after:]:
                if text in line:
                    return line
            time.sleep(0.05)
        raise AssertionError(f"no log line with {text!r} within {timeout} s; stderr tail:\n{self.log_tail()}")

    # The admin API (DESIGN.md): parts of the tests need it to fill the directory
    # and to revoke tokens. Until an endpoint exists those parts are skipped.

    def admin(self, method: str, path: str, body=None) -> requests.Response:
        return requests.request(method, f"{self.url}/admin/v1/{path}", json=body, timeout=5,
                                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})

    def admin_or_skip(self, method: str, path: str, body=None) -> requests.Response:
        """Calls the admin API; skips the test when the endpoint does not exist yet
        (the calls made here create or act, so 404 or 405 means a missing route)."""
        r = self.admin(method, path, body)
        if r.status_code in (404, 405):
            route = re.sub(r"^(directory/[^/]+)/[^/]+$", r"\1/{id}", path)
            pytest.skip(f"admin API endpoint {method} /admin/v1/{route} is not available (HTTP {r.status_code})")
        assert r.status_code < 300, f"{method} /admin/v1/{path}: HTTP {r.status_code} {r.text!r}"
        return r

    def put_record(self, kind: str, record_id: str, record: dict) -> None:
        self.admin_or_skip("PUT", f"directory/{kind}/{record_id}", record)


@pytest.fixture
def stock(tmp_path):
    """``stock(policy=None, **env)`` starts a server; ``policy`` is the config's `policy` section."""
    started: list[StockServer] = []

    def start(policy: dict | None = None, **env) -> StockServer:
        srv = StockServer(tmp_path / f"server{len(started)}", policy, env)
        started.append(srv)
        return srv

    yield start
    crashed = [f"{s.args} exited with {s.proc.returncode} during the test; stderr:\n{s.log_tail()}"
               for s in started if s.proc.poll() is not None]
    for s in started:
        s.stop()
    if crashed:
        pytest.fail("\n".join(crashed), pytrace=False)


class Client:
    """A python-socketio client acting as Open WebUI's browser: records `error` and
    the other events a test names, and knows whether the server disconnected it."""

    def __init__(self, srv: StockServer, make_client, events=()):
        self.srv = srv
        self.sio: socketio.Client = make_client()
        self.events = EventRecorder()
        for name in ("error", "connect_error", *events):
            self.events.record(self.sio, name)
        self.disconnected = threading.Event()
        self.sio.on("disconnect", lambda *args: self.disconnected.set())

    def connect(self, token: str | None = None, auth: dict | None = None, transports=("websocket",)) -> "Client":
        if auth is None:
            auth = {"token": token} if token is not None else {}
        self.sio.connect(self.srv.url, socketio_path=SIO_PATH, transports=list(transports), auth=auth, wait_timeout=5)
        return self

    @property
    def sid(self) -> str:
        return self.sio.get_sid()

    def call(self, event: str, data=None, timeout: float = 5.0):
        return self.sio.call(event, data, timeout=timeout)

    def emit(self, event: str, data=None) -> None:
        self.sio.emit(event, data)

    def error(self, timeout: float = 5.0) -> dict:
        """The next `error` event's payload."""
        (payload,) = self.events.get("error", timeout=timeout)
        return payload

    def attempt(self, event: str, data=None, timeout: float = 5.0) -> str:
        """Emits ``event`` asking for an ack and returns the message of the `error`
        event that answered it (from a policy, or from the handler before its ack),
        or "ok" when the handler acked without one."""
        acked: queue.Queue = queue.Queue()
        self.sio.emit(event, data, callback=lambda *args: acked.put(args))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                (payload,) = self.events.q("error").get(timeout=0.02)
                return payload["message"]
            except queue.Empty:
                pass
            if not acked.empty():
                # the client reads packets in order: an error sent before the ack is queued by now
                return self.attempt_error_or_ok()
        raise AssertionError(f"{event!r}: neither an ack nor an error within {timeout} s")

    def attempt_error_or_ok(self) -> str:
        try:
            (payload,) = self.events.q("error").get_nowait()
            return payload["message"]
        except queue.Empty:
            return "ok"

    def no_error(self, wait: float = 0.0) -> None:
        if wait:
            time.sleep(wait)
        assert self.events.empty("error"), f"unexpected error event: {self.events.q('error').get_nowait()!r}"

    def next(self, event: str, timeout: float = 5.0):
        return self.events.get(event, timeout=timeout)

    def nothing(self, event: str, wait: float = 0.5) -> None:
        time.sleep(wait)
        assert self.events.empty(event), f"unexpected {event!r}: {self.events.q(event).get_nowait()!r}"

    def user_join(self, token: str, timeout: float = 5.0):
        """`user-join` as Open WebUI sends it; the ack's value (None when refused)."""
        return self.call("user-join", {"auth": {"token": token}}, timeout=timeout)

    def drain(self, event: str) -> list:
        q: queue.Queue = self.events.q(event)
        items = []
        while True:
            try:
                items.append(q.get_nowait())
            except queue.Empty:
                return items


@pytest.fixture
def client(sio_client):
    """``client(srv, events=())`` → an unconnected :class:`Client` (closed at teardown)."""

    def make(srv: StockServer, events=()) -> Client:
        return Client(srv, sio_client, events)

    return make
