"""A throwaway redis-server on a free loopback port, for tests of the distributed mode."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisProcess:
    """`redis-server` without persistence (unless `extra_args` turn it on); `stop()` kills it, `start()`
    brings it back on the same port."""

    def __init__(self, workdir: Path, extra_args: tuple[str, ...] = ()):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: run scripts/install-deps.sh", pytrace=False)
        self.binary = binary
        self.extra_args = extra_args
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             *self.extra_args],
            cwd=str(self.workdir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def command(self, *args: str) -> bytes:
        """Sends one command and returns the raw reply (enough for SET, DEL, PUBLISH)."""
        request = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
            conn.sendall(request.encode())
            return conn.recv(65536)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def redis_server(tmp_path):
    server = RedisProcess(tmp_path / "redis")
    yield server
    server.stop()


def emit_write_only(url: str, event: str, data, **kwargs) -> None:
    """What Open WebUI's backend does: python-socketio's write-only Redis manager emits."""
    import socketio

    async def run():
        manager = socketio.AsyncRedisManager(url, write_only=True)
        await manager.emit(event, data, namespace="/", **kwargs)

    asyncio.run(run())
