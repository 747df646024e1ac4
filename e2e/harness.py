"""The end-to-end stack: redis-server, a fake model server, Open WebUI 0.12.4, optionally Palisade,
nginx in front of them, and headless Chromium browsers driven by selenium.

Everything listens on free loopback ports and writes into one temporary directory; `Stack.stop()`
ends every process it started. Every wait is bounded.

E2E_SOCKET=openwebui (default): nginx sends /ws/socket.io/ to Open WebUI's own socket server.
E2E_SOCKET=palisade: nginx sends /ws/socket.io/ to Palisade (built in .build/{release,debug}/palisade)
with the repository's stock policies and plugins.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from fake_openai import MODEL_ID, FakeOpenAI

REPO = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("E2E_VENV", REPO / ".venv-e2e"))
SECRET = "e2e-secret-key-0123456789abcdef0123456789"
ADMIN = {"name": "Ada Admin", "email": "admin@e2e.test", "password": "admin-pass-123"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - keep polling until the deadline
            last_exc = e
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}" + (f" (last error: {last_exc!r})" if last_exc else ""))


def wait_port(port: int, timeout: float, proc: subprocess.Popen | None = None, what: str = "") -> None:
    def up():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what or 'process'} exited with {proc.returncode}")
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True

    deadline = time.monotonic() + timeout
    while True:
        try:
            if up():
                return
        except RuntimeError:
            raise
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not listen on {port} within {timeout}s")
        time.sleep(0.2)


class HTTPError(Exception):
    def __init__(self, status: int, body: str):
        super().__init__(f"HTTP {status}: {body[:500]}")
        self.status = status
        self.body = body


def http(method: str, url: str, token: str | None = None, body=None, timeout: float = 30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read().decode()
            return json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raise HTTPError(e.code, e.read().decode(errors="replace")) from None


class Stack:
    def __init__(self, socket_target: str | None = None, keep: bool = False):
        self.socket_target = socket_target or os.environ.get("E2E_SOCKET", "openwebui")
        if self.socket_target not in ("openwebui", "palisade"):
            raise ValueError("E2E_SOCKET must be openwebui or palisade")
        self.keep = keep or bool(os.environ.get("E2E_KEEP"))
        self.tmp = Path(tempfile.mkdtemp(prefix="palisade-e2e-"))
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.fake: FakeOpenAI | None = None
        self.redis_port = free_port()
        self.webui_port = free_port()
        self.palisade_port = free_port()
        self.nginx_port = free_port()
        self.base = f"http://127.0.0.1:{self.nginx_port}"

    # -- processes -------------------------------------------------------------------------------

    def _spawn(self, name: str, argv: list[str], env: dict | None = None, cwd: Path | None = None) -> subprocess.Popen:
        log = self.tmp / f"{name}.log"
        self.logs[name] = log
        f = open(log, "wb")
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=cwd or self.tmp,
                             start_new_session=True, stdin=subprocess.DEVNULL)
        f.close()
        self.procs[name] = p
        return p

    def log_tail(self, name: str, n: int = 60) -> str:
        try:
            return "\n".join(self.logs[name].read_text(errors="replace").splitlines()[-n:])
        except (KeyError, OSError):
            return ""

    def start(self) -> "Stack":
        try:
            self._start_redis()
            self.fake = FakeOpenAI().start()
            self._start_openwebui()
            if self.socket_target == "palisade":
                self._start_palisade()
            self._start_nginx()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_redis(self):
        p = self._spawn("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port),
                                  "--save", "", "--appendonly", "no", "--dir", str(self.tmp)])
        wait_port(self.redis_port, 15, p, "redis-server")

    def openwebui_env(self) -> dict:
        redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        data = self.tmp / "webui-data"
        data.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "OLLAMA_", "WEBUI_", "WEBSOCKET_"))}
        env.update({
            "DATA_DIR": str(data),
            "WEBUI_SECRET_KEY": SECRET,
            "WEBSOCKET_MANAGER": "redis",
            "WEBSOCKET_REDIS_URL": redis_url,
            "REDIS_URL": redis_url,
            "ENABLE_SIGNUP": "true",
            "DEFAULT_USER_ROLE": "user",
            "ENABLE_CHANNELS": "true",
            "ENABLE_NOTES": "true",
            "ENABLE_OLLAMA_API": "false",
            "ENABLE_OPENAI_API": "true",
            "OPENAI_API_BASE_URL": f"http://127.0.0.1:{self.fake.port}/v1",
            "OPENAI_API_BASE_URLS": f"http://127.0.0.1:{self.fake.port}/v1",
            "OPENAI_API_KEY": "sk-e2e",
            "OPENAI_API_KEYS": "sk-e2e",
            "DEFAULT_MODELS": MODEL_ID,
            "ENABLE_TITLE_GENERATION": "false",
            "ENABLE_TAGS_GENERATION": "false",
            "ENABLE_FOLLOW_UP_GENERATION": "false",
            "ENABLE_AUTOCOMPLETE_GENERATION": "false",
            "ENABLE_SEARCH_QUERY_GENERATION": "false",
            "ENABLE_RETRIEVAL_QUERY_GENERATION": "false",
            "ENABLE_VERSION_UPDATE_CHECK": "false",
            "ENABLE_COMMUNITY_SHARING": "false",
            # Offline: no model download at start (no local embedding model, no Whisper, no reranker).
            "OFFLINE_MODE": "true",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "RAG_EMBEDDING_ENGINE": "openai",
            "RAG_EMBEDDING_MODEL": "text-embedding-3-small",
            "RAG_OPENAI_API_BASE_URL": f"http://127.0.0.1:{self.fake.port}/v1",
            "RAG_OPENAI_API_KEY": "sk-e2e",
            "RAG_EMBEDDING_MODEL_AUTO_UPDATE": "false",
            "RAG_RERANKING_MODEL_AUTO_UPDATE": "false",
            "WHISPER_MODEL_AUTO_UPDATE": "false",
            "AUDIO_STT_ENGINE": "openai",
            "BYPASS_EMBEDDING_AND_RETRIEVAL": "true",
            "ANONYMIZED_TELEMETRY": "false",
            "SCARF_NO_ANALYTICS": "true",
            "DO_NOT_TRACK": "true",
            "GLOBAL_LOG_LEVEL": "INFO",
            "CORS_ALLOW_ORIGIN": "*",
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def _start_openwebui(self):
        exe = VENV / "bin" / "open-webui"
        if not exe.exists():
            raise RuntimeError(f"{exe} missing: run scripts/install-e2e-deps.sh")
        p = self._spawn("openwebui", [str(exe), "serve", "--host", "127.0.0.1", "--port", str(self.webui_port)],
                        env=self.openwebui_env(), cwd=self.tmp)
        wait_port(self.webui_port, 240, p, "open-webui")

        def healthy():
            if p.poll() is not None:
                raise RuntimeError("open-webui exited")
            return http("GET", f"http://127.0.0.1:{self.webui_port}/health", timeout=5)

        wait_until(healthy, 120, 0.5, "open-webui /health")

    def palisade_binary(self) -> Path:
        for c in (os.environ.get("E2E_PALISADE"), REPO / ".build/debug/palisade", REPO / ".build/release/palisade"):
            if c and Path(c).exists():
                return Path(c)
        raise RuntimeError("no Palisade binary: run `swift build --product palisade` (or `make release`)")

    def _start_palisade(self):
        exe = self.palisade_binary()
        data = self.tmp / "palisade-data"
        data.mkdir(exist_ok=True)
        config = self.tmp / "palisade.json"
        config.write_text(json.dumps({"server": {"trusted_proxies": "127.0.0.1/32"}}))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PALISADE_", "WEBSOCKET_", "WEBUI_"))}
        env.update({
            # What the README's "In front of Open WebUI" asks for, and nothing else: Open WebUI's
            # secret, its URL (the stock profile asks its API; Redis keys take its prefix) and Redis.
            "PALISADE_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "PALISADE_OPENWEBUI_URL": f"http://127.0.0.1:{self.webui_port}",
            "WEBUI_SECRET_KEY": SECRET,
        })
        p = self._spawn("palisade", [str(exe), "serve", "--host", "127.0.0.1", "--port", str(self.palisade_port),
                                     "--policies", str(REPO / "policies"), "--plugins", str(REPO / "plugins"),
                                     "--data-dir", str(data), "--config", str(config)], env=env, cwd=self.tmp)
        wait_port(self.palisade_port, 60, p, "palisade")

    def _start_nginx(self):
        socket_port = self.palisade_port if self.socket_target == "palisade" else self.webui_port
        prefix = self.tmp / "nginx"
        for d in ("logs", "body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (prefix / d).mkdir(parents=True, exist_ok=True)
        user = "user root;" if os.geteuid() == 0 else ""
        conf = prefix / "nginx.conf"
        conf.write_text(f"""
{user}
daemon off;
master_process on;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log {prefix}/logs/access.log;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  client_max_body_size 64m;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  server {{
    listen 127.0.0.1:{self.nginx_port};
    location /ws/socket.io/ {{
      proxy_pass http://127.0.0.1:{socket_port};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
      proxy_buffering off;
    }}
    location / {{
      proxy_pass http://127.0.0.1:{self.webui_port};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_buffering off;
      proxy_read_timeout 600s;
    }}
  }}
}}
""")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        p = self._spawn("nginx", [nginx, "-p", str(prefix), "-c", str(conf)])
        wait_port(self.nginx_port, 15, p, "nginx")

    def stop(self) -> None:
        for name in reversed(list(self.procs)):
            p = self.procs[name]
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for name, p in self.procs.items():
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(timeout=5)
        if self.fake:
            self.fake.stop()
            self.fake = None
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- Open WebUI REST -------------------------------------------------------------------------

    def api(self, method: str, path: str, token: str | None = None, body=None, timeout: float = 30):
        return http(method, self.base + path, token, body, timeout)

    def signin(self, email: str, password: str) -> dict:
        return self.api("POST", "/api/v1/auths/signin", body={"email": email, "password": password})

    def signup(self, name: str, email: str, password: str) -> dict:
        return self.api("POST", "/api/v1/auths/signup", body={"name": name, "email": email, "password": password})

    def add_user(self, admin_token: str, name: str, email: str, password: str, role: str = "user") -> dict:
        self.api("POST", "/api/v1/auths/add", admin_token,
                 {"name": name, "email": email, "password": password, "role": role})
        return self.signin(email, password)


def main() -> int:
    """`python e2e/harness.py`: start the stack, print its URL, wait for Ctrl-C (for poking at it by hand)."""
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    stack = Stack(keep=True).start()
    print(f"stack up: {stack.base} (socket: {stack.socket_target}); temp dir {stack.tmp}", flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
