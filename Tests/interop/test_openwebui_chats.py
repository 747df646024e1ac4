"""Shared chats as Open WebUI 0.12.4 has them (issue 18, item 3; reference §3.5): `events:chat`
`join`/`leave` of `chat:{id}` (authorized by Open WebUI's `GET /api/v1/chats/{id}`), presence
sent to the room after each, the socket's `chat_ids` in the session pool, and `typing` relayed to
the room's others from sockets that may write. A real `palisade serve` with the stock profile
against a stand-in for Open WebUI's API; one test with Redis reads the session pool."""

from __future__ import annotations

import json
import time

from fake_openwebui import openwebui  # noqa: F401 (fixture)
from redis_process import redis_server  # noqa: F401 (fixture)
from stock import client, mint, stock  # noqa: F401 (fixtures)

CHAT = "0b9c6a9e-chat"


def served(stock, openwebui, **env):
    for uid in ("ann", "bob", "cat"):
        openwebui.add_user(uid, name=uid.capitalize())
    openwebui.chats[CHAT] = {"owner": "ann", "readers": {"bob"}, "writers": set()}
    return stock(PALISADE_OPENWEBUI_URL=openwebui.url, **env)


def chat(c, kind, **data):
    payload = {"chat_id": CHAT, "data": {"type": kind, **({"data": data} if data else {})}}
    return c.call("events:chat", payload)


def presence_reaches(c, expected, timeout=5.0) -> bool:
    """Whether a `chat:presence` listing exactly `expected` (user ids) reaches `c` in time; the
    presences before it (earlier joins) are passed over."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for (payload,) in c.drain("events"):
            if payload.get("data", {}).get("type") == "chat:presence":
                if [user["id"] for user in payload["data"]["data"]["users"]] == expected:
                    return True
        time.sleep(0.02)
    return False


def test_join_presence_typing_and_leave(stock, client, openwebui):
    srv = served(stock, openwebui)
    ann = client(srv, events=("events",)).connect(mint("ann"))
    bob = client(srv, events=("events",)).connect(mint("bob"))
    assert chat(ann, "join") is True
    assert presence_reaches(ann, ["ann"])
    assert chat(bob, "join") is True
    assert presence_reaches(ann, ["ann", "bob"]) and presence_reaches(bob, ["ann", "bob"])
    # Typing from a writer reaches the others only.
    assert chat(ann, "typing", typing=True) is True
    (notice,) = [p for (p,) in [bob.next("events")] if p["data"]["type"] == "typing"]  # presences drained above
    assert notice == {"chat_id": CHAT, "user_id": "ann", "user": {"id": "ann", "name": "Ann"}, "shared": True,
                      "data": {"type": "typing", "data": {"typing": True}}}
    ann.nothing("events", wait=0.3)
    # A reader may not type in it.
    assert chat(bob, "typing", typing=True) is False
    assert chat(bob, "leave") is True
    assert presence_reaches(ann, ["ann"])


def test_a_chat_the_user_cannot_read_is_not_joined(stock, client, openwebui):
    srv = served(stock, openwebui)
    cat = client(srv, events=("events",)).connect(mint("cat"))
    assert chat(cat, "join") is False
    (session,) = srv.admin("GET", "sessions?user_id=cat").json()
    assert f"chat:{CHAT}" not in session["rooms"]
    assert chat(cat, "typing", typing=True) is False, "typing into a chat one is not in"


def test_unsaved_chat_ids_have_no_room(stock, client, openwebui):
    srv = served(stock, openwebui)
    ann = client(srv).connect(mint("ann"))
    assert ann.call("events:chat", {"chat_id": "local:abc", "data": {"type": "join"}}) is False


def test_a_disconnect_updates_the_presence(stock, client, openwebui):
    srv = served(stock, openwebui)
    ann = client(srv, events=("events",)).connect(mint("ann"))
    bob = client(srv, events=("events",)).connect(mint("bob"))
    assert chat(ann, "join") is True and chat(bob, "join") is True
    assert presence_reaches(ann, ["ann", "bob"])
    bob.sio.disconnect()
    assert presence_reaches(ann, ["ann"]), "bob's disconnect did not update the presence"


def test_chat_ids_are_in_the_session_pool(stock, client, openwebui, redis_server):
    srv = served(stock, openwebui, PALISADE_REDIS_URL=redis_server.url)
    ann = client(srv).connect(mint("ann"))
    assert chat(ann, "join") is True
    entry = json.loads(redis_server.command("HGET", "open-webui:session_pool", ann.sid).split(b"\r\n")[1])
    assert entry["chat_ids"] == [CHAT] and entry["id"] == "ann" and entry["email"] == "ann@example.com"
    assert chat(ann, "leave") is True
    entry = json.loads(redis_server.command("HGET", "open-webui:session_pool", ann.sid).split(b"\r\n")[1])
    assert entry["chat_ids"] == []


def test_presence_takes_turns_with_open_webuis_lock(stock, client, openwebui, redis_server):
    """The presence is sent under `{prefix}:chat:{id}:presence:lock`, the lock Open WebUI's
    backend (its reaper, its own socket server) takes with redis-py: while the backend holds it,
    no presence goes out from Palisade; once free, the next one does, and Palisade's lock is
    released after it."""
    import redis

    srv = served(stock, openwebui, PALISADE_REDIS_URL=redis_server.url)
    ann = client(srv, events=("events",)).connect(mint("ann"))
    backend = redis.Redis.from_url(redis_server.url)
    lock = backend.lock(f"open-webui:chat:{CHAT}:presence:lock", timeout=60)
    assert lock.acquire(blocking=False)
    assert chat(ann, "join") is True, "the join itself does not wait for the presence"
    assert not presence_reaches(ann, ["ann"], timeout=0.6), "a presence went out under the backend's lock"
    lock.release()
    assert chat(ann, "leave") is True and chat(ann, "join") is True
    assert presence_reaches(ann, ["ann"])
    assert backend.get(f"open-webui:chat:{CHAT}:presence:lock") is None, "Palisade released its lock"


def test_presence_reads_the_chats_sockets_not_the_whole_session_pool(stock, client, openwebui, redis_server):
    """A session pool of more than 10 000 entries (px.store.hgetall's bound, which the presence
    once read whole) still gives presences: they come from the chat's own sockets."""
    import redis

    backend = redis.Redis.from_url(redis_server.url)
    pipe = backend.pipeline()
    for index in range(10_050):
        pipe.hset("open-webui:session_pool", f"other-{index}", json.dumps({"id": f"x{index}", "chat_ids": []}))
    pipe.execute()
    srv = served(stock, openwebui, PALISADE_REDIS_URL=redis_server.url)
    ann = client(srv, events=("events",)).connect(mint("ann"))
    bob = client(srv, events=("events",)).connect(mint("bob"))
    assert chat(ann, "join") is True and chat(bob, "join") is True
    assert presence_reaches(ann, ["ann", "bob"])
    bob.sio.disconnect()
    assert presence_reaches(ann, ["ann"])
    assert backend.hkeys(f"open-webui:palisade:chat:{CHAT}:sessions") == [ann.sid.encode()]
