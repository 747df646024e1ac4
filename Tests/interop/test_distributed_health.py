"""The distributed mode's Redis link as an operator sees it: `/healthz` says `up` or `down`,
Redis down at start does not stop the gateway from serving, and the link comes back."""

from __future__ import annotations

import time

import requests

from redis_process import emit_write_only, free_port, redis_server  # noqa: F401 (fixture)
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


# px.store is Redis: what Open WebUI's sign-out writes there is what the stock policy reads.
def test_a_token_revoked_in_redis_is_refused_at_user_join(stock, client, redis_server):
    srv = stock(PALISADE_REDIS_URL=redis_server.url)
    wait_health(srv, "up")
    token = mint("u1", jti="revoked-in-redis")
    redis_server.command("SET", "palisade:auth:token:revoked-in-redis:revoked", "1")
    c = client(srv).connect(token)
    assert c.user_join(token) is None
    assert "revoked" in c.error()["message"]
    assert client(srv).connect(mint("u1")).user_join(mint("u1")) == {"id": "u1", "name": "u1"}


# Two instances on one Redis share one rate limit: a user's events count together.
def test_two_instances_share_one_rate_limit(stock, client, redis_server):
    policy = {"ratelimit": {"events": {"limit": 10, "ip_limit": 1000, "window_s": 60}}}
    first = stock(policy, PALISADE_REDIS_URL=redis_server.url)
    second = stock(policy, PALISADE_REDIS_URL=redis_server.url)
    wait_health(first, "up")
    wait_health(second, "up")
    token = mint("u1")
    a = client(first).connect(token)
    b = client(second).connect(token)
    answers = [(a if n % 2 == 0 else b).attempt("heartbeat", {}) for n in range(14)]
    allowed = [answer for answer in answers if answer == "ok"]
    assert len(allowed) == 10, answers
    assert all("rate limited" in answer for answer in answers[10:]), answers


# The product with the stock profile: Open WebUI's backend, emitting through Redis to a
# user's room, reaches that user's socket on Palisade; and a room emit on one instance
# reaches a member on another.
def test_the_apps_backend_emits_through_redis_to_a_users_socket(stock, client, redis_server):
    srv = stock(PALISADE_REDIS_URL=redis_server.url)
    wait_health(srv, "up")
    c = client(srv, events=("events",)).connect(mint("u1"))
    assert c.user_join(mint("u1"))["id"] == "u1"
    emit_write_only(redis_server.url, "events", {"chat_id": "c1", "data": {"type": "chat:completion"}}, room="user:u1")
    (payload,) = c.next("events", timeout=10)
    assert payload == {"chat_id": "c1", "data": {"type": "chat:completion"}}


def test_a_room_emit_on_one_instance_reaches_a_member_on_another(stock, client, redis_server):
    first = stock(PALISADE_REDIS_URL=redis_server.url)
    second = stock(PALISADE_REDIS_URL=redis_server.url)
    wait_health(first, "up")
    wait_health(second, "up")
    member = client(second, events=("notice",)).connect(mint("u2"))
    assert member.user_join(mint("u2"))["id"] == "u2"
    reply = first.admin("POST", "emit", {"room": "user:u2", "event": "notice", "data": {"text": "hello"}})
    assert reply.status_code < 300, reply.text
    (payload,) = member.next("notice", timeout=10)
    assert payload == {"text": "hello"}


TICK_COUNTER = """
local px = require "palisade"
return { tick = function(now) px.store.incr("ticks") end }
"""


def start_with_tick_counter(tmp_path, name: str, redis_url: str):
    import shutil

    from conftest import REPO_ROOT
    from stock import StockServer, _env

    plugins = tmp_path / f"{name}-plugins"
    shutil.copytree(REPO_ROOT / "plugins", plugins)
    (plugins / "99-tick-counter.lua").write_text(TICK_COUNTER)
    srv = StockServer.__new__(StockServer)
    srv.launch(["--port", "0", "--policies", str(REPO_ROOT / "policies"), "--plugins", str(plugins),
                "--data-dir", str(tmp_path / f"{name}-data")], _env(PALISADE_REDIS_URL=redis_url), tmp_path)
    return srv


def ticks(redis_server) -> int:
    reply = redis_server.command("GET", "palisade:ticks")
    return 0 if reply.startswith(b"$-1") else int(reply.split(b"\r\n")[1])


# `tick` runs on one instance at a time (the holder of a lock in Redis), not on each.
def test_tick_runs_on_one_instance_at_a_time(tmp_path, redis_server):
    first = start_with_tick_counter(tmp_path, "first", redis_server.url)
    second = start_with_tick_counter(tmp_path, "second", redis_server.url)
    try:
        wait_health(first, "up")
        wait_health(second, "up")
        time.sleep(2)
        start = ticks(redis_server)
        time.sleep(6)
        end = ticks(redis_server)
        assert 4 <= end - start <= 8, f"{end - start} ticks in 6 s from two instances (one each second expected)"
        # The holder goes away: the other takes over within the lock's TTL.
        first.stop()
        time.sleep(5)
        later = ticks(redis_server)
        time.sleep(4)
        final = ticks(redis_server)
        assert final - later >= 3, "nobody ticks after the holder stopped"
    finally:
        first.stop()
        second.stop()


# An admin revoke on one instance closes the matching sessions on every instance in well
# under a second (the instances are told at once, not at their next 2 s sweep).
def test_an_admin_revoke_closes_sessions_on_every_instance_within_a_second(stock, client, redis_server):
    first = stock(PALISADE_REDIS_URL=redis_server.url)
    second = stock(PALISADE_REDIS_URL=redis_server.url)
    wait_health(first, "up")
    wait_health(second, "up")
    time.sleep(0.5)  # the control channel's subscriptions
    here = client(first).connect(mint("u9", iat=time.time() - 60))
    there = client(second).connect(mint("u9", iat=time.time() - 60))
    bystander = client(second).connect(mint("u10", iat=time.time() - 60))
    started = time.monotonic()
    reply = first.admin("POST", "revoke", {"user_id": "u9"})
    assert reply.status_code < 300, reply.text
    assert there.disconnected.wait(1.0), "the other instance's session is still open after 1 s"
    assert here.disconnected.wait(1.0)
    assert time.monotonic() - started < 1.5
    assert not bystander.disconnected.is_set()


# Redis killed and restarted in the middle of traffic: no crash, every event still answered
# (the store and the limiter fall back to memory), and once Redis is back the instances are
# one server again (rooms resubscribed).
def test_redis_killed_and_restarted_in_the_middle_of_traffic(stock, client, redis_server):
    import threading

    unlimited = {"limit": 100_000, "ip_limit": 100_000}
    policy = {"ratelimit": {"events": unlimited, "connects": unlimited}}
    first = stock(policy, PALISADE_REDIS_URL=redis_server.url)
    second = stock(policy, PALISADE_REDIS_URL=redis_server.url)
    wait_health(first, "up")
    wait_health(second, "up")
    a = client(first).connect(mint("u1"))
    b = client(second, events=("notice",)).connect(mint("u2"))
    assert b.user_join(mint("u2"))["id"] == "u2"

    answers: list[str] = []
    stop = threading.Event()

    def traffic():
        while not stop.is_set():
            answers.append(a.attempt("heartbeat", {}, timeout=10))
            answers.append(b.attempt("heartbeat", {}, timeout=10))
            time.sleep(0.05)

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        time.sleep(1)
        redis_server.stop()
        wait_health(first, "down")
        wait_health(second, "down")
        time.sleep(1)
        redis_server.start()
        wait_health(first, "up", timeout=30)
        wait_health(second, "up", timeout=30)
        time.sleep(1)
    finally:
        stop.set()
        worker.join(30)
    assert first.proc.poll() is None and second.proc.poll() is None
    assert len(answers) > 20 and all(answer == "ok" for answer in answers), [x for x in answers if x != "ok"][:5]

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # until the second instance has resubscribed its rooms
        first.admin("POST", "emit", {"room": "user:u2", "event": "notice", "data": {"n": 1}})
        try:
            (payload,) = b.next("notice", timeout=0.5)
            assert payload == {"n": 1}
            break
        except AssertionError:
            continue
    else:
        raise AssertionError("a room emit no longer crosses instances after Redis came back")


# SIGTERM in distributed mode drains and exits cleanly: the Redis connections close after the
# server's loops stop (they used to be on those loops: the debug build aborted on a leaked
# promise, the release build never exited).
def test_sigterm_in_distributed_mode_exits_cleanly(tmp_path, client, redis_server):
    from stock import StockServer, _env

    srv = StockServer(tmp_path / "sigterm", None, _env(PALISADE_REDIS_URL=redis_server.url))
    try:
        wait_health(srv, "up")
        c = client(srv).connect(mint("u1"))
        assert c.user_join(mint("u1"))["id"] == "u1"
        started = time.monotonic()
        assert srv.stop(timeout=10) == 0, srv.log_tail()
        assert time.monotonic() - started < 8
        assert "Fatal error" not in srv.log_tail(200)
    finally:
        srv.stop()
