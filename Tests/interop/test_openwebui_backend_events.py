"""What Open WebUI 0.12.4's backend sends through Redis reaches the browser through Palisade with
the stock profile (reference §2.3 and §8 C): the chat stream to `user:{id}`, the shared copy to
`chat:{id}` without the sender, `events:channel` to a channel, `events:note` to a note's room after
`join-note`, `access:updated` to one sid followed by the backend's disconnect, and a `sio.call`
answered once. The backend side is python-socketio's write-only AsyncRedisManager, as Open WebUI
runs it with `WEBSOCKET_MANAGER=redis`."""

from __future__ import annotations

import asyncio
import time

import socketio

from fake_openwebui import openwebui  # noqa: F401 (fixture)
from redis_process import emit_write_only, redis_server  # noqa: F401 (fixture)
from stock import client, mint, stock  # noqa: F401 (fixtures)

NOTE, CHANNEL, CHAT = "n-1", "c-1", "chat-1"
EVENTS = ("events", "events:channel", "events:note", "access:updated")


def served(stock, openwebui, redis_server):
    for uid in ("ann", "bob"):
        openwebui.add_user(uid, name=uid.capitalize())
    openwebui.notes[NOTE] = {"owner": "ann", "readers": {"bob"}, "writers": set()}
    openwebui.channels[CHANNEL] = {"ann", "bob"}
    openwebui.chats[CHAT] = {"owner": "ann", "readers": {"bob"}, "writers": set()}
    return stock(PALISADE_OPENWEBUI_URL=openwebui.url, PALISADE_REDIS_URL=redis_server.url)


def signed_in(client, srv, uid):
    c = client(srv, events=EVENTS).connect(mint(uid))
    assert c.user_join(mint(uid))["id"] == uid
    return c


def test_backend_emits_reach_the_rooms_the_stock_profile_joined(stock, client, openwebui, redis_server):
    srv = served(stock, openwebui, redis_server)
    ann, bob = signed_in(client, srv, "ann"), signed_in(client, srv, "bob")
    url = redis_server.url
    # The chat stream, to the user's room.
    delta = {"chat_id": CHAT, "message_id": "m1", "data": {"type": "chat:completion", "data": {"content": "Hel"}}}
    emit_write_only(url, "events", delta, room="user:ann")
    assert ann.next("events") == (delta,)
    bob.nothing("events", wait=0.2)
    # The shared copy, to the chat's room minus the session that asked.
    assert ann.call("events:chat", {"chat_id": CHAT, "data": {"type": "join"}}) is True
    assert bob.call("events:chat", {"chat_id": CHAT, "data": {"type": "join"}}) is True
    time.sleep(0.2)
    ann.drain("events"), bob.drain("events")  # presences
    shared = {"chat_id": CHAT, "message_id": "m1", "user_id": "ann", "shared": True, "data": delta["data"]}
    emit_write_only(url, "events", shared, room=f"chat:{CHAT}", skip_sid=ann.sid)
    assert bob.next("events") == (shared,)
    ann.nothing("events", wait=0.2)
    # A channel message, to the channel's members (joined at user-join).
    message = {"channel_id": CHANNEL, "message_id": "x", "data": {"type": "message", "data": {"content": "hi"}},
               "user": {"id": "ann", "name": "Ann", "role": "user"}}
    emit_write_only(url, "events:channel", message, room=f"channel:{CHANNEL}")
    assert ann.next("events:channel") == (message,) and bob.next("events:channel") == (message,)
    # A note's REST update, to the sockets that sent join-note.
    assert bob.attempt("join-note", {"note_id": NOTE}) == "ok"
    note = {"id": NOTE, "title": "T", "data": {"content": {"md": "new"}}}
    emit_write_only(url, "events:note", note, room=f"note:{NOTE}")
    assert bob.next("events:note") == (note,)
    ann.nothing("events:note", wait=0.2)


def test_access_updated_then_the_backends_disconnect(stock, client, openwebui, redis_server):
    """`disconnect_sessions_for_users(..., refresh_access=True)`: `access:updated` to the sid,
    then a disconnect of that sid through the manager; the browser reconnects and refetches."""
    srv = served(stock, openwebui, redis_server)
    bob = signed_in(client, srv, "bob")
    emit_write_only(redis_server.url, "access:updated", {}, to=bob.sid)
    assert bob.next("access:updated") == ({},)

    async def disconnect():
        manager = socketio.AsyncRedisManager(redis_server.url, write_only=True)
        socketio.AsyncServer(client_manager=manager)  # what Open WebUI's `sio` is
        await manager.disconnect(bob.sid, namespace="/")

    asyncio.run(disconnect())
    assert bob.disconnected.wait(5), "the backend's disconnect did not close the socket"


def test_a_backend_call_is_answered_once_by_the_browser(stock, client, openwebui, redis_server):
    """`get_event_call`: `sio.call('events', {...}, to=sid)` through Redis; the browser's answer
    goes back on the manager's channel."""
    srv = served(stock, openwebui, redis_server)
    ann = signed_in(client, srv, "ann")
    ann.sio.on("events", lambda payload: {"result": payload["data"]["data"]["code"].upper()})

    async def call():
        manager = socketio.AsyncRedisManager(redis_server.url)
        manager.set_server(socketio.AsyncServer(client_manager=manager))
        manager.initialize()
        await asyncio.sleep(0.3)  # its listener subscribes
        request = {"chat_id": CHAT, "message_id": "m1", "data": {"type": "execute:python", "data": {"code": "print"}}}
        return await manager.server.call("events", request, to=ann.sid, timeout=5)

    assert asyncio.run(call()) == {"result": "PRINT"}
