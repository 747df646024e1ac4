"""The distributed mode's Redis link as an operator sees it: `/healthz` says `up` or `down`,
Redis down at start does not stop the gateway from serving, and the link comes back."""

from __future__ import annotations

import time

import requests

from redis_process import free_port, redis_server  # noqa: F401 (fixture)
from stock import client, mint, stock  # noqa: F401 (fixtures)


def redis_health(srv) -> str:
    return requests.get(f"{srv.url}/healthz", timeout=5).json()["redis"]


def wait_health(srv, wanted: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if redis_health(srv) == wanted:
            return
        time.sleep(0.1)
    raise AssertionError(f"/healthz still says redis {redis_health(srv)!r}, not {wanted!r}")


def test_without_a_redis_url_redis_is_off(stock):
    assert redis_health(stock()) == "off"


def test_redis_up_then_down_then_up_again(stock, client, redis_server):
    srv = stock(PALISADE_REDIS_URL=redis_server.url)
    wait_health(srv, "up")
    redis_server.stop()
    wait_health(srv, "down")
    assert client(srv).connect(mint("u1")).sio.connected, "the gateway serves while Redis is down"
    redis_server.start()
    wait_health(srv, "up", timeout=30)
    assert srv.proc.poll() is None


def test_redis_down_at_start_serves_in_memory_mode_and_says_so(stock, client):
    srv = stock(PALISADE_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert redis_health(srv) == "down"
    assert client(srv).connect(mint("u1")).sio.connected
    assert any("serving in memory mode" in line for line in srv.stderr_lines), srv.log_tail()
    health = requests.get(f"{srv.url}/healthz", timeout=5)
    assert health.status_code == 200, "Redis down degrades the gateway, it does not make it unhealthy"


# Revocations written straight into Redis, as Open WebUI's sign-out writes them, close the
# matching live sockets (idle ones too) within 5 s, without waiting for the socket's next event.
def test_a_revocation_written_into_redis_closes_the_idle_socket(stock, client, redis_server):
    srv = stock(PALISADE_REDIS_URL=redis_server.url)
    wait_health(srv, "up")
    token_a = mint("u1", jti="jti-a")
    token_b = mint("u1", jti="jti-b")
    a = client(srv).connect(token_a)
    b = client(srv).connect(token_b)
    started = time.monotonic()
    assert redis_server.command("SET", "palisade:auth:token:jti-a:revoked", "1", "EX", "60").startswith(b"+OK")
    assert a.disconnected.wait(5), "the revoked token's socket is still open after 5 s"
    assert time.monotonic() - started < 5
    assert not b.disconnected.is_set(), "another token of the same user stays"
    assert b.sio.connected


def test_revoked_at_closes_the_users_sockets_with_older_tokens(stock, client, redis_server):
    srv = stock(PALISADE_REDIS_URL=redis_server.url)
    wait_health(srv, "up")
    now = time.time()
    old = client(srv).connect(mint("u2", iat=now - 100))
    other_user = client(srv).connect(mint("u3", iat=now - 100))
    assert redis_server.command("SET", "palisade:auth:user:u2:revoked_at", str(int(now - 10))).startswith(b"+OK")
    assert old.disconnected.wait(5)
    assert not other_user.disconnected.is_set()
    newer = client(srv).connect(mint("u2", iat=now))
    time.sleep(2.5)  # a sweep later
    assert newer.sio.connected and not newer.disconnected.is_set(), "a token issued after revoked_at is valid"
