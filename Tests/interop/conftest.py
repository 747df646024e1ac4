"""Fixtures for the interop tests.

Every test runs against a real ``PalisadeTestServer`` process started on a free
loopback port, and talks to it with the real python-socketio client or with raw
HTTP / WebSocket (requests, websocket-client) when wire details matter.

The binary is ``.build/debug/PalisadeTestServer`` (relative to the repository
root, built by ``swift build --build-tests``); ``PALISADE_TEST_SERVER``
overrides the path.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import socketio

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = REPO_ROOT / ".build" / "debug" / "PalisadeTestServer"
STARTUP_TIMEOUT = 30.0
LISTENING_RE = re.compile(r"^listening on (\S+):(\d+)\s*$")



def server_binary() -> Path:
    return Path(os.environ.get("PALISADE_TEST_SERVER", str(DEFAULT_BINARY)))


class ServerProcess:
    """One running PalisadeTestServer; ``url`` is ``http://127.0.0.1:PORT``."""

    def __init__(self, args: list[str], log_dir: Path):
        binary = server_binary()
        if not binary.is_file() or not os.access(binary, os.X_OK):
            pytest.fail(
                f"server binary not found at {binary}: run `swift build --build-tests` "
                "or set PALISADE_TEST_SERVER",
                pytrace=False,
            )
        self.args = [str(binary), "--host", "127.0.0.1", "--port", "0", *args]
        self.stderr_path = log_dir / f"server-{time.monotonic_ns()}.stderr"
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=str(REPO_ROOT),
        )
        self.stopped = False
        self.stdout_lines: list[str] = []
        self._ready = threading.Event()
        self.host = "127.0.0.1"
        self.port = 0
        # Drain stdout for the whole life of the process so it never blocks on a
        # full pipe; the first `listening on` line tells us the port.
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        if not self._ready.wait(STARTUP_TIMEOUT) or not self.port:
            self.stop()
            pytest.fail(
                f"server did not print 'listening on 127.0.0.1:PORT' within "
                f"{STARTUP_TIMEOUT:.0f} s; argv={self.args}; stdout={self.stdout_lines!r}; "
                f"stderr tail:\n{self.stderr_tail()}",
                pytrace=False,
            )

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.stdout_lines.append(line)
            if not self._ready.is_set():
                m = LISTENING_RE.match(line)
                if m:
                    self.host, self.port = m.group(1), int(m.group(2))
                    self._ready.set()
        self._ready.set()  # EOF: the process died before listening

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def hostport(self) -> str:
        return f"{self.host}:{self.port}"

    def stderr_tail(self, n: int = 40) -> str:
        try:
            self._stderr.flush()
            lines = self.stderr_path.read_text("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int | None:
        """SIGTERM, wait up to 10 s, then SIGKILL. Returns the exit code."""
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._reader.join(2)
        self._stderr.close()
        return self.proc.returncode


@pytest.fixture
def server_factory(tmp_path):
    """Start servers with given flags: ``server_factory("--ping-interval", "300")``.

    At teardown every server is stopped; a server that died during the test
    (a crash) fails the test with its stderr.
    """
    servers: list[ServerProcess] = []

    def start(*flags: str) -> ServerProcess:
        srv = ServerProcess([str(f) for f in flags], tmp_path)
        servers.append(srv)
        return srv

    yield start

    crashed = []
    for srv in servers:
        if not srv.stopped and not srv.alive():
            crashed.append(
                f"server {srv.args} exited with {srv.proc.returncode} during the test; "
                f"stderr tail:\n{srv.stderr_tail()}"
            )
        srv.stop()
    if crashed:
        pytest.fail("\n".join(crashed), pytrace=False)


@pytest.fixture
def server(server_factory) -> ServerProcess:
    """A server with default settings."""
    return server_factory()


@pytest.fixture
def sio_client(server_factory):
    """Factory of ``socketio.Client`` objects, all disconnected at teardown.

    Reconnection is off so that a failing test never leaves a client retrying in
    the background; tests assert on disconnects themselves.
    """
    clients: list[socketio.Client] = []

    def make(**kwargs) -> socketio.Client:
        kwargs.setdefault("reconnection", False)
        c = socketio.Client(**kwargs)
        clients.append(c)
        return c

    yield make

    # in parallel: a polling client's shutdown waits for its pending GET to end
    def close(c):
        try:
            c.shutdown()
        except Exception:  # noqa: BLE001 - best effort cleanup
            pass

    threads = [threading.Thread(target=close, args=(c,), daemon=True) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
