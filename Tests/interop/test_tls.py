"""TLS termination: `palisade serve` with `server.tls_cert` and `server.tls_key`.

Real clients only: python-socketio over wss:// and https:// polling (verifying the certificate),
Python's `ssl`, and the `openssl s_client` CLI. Each test makes its own self-signed certificates
(SAN 127.0.0.1) with the `openssl` CLI, so a certificate swap can be told apart by the CA a
client trusts.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
import socketio

from product import BINARY, ProductProcess
from tls_client import TLSClient
from waiting import eventually
from wire import SIO_PATH

# TLS 1.2 suites the server may pick (ECDHE + AEAD) and TLS 1.3's.
TLS12_SUITES = {
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
}
TLS13_SUITES = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}

POLICY = 'return { authenticate = function() return { anonymous = true } end }\n'
# `echo` answers through the ack and as an `echoed` event, so both directions are exercised.
PLUGIN = """
return { events = { echo = function(conn, data, ack)
  conn:emit("echoed", data)
  if ack then ack(data) end
end } }
"""
ADMIN_TOKEN = "tls-admin-token"


def make_certificate(folder: Path, name: str, key_type: str = "ec") -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its unencrypted key, by the openssl CLI."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"] if key_type == "ec" else ["-newkey", "rsa:2048"]
    subprocess.run(["openssl", "req", "-x509", *newkey, "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
                    "-subj", f"/CN={name}", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def install(source: tuple[Path, Path], target: tuple[Path, Path]) -> None:
    """Replaces the served files the way deploy tools do: write aside, then rename over."""
    for src, dst in zip(source, target):
        aside = dst.with_suffix(".new")
        aside.write_bytes(src.read_bytes())
        os.replace(aside, dst)


class TLSServer(ProductProcess):
    """`palisade serve` over TLS with an allow-all policy and the echo plugin."""

    def __init__(self, tmp_path: Path, cert: Path, key: Path, **env: str):
        for folder, text in (("policies", POLICY), ("plugins", PLUGIN)):
            (tmp_path / folder).mkdir(exist_ok=True)
            (tmp_path / folder / f"10-{folder}.lua").write_text(text)
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PALISADE_SERVER_TLS_CERT": str(cert),
                       "PALISADE_SERVER_TLS_KEY": str(key), "PALISADE_LOG_LEVEL": "debug",
                       "PALISADE_ADMIN_TOKEN": ADMIN_TOKEN,
                       # The echo plugin's deadline is not what these tests are about: a debug build
                       # starved of CPU can take longer than the default 0.25 s, and the event is refused.
                       "PALISADE_LIMITS_HOOK_DEADLINE_S": "5",
                       # OpenSSL's built-in defaults, not the system's openssl.cnf (Debian's sets its own
                       # minimum protocol): what is refused here, the server's own settings refuse.
                       "OPENSSL_CONF": os.devnull, **env}
        self.launch(["--port", "0", "--policies", str(tmp_path / "policies"), "--plugins", str(tmp_path / "plugins"),
                     "--data-dir", str(tmp_path / "data")], environment, tmp_path)

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def log_text(self) -> str:
        return "\n".join(self.stderr_lines)


@pytest.fixture
def certs(tmp_path):
    """The served paths (a copy of certificate "a") and the two certificates, as (cert, key) pairs."""
    a, b = make_certificate(tmp_path, "a"), make_certificate(tmp_path, "b", key_type="rsa")
    served = (tmp_path / "served.crt", tmp_path / "served.key")
    install(a, served)
    return {"served": served, "a": a, "b": b}


@pytest.fixture
def tls_server(tmp_path, certs):
    started: list[TLSServer] = []

    def start(**env: str) -> TLSServer:
        srv = TLSServer(tmp_path, *certs["served"], **env)
        started.append(srv)
        return srv

    yield start
    crashed = [f"exited with {s.proc.returncode} during the test:\n{s.log_tail()}" for s in started if s.proc.poll() is not None]
    for srv in started:
        srv.stop()
    if crashed:
        pytest.fail("\n".join(crashed), pytrace=False)


@pytest.fixture
def clients():
    """Connected clients trusting `ca`; `TLSClient`, not `socketio.Client`, whose threads share one
    `SSL` (tls_client.py)."""
    made: list[TLSClient] = []

    def connect(srv: TLSServer, ca: Path, transport: str) -> TLSClient:
        client = TLSClient(ca)
        made.append(client)
        try:
            client.connect(srv.url, socketio_path=SIO_PATH, transport=transport, wait_timeout=10)
        except socketio.exceptions.ConnectionError as error:
            raise socketio.exceptions.ConnectionError(f"{error}; server log:\n{srv.log_tail(20)}") from error
        return client

    yield connect
    for client in made:
        client.close()


def tls_connect(srv: TLSServer, ca: Path | None, **settings) -> ssl.SSLSocket:
    """A handshaken TLS socket; `settings` are set on the context (maximum_version, ...)."""
    context = ssl.create_default_context(cafile=str(ca)) if ca else ssl._create_unverified_context()  # noqa: SLF001
    alpn = settings.pop("alpn", None)
    ciphers = settings.pop("ciphers", None)
    for name, value in settings.items():
        setattr(context, name, value)
    if alpn is not None:
        context.set_alpn_protocols(alpn)
    if ciphers:
        context.set_ciphers(ciphers)
    raw = socket.create_connection((srv.host, srv.port), timeout=5)
    return context.wrap_socket(raw, server_hostname=srv.host)


def served_certificate(srv: TLSServer) -> bytes:
    with tls_connect(srv, None) as tls:
        return tls.getpeercert(binary_form=True)


def der(cert: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert.read_text())


def s_client(srv: TLSServer, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", "s_client", "-connect", f"{srv.host}:{srv.port}", *flags],
                          input=b"", capture_output=True, timeout=20)


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed `sock` (EOF or reset), reading and dropping any bytes; None if it did not."""
    start = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - start < seconds:
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - start
        except socket.timeout:
            continue
        except ConnectionError:
            return time.monotonic() - start
    return None


def echo(client: TLSClient, data) -> None:
    """`data` comes back through the ack and as an `echoed` event."""
    assert client.call("echo", data, timeout=5) == data
    assert eventually(lambda: data in client.echoed)


# -- clients --------------------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_socketio_client_over_tls_verifies_the_certificate_and_exchanges_events(tls_server, certs, clients, transport):
    srv = tls_server()
    client = clients(srv, certs["a"][0], transport)
    assert client.connected and client.transport() == transport
    for n in range(3):
        echo(client, {"n": n, "text": "über TLS"})
    echo(client, "x" * 300_000)  # many TLS records each way
    # A client that trusts another certificate is refused at the handshake.
    with pytest.raises(socketio.exceptions.ConnectionError):
        clients(srv, certs["b"][0], transport)


def test_only_tls_is_served(tls_server, certs):
    srv = tls_server()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://{srv.host}:{srv.port}/healthz", timeout=5)
    assert requests.get(f"{srv.url}/healthz", verify=str(certs["a"][0]), timeout=5).json()["status"] == "ok"


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_negotiated_protocol_and_cipher_are_modern(tls_server, certs, version):
    srv = tls_server()
    with tls_connect(srv, certs["a"][0], minimum_version=version, maximum_version=version) as tls:
        name, protocol, _ = tls.cipher()
        assert tls.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
        assert protocol == tls.version()
        assert name in (TLS12_SUITES if version == ssl.TLSVersion.TLSv1_2 else TLS13_SUITES), name
        assert tls.selected_alpn_protocol() is None  # no ALPN offered: accepted without
        tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert tls.recv(4096).startswith(b"HTTP/1.1 200")


def test_tls12_without_ecdhe_and_aead_is_refused(tls_server, certs):
    srv = tls_server()
    for ciphers in ("AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384"):
        with pytest.raises(ssl.SSLError):
            tls_connect(srv, certs["a"][0], maximum_version=ssl.TLSVersion.TLSv1_2, ciphers=ciphers)


def test_alpn_selects_http11_and_refuses_a_client_without_it(tls_server, certs):
    srv = tls_server()
    with tls_connect(srv, certs["a"][0], alpn=["h2", "http/1.1"]) as tls:
        assert tls.selected_alpn_protocol() == "http/1.1"
    with pytest.raises(ssl.SSLError, match="NO_APPLICATION_PROTOCOL|no application protocol"):
        tls_connect(srv, certs["a"][0], alpn=["h2"])


def test_openssl_s_client_tls11_refused_tls12_and_tls13_accepted_with_alpn(tls_server):
    srv = tls_server()
    # SECLEVEL=0 so the client really offers TLS 1.1 (OpenSSL 3 would not even try): the server refuses.
    old = s_client(srv, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
    assert old.returncode != 0
    assert b"alert protocol version" in old.stderr, old.stderr
    for flag, version in (("-tls1_2", b"TLSv1.2"), ("-tls1_3", b"TLSv1.3")):
        done = s_client(srv, flag, "-alpn", "http/1.1")
        assert done.returncode == 0, done.stderr
        assert b"Protocol  : " + version in done.stdout or b"New, " + version in done.stdout, done.stdout
        assert b"ALPN protocol: http/1.1" in done.stdout, done.stdout


def test_renegotiation_is_refused(tls_server, certs, clients):
    srv = tls_server()
    bystander = clients(srv, certs["a"][0], "websocket")
    # `R` asks s_client to renegotiate once connected; stdin stays open, so it ends only when refused.
    client = subprocess.Popen(["openssl", "s_client", "-connect", f"{srv.host}:{srv.port}", "-tls1_2"],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    client.stdin.write(b"R\n")
    client.stdin.flush()
    try:
        assert client.wait(timeout=10) != 0
    finally:
        client.kill()
    err = client.stderr.read()
    assert b"RENEGOTIATING" in err and b"no renegotiation" in err, err
    echo(bystander, "unaffected")


# -- failures close one connection ----------------------------------------------------------------

def test_garbage_and_plain_http_close_only_that_connection(tls_server, certs, clients):
    srv = tls_server()
    bystander = clients(srv, certs["a"][0], "websocket")
    for junk in (b"\x00\xff" * 300 + os.urandom(4000), b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"\x16\x03\x01\x00\x05hello"):
        with socket.create_connection((srv.host, srv.port), timeout=5) as raw:
            raw.sendall(junk)
            assert closed_within(raw, 5) is not None, junk[:20]
    assert srv.proc.poll() is None
    echo(bystander, "still here")
    assert requests.get(f"{srv.url}/healthz", verify=str(certs["a"][0]), timeout=5).json()["status"] == "ok"
    assert eventually(lambda: "TLS connection closed" in srv.log_text()), srv.log_tail()
    assert certs["a"][1].read_text().splitlines()[1] not in srv.log_text()  # no key material, ever


@pytest.mark.parametrize("first_bytes", [b"", b"\x16\x03\x01\x02\x00\x01"], ids=["silent", "half-hello"])
def test_a_stalled_handshake_is_closed_after_the_deadline(tls_server, certs, first_bytes):
    srv = tls_server(PALISADE_SERVER_TLS_HANDSHAKE_TIMEOUT_S="1")
    with socket.create_connection((srv.host, srv.port), timeout=5) as raw:
        raw.sendall(first_bytes)
        waited = closed_within(raw, 6)
    # Well before the 10 s request timeout: the handshake deadline closed it.
    assert waited is not None and 0.8 <= waited < 4, waited
    assert eventually(lambda: "handshake not completed within 1.0 s" in srv.log_text()), srv.log_tail()
    # A prompt client is still served.
    assert requests.get(f"{srv.url}/healthz", verify=str(certs["a"][0]), timeout=5).ok


# -- reload ---------------------------------------------------------------------------------------

def test_sighup_swaps_the_certificate_and_keeps_live_connections(tls_server, certs, clients):
    srv = tls_server()
    assert served_certificate(srv) == der(certs["a"][0])
    # The WebSocket lives on one TCP connection, accepted with certificate "a" and kept. Polling
    # opens new connections as it goes, which get whatever is served then: it trusts both.
    live = clients(srv, certs["a"][0], "websocket")
    both = certs["a"][0].with_name("both.pem")
    both.write_text(certs["a"][0].read_text() + certs["b"][0].read_text())
    polling = clients(srv, both, "polling")
    # Events flow the whole time the certificate changes.
    stop, failures = threading.Event(), []

    def chatter():
        n = 0
        while not stop.is_set():
            try:
                assert live.call("echo", n, timeout=5) == n
            except Exception as error:  # noqa: BLE001 - reported below
                failures.append(repr(error))
                return
            n += 1
            time.sleep(0.02)

    talker = threading.Thread(target=chatter, daemon=True)
    talker.start()
    install(certs["b"], certs["served"])
    srv.proc.send_signal(signal.SIGHUP)
    assert eventually(lambda: served_certificate(srv) == der(certs["b"][0]), 10), srv.log_tail()
    time.sleep(0.5)
    stop.set()
    talker.join(10)
    assert not failures, failures
    assert live.connected and polling.connected
    echo(live, "after reload")
    echo(polling, "after reload, polling")
    assert "TLS certificate reloaded" in srv.log_text()
    # New connections get the new certificate: trusting it works, trusting the old one does not.
    echo(clients(srv, certs["b"][0], "websocket"), "new")
    with pytest.raises(socketio.exceptions.ConnectionError):
        clients(srv, certs["a"][0], "websocket")


def test_a_bad_file_on_reload_keeps_the_old_certificate(tls_server, certs, clients):
    srv = tls_server()
    live = clients(srv, certs["a"][0], "websocket")
    certs["served"][0].write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    srv.proc.send_signal(signal.SIGHUP)
    assert eventually(lambda: "TLS reload failed" in srv.log_text()), srv.log_tail()
    assert str(certs["served"][0]) in srv.log_text()
    assert served_certificate(srv) == der(certs["a"][0])
    echo(live, "unaffected")
    echo(clients(srv, certs["a"][0], "polling"), "new, old certificate")


def test_admin_reload_swaps_the_certificate(tls_server, certs):
    srv = tls_server()
    install(certs["b"], certs["served"])
    assert served_certificate(srv) == der(certs["a"][0])  # nothing re-read it yet
    answer = requests.post(f"{srv.url}/admin/v1/reload", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                           verify=str(certs["a"][0]), timeout=10)
    assert answer.status_code == 200, answer.text
    assert served_certificate(srv) == der(certs["b"][0])


def test_admin_reload_with_a_bad_certificate_fails_and_says_so(tls_server, certs):
    srv = tls_server()
    certs["served"][0].write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    answer = requests.post(f"{srv.url}/admin/v1/reload", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                           verify=str(certs["a"][0]), timeout=10)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert "TLS certificate was not" in error and "old one stays in force" in error and str(certs["served"][0]) in error
    assert "generation 2" in error, "the policies were reloaded all the same"
    assert served_certificate(srv) == der(certs["a"][0])


# -- start-up errors ------------------------------------------------------------------------------

def serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
    return subprocess.run([str(BINARY), "serve", "--port", "0", "--policies", str(tmp_path), "--plugins", str(tmp_path),
                           "--data-dir", str(tmp_path / "data")], env=environment, capture_output=True, text=True,
                          timeout=30)


def test_a_certificate_without_its_key_is_a_startup_error(tmp_path, certs):
    done = serve(tmp_path, PALISADE_SERVER_TLS_CERT=str(certs["a"][0]))
    assert done.returncode == 2, done.stderr
    assert "server.tls_key" in done.stderr and "server.tls_cert" in done.stderr, done.stderr
    done = serve(tmp_path, PALISADE_SERVER_TLS_KEY=str(certs["a"][1]))
    assert done.returncode == 2 and "server.tls_cert" in done.stderr, done.stderr


def test_unusable_files_are_startup_errors_naming_the_file(tmp_path, certs):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello\n")
    encrypted = tmp_path / "encrypted.key"
    subprocess.run(["openssl", "pkey", "-in", str(certs["a"][1]), "-aes256", "-passout", "pass:secret", "-out",
                    str(encrypted)], check=True, capture_output=True)
    cases = [
        (tmp_path / "missing.crt", certs["a"][1], tmp_path / "missing.crt"),
        (garbage, certs["a"][1], garbage),
        (certs["a"][0], garbage, garbage),
        (certs["a"][0], certs["b"][1], certs["b"][1]),  # a key that is not the certificate's
        (certs["a"][0], encrypted, encrypted),  # no passphrase prompt: refused
    ]
    for cert, key, named in cases:
        done = serve(tmp_path, PALISADE_SERVER_TLS_CERT=str(cert), PALISADE_SERVER_TLS_KEY=str(key))
        assert done.returncode == 1, (cert, key, done.stderr)
        assert str(named) in done.stderr, done.stderr
        assert "listening on" not in done.stderr


def test_palisade_status_reaches_a_tls_listener_with_its_ca_file(tls_server, certs):
    """`palisade status --ca-file` checks a self-signed listener's certificate with the file given;
    without it, the system's roots refuse the certificate."""
    from test_status import status

    srv = tls_server()
    ca = str(certs["a"][0])
    ok = status("--url", srv.url, "--token", ADMIN_TOKEN, "--ca-file", ca, "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["url"] == srv.url
    refused = status("--url", srv.url, "--token", ADMIN_TOKEN, "--json")
    assert refused.returncode != 0


def test_the_admin_token_scheme_is_case_insensitive(tls_server, certs):
    srv = tls_server()
    for scheme in ("Bearer", "bearer", "BEARER"):
        r = requests.get(f"{srv.url}/admin/v1/bans", headers={"Authorization": f"{scheme} {ADMIN_TOKEN}"},
                         verify=str(certs["a"][0]), timeout=5)
        assert r.status_code == 200, (scheme, r.status_code)
