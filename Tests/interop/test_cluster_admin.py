"""Admin calls that span a cluster: two `palisade` instances on one Redis answer as one
server. Sessions are listed and closed wherever they are connected, and the directory is
shared, a write on one instance being seen by the other at once (its cache is told, rather
than serving the old record for up to the cache's 2 s)."""

from __future__ import annotations

import time

from redis_process import redis_server  # noqa: F401 (fixture)
from stock import client, mint, stock  # noqa: F401 (fixtures)
from test_distributed_health import wait_health


def two_instances(stock, redis_server):
    first = stock(PALISADE_REDIS_URL=redis_server.url)
    second = stock(PALISADE_REDIS_URL=redis_server.url)
    wait_health(first, "up")
    wait_health(second, "up")
    time.sleep(0.5)  # the control channel's subscriptions
    return first, second


def sids(reply) -> set[str]:
    assert reply.status_code == 200, reply.text
    return {session["sid"] for session in reply.json()}


def test_sessions_are_listed_from_every_instance(stock, client, redis_server):
    first, second = two_instances(stock, redis_server)
    here = client(first).connect(mint("u1"))
    there = client(second).connect(mint("u2"))
    listed = sids(first.admin("GET", "sessions"))
    assert {here.sid, there.sid} <= listed
    assert sids(second.admin("GET", "sessions")) == listed
    # Filters apply on every instance.
    assert sids(first.admin("GET", "sessions?user_id=u2")) == {there.sid}
    (session,) = first.admin("GET", "sessions?user_id=u2").json()
    assert session["user_id"] == "u2" and "user:u2" in session["rooms"]


def test_a_session_on_another_instance_is_closed_by_sid(stock, client, redis_server):
    first, second = two_instances(stock, redis_server)
    there = client(second).connect(mint("u3"))
    bystander = client(second).connect(mint("u4"))
    reply = first.admin("DELETE", f"sessions/{there.sid}")
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"disconnected": 1}
    assert there.disconnected.wait(2.0)
    assert not bystander.disconnected.wait(0.5), "a bystander was closed too"
    assert first.admin("DELETE", "sessions/no-such-sid").status_code == 404


def test_a_users_sessions_are_closed_on_every_instance(stock, client, redis_server):
    first, second = two_instances(stock, redis_server)
    here = client(first).connect(mint("u5"))
    there = client(second).connect(mint("u5"))
    bystander = client(second).connect(mint("u6"))
    reply = first.admin("DELETE", "users/u5/sessions")
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"disconnected": 2}
    assert here.disconnected.wait(2.0) and there.disconnected.wait(2.0)
    assert not bystander.disconnected.wait(0.5), "a bystander was closed too"


def test_the_directory_is_shared_and_a_write_reaches_the_other_cache_at_once(stock, redis_server):
    first, second = two_instances(stock, redis_server)
    first.put_record("user", "u7", {"id": "u7", "role": "user"})
    # Written to Redis, where every instance reads it.
    stored = redis_server.command("HGET", "palisade:palisade:directory:user", "u7")
    assert b'"role":"user"' in stored
    assert second.admin("GET", "directory/user/u7").json()["role"] == "user"  # now cached on second
    first.put_record("user", "u7", {"id": "u7", "role": "admin"})
    started = time.monotonic()
    while second.admin("GET", "directory/user/u7").json()["role"] != "admin":
        assert time.monotonic() - started < 0.8, "the other instance served its cached record (cache not told)"
        time.sleep(0.02)
    # A delete too.
    assert first.admin("DELETE", "directory/user/u7").status_code == 200
    started = time.monotonic()
    while second.admin("GET", "directory/user/u7").status_code != 404:
        assert time.monotonic() - started < 0.8, "the other instance still serves a deleted record"
        time.sleep(0.02)
