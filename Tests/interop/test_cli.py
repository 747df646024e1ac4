"""The product binary, `palisade serve`: help, setting errors, serving, config file, SIGTERM.

Runs `.build/debug/palisade` (``PALISADE_BINARY`` overrides). The server logs to
stderr; its `listening on HOST:PORT` line gives the port. Policies and plugins
come from empty temporary folders, so connecting needs no token.
"""

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import REPO_ROOT
from wire import SIO_PATH, polling_handshake, polling_url

from product import BINARY, ProductProcess
# settings the DESIGN's stable interface names, and Open WebUI's aliases
ENV_NAMES = [
    "PALISADE_JWT_SECRET", "PALISADE_REDIS_URL", "PALISADE_REDIS_PREFIX", "PALISADE_CORS_ALLOWED_ORIGINS",
    "PALISADE_PING_INTERVAL", "PALISADE_PING_TIMEOUT", "PALISADE_ADMIN_TOKEN", "PALISADE_DATA_DIR",
    "PALISADE_LOG_LEVEL", "PALISADE_LOG_FORMAT",
    "WEBUI_SECRET_KEY", "WEBSOCKET_REDIS_URL", "REDIS_KEY_PREFIX", "CORS_ALLOW_ORIGIN",
    "WEBSOCKET_SERVER_PING_INTERVAL", "WEBSOCKET_SERVER_PING_TIMEOUT",
]
FLAGS = ["--host", "--port", "--config", "--policies", "--plugins", "--data-dir"]


def _clean_env(**extra) -> dict:
    """The test's environment without any setting the server would read, plus ``extra``."""
    aliases = {"WEBUI_SECRET_KEY", "WEBSOCKET_REDIS_URL", "REDIS_KEY_PREFIX", "CORS_ALLOW_ORIGIN",
               "WEBSOCKET_SERVER_PING_INTERVAL", "WEBSOCKET_SERVER_PING_TIMEOUT", "ENABLE_WEBSOCKET_SUPPORT"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PALISADE_") and k not in aliases}
    env.update(extra)
    return env


def _run(args: list[str], env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    if not BINARY.is_file():
        pytest.fail(f"product binary not found at {BINARY}: run `swift build`", pytrace=False)
    return subprocess.run([str(BINARY), *args], env=env or _clean_env(), cwd=cwd,
                          capture_output=True, text=True, timeout=20)


class Palisade(ProductProcess):
    """A running `palisade serve`; stderr is drained in the background."""

    def __init__(self, tmp_path: Path, args: list[str], env: dict | None = None):
        for folder in ("policies", "plugins"):
            (tmp_path / folder).mkdir(exist_ok=True)
        # The product refuses every connection without a policy (fail closed): these
        # tests are about the command line, so they run with one that admits everyone.
        (tmp_path / "policies" / "10-open.lua").write_text(
            'return { authenticate = function(conn, auth) return {anonymous = true} end }\n')
        self.launch(["--policies", str(tmp_path / "policies"), "--plugins", str(tmp_path / "plugins"),
                     "--data-dir", str(tmp_path / "data"), *args], env or _clean_env(), tmp_path)


@pytest.fixture
def palisade(tmp_path):
    """``palisade(*args, env=None)`` starts `palisade serve`; all are stopped at teardown."""
    started: list[Palisade] = []

    def start(*args: str, env: dict | None = None) -> Palisade:
        p = Palisade(tmp_path, list(args), env)
        started.append(p)
        return p

    yield start
    crashed = [f"{p.args} exited with {p.proc.returncode} during the test; stderr:\n" + "\n".join(p.stderr_lines[-40:])
               for p in started if p.proc.poll() is not None and p.proc.returncode != 0]
    for p in started:
        p.stop()
    if crashed:
        pytest.fail("\n".join(crashed), pytrace=False)


def test_serve_help_documents_flags_and_environment_names():
    r = _run(["serve", "--help"])
    assert r.returncode == 0, r.stderr
    for flag in FLAGS:
        assert flag in r.stdout, f"{flag} missing from `palisade serve --help`"
    shown = set(re.findall(r"[A-Z][A-Z0-9_]{3,}", r.stdout))
    missing = [name for name in ENV_NAMES if name not in shown]
    assert not missing, f"environment names missing from the help: {missing}"


def test_out_of_range_port_exits_2_naming_the_setting():
    r = _run(["serve", "--port", "99999"])
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr.startswith("palisade: "), r.stderr
    assert "port" in r.stderr and "99999" in r.stderr, r.stderr


def test_bad_environment_value_exits_2_naming_the_variable():
    r = _run(["serve"], env=_clean_env(PALISADE_PING_INTERVAL="abc"))
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr.startswith("palisade: "), r.stderr
    assert "PALISADE_PING_INTERVAL" in r.stderr, r.stderr


def test_bad_config_file_value_exits_2_naming_the_key(tmp_path):
    config = tmp_path / "palisade.yaml"
    config.write_text("socketio:\n  ping_timeout: soon\n")
    r = _run(["serve", "--config", str(config)])
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "ping_timeout" in r.stderr, r.stderr


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["websocket", "polling"])
def test_serve_accepts_socketio_clients_and_exits_0_on_sigterm(palisade, sio_client, transports):
    srv = palisade("--port", "0")
    sio = sio_client()
    sio.connect(srv.url, socketio_path=SIO_PATH, transports=transports, wait_timeout=5)
    assert sio.connected and sio.transport() == transports[0]
    assert requests.get(f"{srv.url}/healthz", timeout=5).json()["status"] == "ok"
    sio.disconnect()
    started = time.monotonic()
    assert srv.stop() == 0, "\n".join(srv.stderr_lines)
    assert time.monotonic() - started < 5, "an idle server waited for its drain timeout"


def _open_packet(srv: Palisade) -> dict:
    """A raw polling handshake's open packet; the session is closed again at once
    (a polling session left open would hold the shutdown for the drain timeout)."""
    handshake, _ = polling_handshake(srv)
    assert requests.post(polling_url(srv, sid=handshake["sid"]), data="1", timeout=5).text == "ok"
    return handshake


def test_config_file_is_honoured(palisade, tmp_path):
    config = tmp_path / "palisade.yaml"
    config.write_text("server:\n  port: 0\nsocketio:\n  ping_interval: 1\n  ping_timeout: 2.5\n")
    srv = palisade("--config", str(config))
    handshake = _open_packet(srv)
    assert (handshake["pingInterval"], handshake["pingTimeout"]) == (1000, 2500)


def test_environment_overrides_config_file_and_flag_overrides_environment(palisade, tmp_path):
    config = tmp_path / "palisade.yaml"
    config.write_text("server:\n  port: 0\nsocketio:\n  ping_interval: 1\n")
    srv = palisade("--config", str(config), env=_clean_env(PALISADE_PING_INTERVAL="2"))
    assert _open_packet(srv)["pingInterval"] == 2000
    srv = palisade("--config", str(config), "--ping-interval", "3", env=_clean_env(PALISADE_PING_INTERVAL="2"))
    assert _open_packet(srv)["pingInterval"] == 3000


def test_open_webui_alias_is_read(palisade):
    srv = palisade("--port", "0", env=_clean_env(WEBSOCKET_SERVER_PING_INTERVAL="4"))
    assert _open_packet(srv)["pingInterval"] == 4000


def test_token_reads_the_jwt_secret_from_the_config_file_serve_reads(tmp_path):
    import jwt

    config = tmp_path / "palisade.json"
    config.write_text(json.dumps({"jwt": {"secret": "from-the-config-file-0123456789abcdef"}}))
    result = _run(["token", "--sub", "u1", "--config", str(config), "--data-dir", str(tmp_path / "data")])
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), "from-the-config-file-0123456789abcdef", algorithms=["HS256"])
    assert claims["id"] == "u1"


def test_check_runs_the_selftests_with_the_config_files_policy_section(tmp_path):
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "10-needs-setting.lua").write_text(
        'local px = require "palisade"\n'
        'return { selftest = function()\n'
        '  assert(type(px.config.policy.custom) == "table" and px.config.policy.custom.flag == true, "custom.flag missing")\n'
        'end }\n')
    config = tmp_path / "palisade.yaml"
    config.write_text("policy:\n  custom:\n    flag: true\n")
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    without = _run(["check", "--policies", str(policies), "--plugins", str(plugins)])
    assert without.returncode != 0 and "custom.flag missing" in without.stderr
    with_config = _run(["check", "--policies", str(policies), "--plugins", str(plugins), "--config", str(config)])
    assert with_config.returncode == 0, with_config.stderr
