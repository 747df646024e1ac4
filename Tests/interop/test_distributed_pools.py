"""Open WebUI's session pool and usage pool in Redis, in 0.12.4's shapes (reference §5), as
Open WebUI's backend reads them with redis-py:

- `{prefix}:session_pool` HASH sid -> JSON user (`id`, directory fields, `last_seen_at` int,
  `chat_ids` list, never a token): written on connect, user-join and heartbeat, deleted on
  disconnect, and reaped `SESSION_POOL_TIMEOUT` after `last_seen_at` (here shortened with
  `PALISADE_SESSION_POOL_TIMEOUT`) only by the holder of `{prefix}:session_cleanup_lock`;
- `{prefix}:usage_pool` HASH model -> JSON `{sid: {"updated_at": int}}`, emptied ~3 s after
  the last report.

The stock servers use the default prefix, `palisade`."""

from __future__ import annotations

import json
import time

import pytest
import redis

from redis_process import redis_server  # noqa: F401 (fixture)
from stock import StockServer, client, mint, stock  # noqa: F401 (fixtures)
from test_distributed_health import wait_health

SESSION_POOL = "palisade:session_pool"
USAGE_POOL = "palisade:usage_pool"
SESSION_LOCK = "palisade:session_cleanup_lock"


@pytest.fixture
def r(redis_server):
    connection = redis.Redis.from_url(redis_server.url, decode_responses=True)
    yield connection
    connection.close()


def wait_for(condition, timeout: float = 5.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not met within {timeout} s")


def entry(r, sid: str) -> dict | None:
    text = r.hget(SESSION_POOL, sid)
    return json.loads(text) if text is not None else None


def plant(r, sid: str, last_seen_at: float) -> None:
    """An entry as Open WebUI's backend (or a dead instance) would have left it."""
    r.hset(SESSION_POOL, sid, json.dumps({"id": "ghost", "name": "Ghost", "role": "user",
                                          "last_seen_at": int(last_seen_at), "chat_ids": []}))


def test_the_session_pool_entry_follows_connect_heartbeat_and_disconnect(stock, client, r, redis_server):
    srv = stock(PALISADE_REDIS_URL=redis_server.url)
    wait_health(srv, "up")
    srv.put_record("user", "u1", {"id": "u1", "email": "ann@example.com", "username": "ann", "name": "Ann",
                                  "role": "user", "profile_image_url": "data:image/png;base64,AAAA"})
    token = mint("u1")
    c = client(srv).connect(token)
    sid = c.sid
    user = wait_for(lambda: entry(r, sid), what="the socket's session pool entry")
    assert user["id"] == "u1" and user["email"] == "ann@example.com" and user["username"] == "ann"
    assert user["name"] == "Ann" and user["role"] == "user"
    assert type(user["last_seen_at"]) is int and abs(user["last_seen_at"] - time.time()) < 5
    assert user["chat_ids"] == []
    assert "profile_image_url" not in user, "Open WebUI leaves the profile image out of the pool"
    raw = r.hget(SESSION_POOL, sid)
    assert token not in raw and token.split(".")[1] not in raw and "jti" not in user and "token" not in raw

    # Heartbeat refreshes last_seen_at (made old first, so the change shows within a second).
    plant(r, sid, time.time() - 50)
    assert c.call("heartbeat", {}) is None
    refreshed = entry(r, sid)
    assert refreshed["id"] == "u1" and refreshed["last_seen_at"] >= int(time.time()) - 1

    c.sio.disconnect()
    wait_for(lambda: not r.hexists(SESSION_POOL, sid), what="the entry removed on disconnect")


def test_user_join_enters_an_anonymous_socket_in_the_session_pool(stock, client, r, redis_server):
    srv = stock(PALISADE_REDIS_URL=redis_server.url)
    wait_health(srv, "up")
    c = client(srv).connect()
    time.sleep(0.3)
    assert not r.hexists(SESSION_POOL, c.sid), "an anonymous socket has no entry"
    assert c.user_join(mint("u2"))["id"] == "u2"
    user = wait_for(lambda: entry(r, c.sid), what="the entry after user-join")
    assert user["id"] == "u2" and user["chat_ids"] == [] and type(user["last_seen_at"]) is int


def test_stale_entries_are_reaped_and_fresh_ones_kept(stock, client, r, redis_server):
    srv = stock(PALISADE_REDIS_URL=redis_server.url, PALISADE_SESSION_POOL_TIMEOUT="2")
    wait_health(srv, "up")
    live = client(srv).connect(mint("u1"))
    wait_for(lambda: r.hexists(SESSION_POOL, live.sid))
    now = time.time()
    for index in range(450):  # more than two HSCAN batches of 200
        plant(r, f"ghost-{index}", now - 100)
    plant(r, "future", now + 3600)
    r.hset(SESSION_POOL, "not-json", "???")
    # A run may start while the ghosts are still being planted, and HSCAN visits fields in no set
    # order: wait until every ghost is gone, whichever run takes it.
    wait_for(lambda: not [field for field in r.hkeys(SESSION_POOL) if field.startswith("ghost-")],
             timeout=8, what="every stale entry reaped")
    assert r.hexists(SESSION_POOL, "future") and r.hget(SESSION_POOL, "not-json") == "???", \
        "a fresh entry, and one the reaper cannot read, are left alone"
    assert r.get(SESSION_LOCK), "the reaper holds Open WebUI's lock while it runs"


def test_no_reaping_while_another_owner_holds_the_lock(stock, client, r, redis_server):
    # Open WebUI's backend holds the lock (its RedisLock: SET NX EX with its own uuid).
    r.set(SESSION_LOCK, "open-webui-backend", ex=60)
    srv = stock(PALISADE_REDIS_URL=redis_server.url, PALISADE_SESSION_POOL_TIMEOUT="1")
    wait_health(srv, "up")
    plant(r, "ghost", time.time() - 100)
    time.sleep(3)
    assert r.hexists(SESSION_POOL, "ghost"), "Palisade reaped while Open WebUI held the lock"
    assert r.get(SESSION_LOCK) == "open-webui-backend", "the other owner's lock is untouched"
    r.delete(SESSION_LOCK)  # Open WebUI's release
    wait_for(lambda: not r.hexists(SESSION_POOL, "ghost"), timeout=5, what="reaping once the lock is released")
    owner = r.get(SESSION_LOCK)
    assert owner and owner != "open-webui-backend"
    assert 0 < r.ttl(SESSION_LOCK) <= 60


def test_reaping_resumes_when_the_other_owners_lock_expires(stock, r, redis_server):
    srv = stock(PALISADE_REDIS_URL=redis_server.url, PALISADE_SESSION_POOL_TIMEOUT="1")
    wait_health(srv, "up")
    r.set(SESSION_LOCK, "dead-instance", px=3000)  # its holder died: nobody renews it
    plant(r, "ghost", time.time() - 100)
    time.sleep(1.5)
    assert r.hexists(SESSION_POOL, "ghost")
    wait_for(lambda: not r.hexists(SESSION_POOL, "ghost"), timeout=6, what="reaping after the lock expired")


def test_the_entries_of_a_killed_instance_are_reaped_by_another(stock, client, r, redis_server, tmp_path):
    # Started outside the fixture, which counts an exit during the test as a crash.
    a = StockServer(tmp_path / "doomed", None, {"PALISADE_REDIS_URL": redis_server.url, "PALISADE_SESSION_POOL_TIMEOUT": "2"})
    try:
        wait_health(a, "up")
        doomed = client(a).connect(mint("u1"))
        sid = doomed.sid
        wait_for(lambda: r.hexists(SESSION_POOL, sid))
        a.proc.kill()  # no disconnect hook runs: the entry stays behind
        a.proc.wait(timeout=10)
    finally:
        a.stop()
    b = stock(PALISADE_REDIS_URL=redis_server.url, PALISADE_SESSION_POOL_TIMEOUT="2")
    wait_health(b, "up")
    assert r.hexists(SESSION_POOL, sid)
    # The dead instance's lock (if it held it) lasts its 60 s TTL; deleting it keeps the test short.
    r.delete(SESSION_LOCK)
    wait_for(lambda: not r.hexists(SESSION_POOL, sid), timeout=8, what="the dead instance's entry reaped")


def test_usage_fills_the_usage_pool_in_open_webuis_shape_and_expires(stock, client, r, redis_server):
    srv = stock(PALISADE_REDIS_URL=redis_server.url)
    wait_health(srv, "up")
    one = client(srv).connect(mint("u1"))
    two = client(srv).connect(mint("u2"))
    for c in (one, two):
        assert c.call("usage", {"action": "chat", "model": "llama3:8b", "chat_id": "chat-1"}) is None
    pool = json.loads(r.hget(USAGE_POOL, "llama3:8b"))
    assert set(pool) == {one.sid, two.sid}
    for details in pool.values():
        assert set(details) == {"updated_at"} and type(details["updated_at"]) is int
        assert abs(details["updated_at"] - time.time()) < 3
    assert r.type("palisade:usage:models") == "none", "no more usage:* strings"
    two.sio.disconnect()
    wait_for(lambda: set(json.loads(r.hget(USAGE_POOL, "llama3:8b"))) == {one.sid}, timeout=1,
             what="the disconnected socket out of the pool at once")
    stopped = time.monotonic()
    wait_for(lambda: not r.hexists(USAGE_POOL, "llama3:8b"), timeout=8, what="the model gone after the last report")
    assert time.monotonic() - stopped > 2, "a model counts for 3 s after its last report"


def test_the_usage_cleanup_expires_entries_written_by_open_webui(stock, r, redis_server):
    """Entries Open WebUI's backend wrote (its sockets), not only Palisade's: the gateway's own
    usage cleanup drops them, sid by sid."""
    srv = stock(PALISADE_REDIS_URL=redis_server.url)
    wait_health(srv, "up")
    now = int(time.time())
    r.hset(USAGE_POOL, "gone", json.dumps({"old-sid": {"updated_at": now - 60}}))
    r.hset(USAGE_POOL, "mixed", json.dumps({"old-sid": {"updated_at": now - 60}, "new-sid": {"updated_at": now + 60}}))
    wait_for(lambda: not r.hexists(USAGE_POOL, "gone"), timeout=8, what="the stale model deleted")
    assert json.loads(r.hget(USAGE_POOL, "mixed")) == {"new-sid": {"updated_at": now + 60}}
