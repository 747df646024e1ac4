"""Starting and stopping the product binary, `palisade serve`, for interop tests."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import REPO_ROOT

BINARY = Path(os.environ.get("PALISADE_BINARY", str(REPO_ROOT / ".build" / "debug" / "palisade")))
LISTENING_RE = re.compile(r"listening on (\S+):(\d+)")


class ProductProcess:
    """A running `palisade serve`: its stderr is drained in the background, and the
    `listening on HOST:PORT` line it logs gives the address."""

    def launch(self, args: list[str], env: dict, cwd: Path) -> None:
        if not BINARY.is_file():
            pytest.fail(f"product binary not found at {BINARY}: run `swift build`", pytrace=False)
        self.args = [str(BINARY), "serve", *args]
        self.proc = subprocess.Popen(self.args, env=env, cwd=str(cwd), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.stderr_lines: list[str] = []
        self.host, self.port = "127.0.0.1", 0
        ready = threading.Event()

        def read():
            for raw in self.proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.stderr_lines.append(line)
                m = LISTENING_RE.search(line)
                if m and not self.port:
                    self.host, self.port = m.group(1), int(m.group(2))
                    ready.set()
            ready.set()

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        if not ready.wait(30) or not self.port:
            self.stop()
            pytest.fail(f"no 'listening on' line; argv={self.args}; stderr:\n" + self.log_tail(), pytrace=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def log_tail(self, n: int = 60) -> str:
        return "\n".join(self.stderr_lines[-n:])

    def stop(self, timeout: float = 15) -> int | None:
        """SIGTERM; the exit code, or None (and SIGKILL) if it did not exit in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                return None
        self._reader.join(2)
        return self.proc.returncode
