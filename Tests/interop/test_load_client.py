"""palisade-bench, the load client of `make bench`: it must measure what it claims.

It writes the WebSocket upgrade itself and checks the 101 against RFC 6455's published
accept value, so these tests run it against the real test server and against a scripted
server that splits its answer, sends a wrong accept, or refuses.
"""
from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from conftest import REPO_ROOT
from product import ProductProcess
from redis_process import redis_server  # noqa: F401 (fixture)
from stock import _env

BENCH = REPO_ROOT / ".build" / "debug" / "palisade-bench"


def run_bench(*args: str, timeout: float = 60) -> dict:
    if not BENCH.is_file():
        pytest.fail(f"{BENCH} not found: run `swift build`", pytrace=False)
    done = subprocess.run([str(BENCH), *args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stdout + done.stderr
    return json.loads(lines[0])


def test_connect_opens_every_connection_against_the_real_server(server):
    report = run_bench("connect", "--connections", "40", "--concurrency", "8", "--hold", "0",
                       "--url", server.url + "/socket.io/")
    assert report["connected"] == 40 and report["failed"] == 0, report


def test_echo_completes_round_trips_against_the_real_server(server):
    report = run_bench("echo", "--connections", "4", "--inflight", "4", "--warmup", "0", "--duration", "1",
                       "--event", "message-with-ack", "--url", server.url + "/socket.io/")
    assert report["connections"] == 4 and report["failed_connections"] == 0, report
    assert report["events"] > 0 and report["errors"] == 0 and report["dropped"] == 0, report


def test_a_refused_upgrade_is_counted_by_its_status(server):
    report = run_bench("connect", "--connections", "3", "--concurrency", "3", "--hold", "0",
                       "--url", server.url + "/not-socket-io/")
    assert report["connected"] == 0 and report["failed"] == 3, report
    assert all(kind.startswith("http_4") for kind in report["failures"]), report


class ScriptedServer:
    """Answers each connection's upgrade with `head` (sent in `pieces` writes), then plays
    Engine.IO's open and Socket.IO's connect, so the client can count a connect."""

    OPEN = b'0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'

    def __init__(self, head: bytes, pieces: int = 1):
        self.head, self.pieces = head, pieces
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests: list[bytes] = []
        threading.Thread(target=self.serve, daemon=True).start()

    @staticmethod
    def frame(payload: bytes) -> bytes:
        return bytes([0x81, len(payload)]) + payload

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn: socket.socket) -> None:
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            self.requests.append(request)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # The head in `pieces` writes; the open packet rides in the same write as its end.
            reply = self.head + self.frame(self.OPEN)
            start = 0
            for piece in range(1, self.pieces):
                cut = len(self.head) * piece // self.pieces
                conn.sendall(reply[start:cut])
                time.sleep(0.02)
                start = cut
            conn.sendall(reply[start:])
            conn.recv(4096)  # the client's CONNECT
            conn.sendall(self.frame(b'40{"sid":"x"}'))
            while conn.recv(4096):
                pass

    def close(self) -> None:
        self.listener.close()


ACCEPT = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 section 1.3, for its sample key


def upgrade_head(accept: bytes) -> bytes:
    return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")


@pytest.mark.parametrize("pieces", [1, 5])
def test_a_101_split_over_reads_with_the_open_packet_behind_it_connects(pieces):
    scripted = ScriptedServer(upgrade_head(ACCEPT), pieces=pieces)
    try:
        report = run_bench("connect", "--connections", "2", "--concurrency", "2", "--hold", "0",
                           "--handshake-timeout", "10", "--url", f"http://127.0.0.1:{scripted.port}/socket.io/")
    finally:
        scripted.close()
    assert report["connected"] == 2 and report["failed"] == 0, report
    request = scripted.requests[0]
    assert request.startswith(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n")
    assert b"\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" in request
    assert b"\r\nSec-WebSocket-Version: 13\r\n" in request


def test_a_101_with_a_wrong_accept_value_is_a_failure():
    scripted = ScriptedServer(upgrade_head(b"AAAAAAAAAAAAAAAAAAAAAAAAAAA="))
    try:
        report = run_bench("connect", "--connections", "2", "--concurrency", "2", "--hold", "0",
                           "--handshake-timeout", "10", "--url", f"http://127.0.0.1:{scripted.port}/socket.io/")
    finally:
        scripted.close()
    assert report["connected"] == 0 and report["failures"] == {"upgrade_bad_accept": 2}, report


# `fanout --second-url` (benchmarks/redis-fanout.sh): two `palisade serve` on one Redis, the
# senders on the first, odd members on the second. The second instance's members get the
# events only through Redis, so its deliveries prove the split and the relay, and the Redis
# counters read around the window give one PUBLISH per relayed event.
def bench_instance(tmp_path: Path, name: str, redis_url: str) -> ProductProcess:
    instance = ProductProcess()
    env = _env(PALISADE_REDIS_URL=redis_url, WEBSOCKET_REDIS_ROOM_CHANNELS="false",
               PALISADE_LIMITS_MAX_CONNECTIONS_PER_IP="0", PALISADE_LIMITS_MAX_CONNECTIONS_PER_USER="0")
    instance.launch(["--port", "0", "--policies", str(REPO_ROOT / "benchmarks" / "policies-minimal"),
                     "--plugins", str(REPO_ROOT / "benchmarks" / "plugins"), "--data-dir", str(tmp_path / name)],
                    env, tmp_path)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if requests.get(f"{instance.url}/healthz", timeout=5).json().get("redis") == "up":
            return instance
        time.sleep(0.1)
    instance.stop(timeout=2)
    pytest.fail(f"{name}: Redis not up\n" + instance.log_tail(), pytrace=False)


def test_fanout_across_two_instances_counts_the_second_ones_deliveries_and_the_publishes(tmp_path, redis_server):
    first = bench_instance(tmp_path, "a", redis_server.url)
    second = bench_instance(tmp_path, "b", redis_server.url)
    try:
        report = run_bench("fanout", "--url", first.url + "/ws/socket.io/", "--second-url", second.url + "/ws/socket.io/",
                           "--rooms", "2", "--members", "4", "--rate", "20", "--warmup", "0.5", "--duration", "2",
                           "--redis-url", redis_server.url, "--second-server-pid", str(second.proc.pid))
    finally:
        for instance in (first, second):
            instance.stop(timeout=2)  # `palisade serve` with Redis may not exit on SIGTERM (redis-fanout.sh)
    assert report["connections"] == 8 and report["failed_connections"] == 0, report
    # Members 1 and 3 of each room are on the second instance: 2 of the 3 receivers per event.
    assert report["second_deliveries_per_s"] > 0, report
    assert report["second_deliveries_per_s"] == pytest.approx(report["deliveries_per_s"] * 2 / 3, rel=0.2), report
    assert report["second_p99_us"] > 0 and "second_server_cpu_cores" in report, report
    assert report["redis_commands"].get("publish", 0) > 0, report
    assert report["redis_publish_per_event"] == pytest.approx(1, abs=0.25), report
