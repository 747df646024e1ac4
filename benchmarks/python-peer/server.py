"""The python-socketio peer of palisade-bench: the stack Open WebUI runs (python-socketio
AsyncServer on uvicorn), with handlers equivalent to PalisadeTestServer's.

Events (all on namespace /, path /ws/socket.io):
  connect               auth {"token": JWT} checked with PyJWT HS256 against PALISADE_JWT_SECRET
                        (no check when the variable is unset)
  echo, message-with-ack  acks with the arguments it got
  join                  room as a string or {"room": name}; acks true
  broadcast             [room, event, payload] (test server form) or {"room": name, ...}
                        (re-emitted as "broadcast"); to the room except the sender; acks true
  ydoc:document:join    / ydoc:document:update / ydoc:document:leave: Open WebUI's in-memory
                        relay (updates appended to a list, state rebuilt with pycrdt on join,
                        oldest half merged when the list reaches 500)

With PEER_REDIS_URL set (e.g. redis://127.0.0.1:6379/0), rooms and emits go through
python-socketio's stock AsyncRedisManager on that Redis (channel `socketio`), so several peers
act as one server (benchmarks/redis-fanout.sh).

usage: python server.py [--host 127.0.0.1] [--port 8090]
"""

import argparse
import os

import jwt
import pycrdt
import socketio
import uvicorn

SECRET = os.environ.get("PALISADE_JWT_SECRET")
REDIS_URL = os.environ.get("PEER_REDIS_URL")
COMPACT_AT = 500  # Open WebUI's YdocManager threshold

sio = socketio.AsyncServer(
    async_mode="asgi",
    cors_allowed_origins="*",
    logger=False,
    engineio_logger=False,
    client_manager=socketio.AsyncRedisManager(REDIS_URL) if REDIS_URL else None,
)
app = socketio.ASGIApp(sio, socketio_path="ws/socket.io")

SESSION_POOL = {}  # sid -> user (Open WebUI keeps the decoded user here)
DOC_UPDATES = {}  # document_id -> [list of int]
DOC_USERS = {}  # document_id -> set of sids


@sio.event
async def connect(sid, environ, auth):
    if SECRET is None:
        SESSION_POOL[sid] = {"id": sid}
        return True
    token = auth.get("token") if isinstance(auth, dict) else None
    if not token:
        raise socketio.exceptions.ConnectionRefusedError("missing token")
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_aud": False})
    except jwt.PyJWTError as error:
        raise socketio.exceptions.ConnectionRefusedError(f"invalid token: {error}")
    SESSION_POOL[sid] = {"id": claims.get("sub")}
    return True


@sio.event
async def disconnect(sid, *args):
    SESSION_POOL.pop(sid, None)
    for document_id in [d for d, users in DOC_USERS.items() if sid in users]:
        DOC_USERS[document_id].discard(sid)
        if not DOC_USERS[document_id]:
            DOC_USERS.pop(document_id, None)
            DOC_UPDATES.pop(document_id, None)


@sio.on("echo")
async def echo(sid, *args):
    return args


@sio.on("message-with-ack")
async def message_with_ack(sid, *args):
    return args


@sio.on("join")
async def join(sid, data=None):
    room = data.get("room") if isinstance(data, dict) else data
    if not isinstance(room, str):
        return False
    await sio.enter_room(sid, room)
    return True


@sio.on("broadcast")
async def broadcast(sid, *args):
    if len(args) >= 3 and isinstance(args[0], str) and isinstance(args[1], str):
        await sio.emit(args[1], args[2], room=args[0], skip_sid=sid)
    elif args and isinstance(args[0], dict) and isinstance(args[0].get("room"), str):
        await sio.emit("broadcast", args[0], room=args[0]["room"], skip_sid=sid)
    return True


def document_state(document_id):
    updates = DOC_UPDATES.get(document_id) or []
    doc = pycrdt.Doc()
    for update in updates:
        doc.apply_update(bytes(update))
    return list(doc.get_update())


@sio.on("ydoc:document:join")
async def ydoc_join(sid, data):
    document_id = data["document_id"]
    DOC_USERS.setdefault(document_id, set()).add(sid)
    DOC_UPDATES.setdefault(document_id, [])
    await sio.enter_room(sid, f"doc_{document_id}")
    state = document_state(document_id)
    sessions = sorted(DOC_USERS[document_id])
    await sio.emit("ydoc:document:state", {"document_id": document_id, "state": state, "sessions": sessions}, to=sid)
    await sio.emit(
        "ydoc:user:joined",
        {
            "document_id": document_id,
            "user_id": data.get("user_id", sid),
            "user_name": data.get("user_name", "Anonymous"),
            "user_color": data.get("user_color", "#000000"),
        },
        room=f"doc_{document_id}",
        skip_sid=sid,
    )


@sio.on("ydoc:document:update")
async def ydoc_update(sid, data):
    document_id = data["document_id"]
    room = f"doc_{document_id}"
    if room not in sio.rooms(sid):
        return
    update = data["update"]
    updates = DOC_UPDATES.setdefault(document_id, [])
    updates.append(update)
    if len(updates) >= COMPACT_AT:
        half = len(updates) // 2
        merged = pycrdt.merge_updates(*[bytes(u) for u in updates[:half]])
        DOC_UPDATES[document_id] = [list(merged)] + updates[half:]
    await sio.emit(
        "ydoc:document:update",
        {"document_id": document_id, "user_id": data.get("user_id", sid), "update": update, "socket_id": sid},
        room=room,
        skip_sid=sid,
    )


@sio.on("ydoc:document:leave")
async def ydoc_leave(sid, data):
    document_id = data["document_id"]
    await sio.leave_room(sid, f"doc_{document_id}")
    users = DOC_USERS.get(document_id)
    if users is not None:
        users.discard(sid)
        if not users:
            DOC_USERS.pop(document_id, None)
            DOC_UPDATES.pop(document_id, None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    arguments = parser.parse_args()
    uvicorn.run(
        app, host=arguments.host, port=arguments.port, loop="uvloop", http="httptools", ws="auto",
        log_level="warning", backlog=4096,
    )
