"""The encrypted channel relay of Open WebUI 0.12.4 as a stock plugin (issue 18, item 3; reference
§3.2; plugins/85-openwebui-encryption.lua): a host starts a session and binds its key, a member
joins, binds with its KeyPackage and is admitted, MLS packets reach the admitted members with
per-recipient sequence numbers; the state sits under Open WebUI's own key and lock in Redis, and
holds no packet; the refusals; Open WebUI's backend holding the lock or ending the session; a
disconnect; the per-user rate limit. A real `palisade serve` with the stock profile, a stand-in
for Open WebUI's API, a real redis-server, redis-py's Lock as the backend takes it."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time

import pytest
import redis

from fake_openwebui import openwebui  # noqa: F401 (fixture)
from redis_process import redis_server  # noqa: F401 (fixture)
from stock import client, mint, stock  # noqa: F401 (fixtures)

CHANNEL = "dm-ann-bob"
REJECTED = "Private chat is unavailable or the session changed."
ENDED = "Private chat ended."
EVENTS = ("encryption:event", "encryption:available")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def state_key(prefix: str = "open-webui") -> str:
    return f"{prefix}:encryption:{{{hashlib.sha256(CHANNEL.encode()).hexdigest()}}}"


def served(stock, openwebui, redis_server=None, **env):
    for uid in ("ann", "bob", "cat"):
        openwebui.add_user(uid, name=uid.capitalize())
    openwebui.channels[CHANNEL] = {"ann", "bob"}
    openwebui.channel_kinds[CHANNEL] = {"type": "dm", "is_private": None}
    if redis_server is not None:
        env["PALISADE_REDIS_URL"] = redis_server.url
    return stock(PALISADE_OPENWEBUI_URL=openwebui.url, **env)


def member(client, srv, uid):
    c = client(srv, events=EVENTS).connect(mint(uid))
    assert c.user_join(mint(uid)) == {"id": uid, "name": uid.capitalize()}
    return c


def send(c, action, **data):
    return c.call(f"encryption:{action}", {"channel": CHANNEL, **data})


def event(c, kind, timeout=5.0):
    """The next `encryption:event` of `kind` (others before it are passed over)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        (payload,) = c.next("encryption:event", timeout=max(0.01, deadline - time.monotonic()))
        if payload["kind"] == kind:
            return payload
    raise AssertionError(f"no {kind!r} event")


def started_and_admitted(ann, bob):
    """ann hosts, bob is admitted; returns (ann's answer to start, bob's to join)."""
    started = send(ann, "start")
    assert started["ok"] is True and started["host"] == started["participation"]
    session, host = started["session"], started["participation"]
    assert send(ann, "bind", session=session, participation=host, key=b64(b"A" * 32))["ok"] is True
    (available,) = bob.next("encryption:available")
    assert available == {"channel": CHANNEL, "session": session}
    assert send(bob, "status") == {"ok": True, "available": True, "session": session}
    joined = send(bob, "join", session=session)
    assert joined["ok"] is True and joined["participation"] != host
    kp = b64(b"key package of bob")
    bound = send(bob, "bind", session=session, participation=joined["participation"], key=b64(b"B" * 32), packet=kp)
    assert bound["ok"] is True
    candidate = event(ann, "candidate")
    assert (candidate["sender"], candidate["packet"], candidate["sequence"]) == (joined["participation"], kp, 1)
    admitted = send(ann, "packet", session=session, participation=host, kind="admit", target=joined["participation"],
                    packet=b64(b"commit"), welcome=b64(b"welcome for bob"))
    assert admitted["ok"] is True
    welcome = event(bob, "welcome")
    assert (welcome["packet"], welcome["sequence"], welcome["sender"]) == (b64(b"welcome for bob"), 1, host)
    return started, joined


def test_a_session_from_start_to_mls_packets(stock, client, openwebui, redis_server):
    srv = served(stock, openwebui, redis_server)
    ann, bob = member(client, srv, "ann"), member(client, srv, "bob")
    started, joined = started_and_admitted(ann, bob)
    session, host, guest = started["session"], started["participation"], joined["participation"]
    # An MLS packet from the guest reaches the host only, with the host's next sequence number.
    secret = b64(os.urandom(48))
    answer = send(bob, "packet", session=session, participation=guest, kind="mls", packet=secret)
    assert answer["ok"] is True
    mls = event(ann, "mls")
    assert (mls["sender"], mls["packet"], mls["sequence"]) == (guest, secret, 2)
    bob.nothing("encryption:event", wait=0.3)
    # The view: both bindings, both participants, the host first.
    assert [b["identity"]["participation"] for b in mls["bindings"]] == [host, guest]
    assert [(p["user"], p["name"]) for p in mls["participants"]] == [("ann", "Ann"), ("bob", "Bob")]
    assert mls["bindings"][1] == {"identity": {"channel": CHANNEL, "session": session, "user": "bob",
                                               "participation": guest}, "key": b64(b"B" * 32)}
    # Open WebUI's key, with its TTL; no packet is stored, the keys are.
    raw = redis.Redis.from_url(redis_server.url).get(state_key())
    assert 0 < redis.Redis.from_url(redis_server.url).ttl(state_key()) <= 90
    state = json.loads(raw)
    assert secret not in raw.decode() and b64(b"welcome for bob") not in raw.decode()
    assert state["members"][guest]["key"] == b64(b"B" * 32) and state["members"][host]["out"] == 2
    assert state["expires"] > time.time()
    # Pings keep the session; leaving as the guest tells the host.
    assert send(bob, "ping", session=session, participation=guest)["ok"] is True
    assert send(bob, "leave", session=session, participation=guest) == {"ok": True}
    assert event(bob, "ended") == {"kind": "ended", "channel": CHANNEL, "session": session}
    departed = event(ann, "departed")
    assert (departed["participation"], departed["admitted"]) == (guest, True)


def test_refusals(stock, client, openwebui, redis_server):
    srv = served(stock, openwebui, redis_server)
    openwebui.channels["public"] = {"ann", "bob", "cat"}
    ann, bob, cat = member(client, srv, "ann"), member(client, srv, "bob"), member(client, srv, "cat")
    assert send(cat, "start") == {"ok": False, "error": REJECTED}, "not a member"
    assert cat.call("encryption:start", {"channel": "public"}) == {"ok": False, "error": REJECTED}, "not a DM"
    started = send(ann, "start")
    session, host = started["session"], started["participation"]
    assert send(ann, "start")["ok"] is False, "one session per socket"
    assert send(ann, "bind", session=session, participation=host, key=b64(b"A" * 31))["ok"] is False, "31 bytes"
    assert send(ann, "bind", session=session, participation=host, key="not base64!")["ok"] is False
    assert send(bob, "join", session=session)["ok"] is False, "the host has no key yet"
    assert send(ann, "bind", session=session, participation=host, key=b64(b"A" * 32))["ok"] is True
    assert send(ann, "bind", session=session, participation=host, key=b64(b"C" * 32))["ok"] is False, "bound once"
    assert send(bob, "ping", session=session, participation=host)["ok"] is False, "another socket's participation"
    assert send(ann, "ping", session="other", participation=host)["ok"] is False, "another session"
    joined = send(bob, "join", session=session)
    # A packet before admission, and an admission by a guest, are refused.
    guest = joined["participation"]
    send(bob, "bind", session=session, participation=guest, key=b64(b"B" * 32), packet=b64(b"kp"))
    assert send(bob, "packet", session=session, participation=guest, kind="mls", packet=b64(b"x"))["ok"] is False
    # Encrypted channels switched off in Open WebUI: nothing passes.
    openwebui.features["enable_encrypted_channels"] = False
    time.sleep(5.2)  # 05-openwebui reuses GET /api/config answers for 5 s
    assert send(ann, "status") == {"ok": False, "error": REJECTED}


def test_polling_and_users_without_the_permission_are_refused(stock, client, openwebui, redis_server):
    srv = served(stock, openwebui, redis_server)
    polling = client(srv, events=EVENTS).connect(mint("ann"), transports=("polling",))
    assert send(polling, "status") == {"ok": False, "error": REJECTED}
    openwebui.users["bob"]["permissions"]["features"]["encrypted_channels"] = False
    bob = member(client, srv, "bob")
    assert send(bob, "status") == {"ok": False, "error": REJECTED}


def test_open_webuis_lock_is_respected_and_its_invalidate_ends_the_session(stock, client, openwebui, redis_server):
    srv = served(stock, openwebui, redis_server)
    ann, bob = member(client, srv, "ann"), member(client, srv, "bob")
    started, joined = started_and_admitted(ann, bob)
    session, host = started["session"], started["participation"]
    backend = redis.Redis.from_url(redis_server.url)
    # The backend holds the channel's lock (redis-py's Lock, as encryption.py takes it): Palisade
    # waits for it (Open WebUI: up to 2 s; here within the hook's deadline, 250 ms by default),
    # then fails closed and ends its local participations.
    lock = backend.lock(state_key() + ":lock", timeout=10)
    assert lock.acquire(blocking=False)
    began = time.monotonic()
    assert send(ann, "ping", session=session, participation=host) == {"ok": False, "error": ENDED}
    assert time.monotonic() - began >= 0.1
    assert event(ann, "ended")["channel"] == CHANNEL
    # The backend's invalidate(): under the lock, delete the state. Palisade answers from Redis.
    backend.delete(state_key())
    lock.release()
    assert send(bob, "ping", session=session, participation=joined["participation"]) == {"ok": False, "error": REJECTED}
    assert send(ann, "start")["ok"] is True, "the old participation is gone: a new session may start"


def test_a_disconnect_ends_a_participation_and_the_host_the_session(stock, client, openwebui, redis_server):
    srv = served(stock, openwebui, redis_server)
    ann, bob = member(client, srv, "ann"), member(client, srv, "bob")
    started, joined = started_and_admitted(ann, bob)
    bob.sio.disconnect()
    departed = event(ann, "departed")
    assert departed["participation"] == joined["participation"]
    assert [p["user"] for p in departed["participants"]] == ["ann"]
    bob = member(client, srv, "bob")
    joined = send(bob, "join", session=started["session"])
    assert joined["ok"] is True
    bob.drain("encryption:available")
    ann.sio.disconnect()
    assert event(bob, "ended")["session"] == started["session"]
    (available,) = bob.next("encryption:available")
    assert available == {"channel": CHANNEL, "session": None}
    assert redis.Redis.from_url(redis_server.url).get(state_key()) is None


@pytest.mark.parametrize("with_redis", [True, False])
def test_start_and_join_are_limited_per_user(stock, client, openwebui, redis_server, with_redis):
    srv = served(stock, openwebui, redis_server if with_redis else None)
    ann = member(client, srv, "ann")
    for _ in range(10):
        assert send(ann, "join", session="none")["ok"] is False  # counted, refused for its session
    started = send(ann, "start")
    assert started == {"ok": False, "error": REJECTED}, "the 11th start or join in a minute"
    assert send(ann, "status")["ok"] is True, "other requests have their own window"
