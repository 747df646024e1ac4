"""Rooms across processes on Redis, in python-socketio's pub/sub format (issue 17, item 3).

A real redis-server on a free port; PalisadeTestServer with ``--redis-url`` (RedisRoomAdapter); on the
other side python-socketio's own ``AsyncRedisManager`` (an external ``write_only`` emitter, as Open
WebUI's backend, and a full ``AsyncServer`` for ``sio.call``), raw redis-py PUBLISHes of the reference's
§3.3 messages, and a second Palisade instance.

Every wait is on an event with a deadline, never a fixed sleep: a CONNECT reply and a ``join``'s ack
come only once the SUBSCRIBEs asked for before are live in Redis (the PING fence).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
import redis
import socketio
from aiohttp import web

from redis_process import emit_write_only, free_port, redis_server  # noqa: F401 (fixture)
from wire import SIO_PATH, EventRecorder

HOST_ID = "9f1c2d3e4b5a69788796a5b4c3d2e1f0"  # an origin that is neither Palisade nor psio's manager


@pytest.fixture
def redis_url(redis_server):
    return redis_server.url


def _wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"{what} not met within {timeout} s")


def _connect(server, sio_client, *events):
    sio = sio_client()
    recorder = EventRecorder()
    for event in events:
        recorder.record(sio, event)
    # The CONNECT reply waits for the SUBSCRIBE of the sid's channel (the PING fence).
    sio.connect(server.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=10)
    return sio, recorder


def _palisade(server_factory, url, *flags):
    return server_factory("--redis-url", url, *flags)


def test_a_write_only_emit_to_a_room_reaches_its_members(server_factory, sio_client, redis_url):
    server = _palisade(server_factory, redis_url)
    a, ea = _connect(server, sio_client, "news")
    b, eb = _connect(server, sio_client, "news")
    assert a.call("join", "chat:1", timeout=10) is True

    emit_write_only(redis_url, "news", {"text": "hi", "n": [1, 2]}, room="chat:1")
    assert ea.get("news", timeout=10) == ({"text": "hi", "n": [1, 2]},)
    emit_write_only(redis_url, "news", ("two", "args"), room="chat:1")
    assert ea.get("news", timeout=10) == ("two", "args")
    assert eb.empty("news"), "a socket outside the room got the room's emit"


def test_a_write_only_emit_to_a_sid_and_with_skip_sid(server_factory, sio_client, redis_url):
    server = _palisade(server_factory, redis_url)
    a, ea = _connect(server, sio_client, "direct", "room-news")
    b, eb = _connect(server, sio_client, "direct", "room-news")

    emit_write_only(redis_url, "direct", "for a", to=a.get_sid())
    assert ea.get("direct", timeout=10) == ("for a",)

    for sio in (a, b):
        assert sio.call("join", "r", timeout=10) is True
    emit_write_only(redis_url, "room-news", "not for a", room="r", skip_sid=a.get_sid())
    assert eb.get("room-news", timeout=10) == ("not for a",)
    # The same emit reached b; a, skipped, would have had it by then (one Redis message, one delivery pass).
    emit_write_only(redis_url, "direct", "marker", to=a.get_sid())
    assert ea.get("direct", timeout=10) == ("marker",)
    assert ea.empty("room-news"), "skip_sid was not honoured"
    assert eb.empty("direct"), "an emit to a's sid reached b"


def test_binary_attachments_from_python_socketio(server_factory, sio_client, redis_url):
    server = _palisade(server_factory, redis_url)
    a, ea = _connect(server, sio_client, "blob")
    emit_write_only(redis_url, "blob", {"bytes": b"\x00\x01\xfe\xff", "name": "x"}, to=a.get_sid())
    assert ea.get("blob", timeout=10) == ({"bytes": b"\x00\x01\xfe\xff", "name": "x"},)


def _calls_from_python_socketio(redis_url, calls):
    """`sio.call`s from a server-side python-socketio process (as Open WebUI's backend), one after
    the other: (event, data, sid) each; their answers. Its manager listens on `socketio` for the
    callbacks Palisade publishes with the clients' answers, so the calls wait until it does."""
    observer = redis.Redis.from_url(redis_url)
    baseline = observer.pubsub_numsub("socketio")[0][1]

    async def run():
        sio = socketio.AsyncServer(client_manager=socketio.AsyncRedisManager(redis_url), async_mode="asgi")
        sio.manager.initialize()
        deadline = time.monotonic() + 10
        while observer.pubsub_numsub("socketio")[0][1] <= baseline:
            assert time.monotonic() < deadline, "python-socketio's listener did not subscribe"
            await asyncio.sleep(0.02)
        return [await sio.call(event, data, to=sid, timeout=15) for event, data, sid in calls]

    try:
        return asyncio.run(run())
    finally:
        observer.close()


def test_sio_call_round_trip_routes_the_ack_to_the_caller(server_factory, sio_client, redis_url):
    server = _palisade(server_factory, redis_url)
    a = sio_client()
    a.on("ask", lambda data: {"answer": data["q"] * 2})
    a.connect(server.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=10)
    assert _calls_from_python_socketio(redis_url, [("ask", {"q": 21}, a.get_sid())]) == [{"answer": 42}]


def test_sio_call_reaches_a_client_on_either_of_two_instances(server_factory, sio_client, redis_url):
    """Two Palisade instances and the app's python-socketio process as one server: a `sio.call` to a
    sid on either instance gets that client's answer, once, back at the caller."""
    first = _palisade(server_factory, redis_url)
    second = _palisade(server_factory, redis_url)
    answered = []
    clients = []
    for server, name in ((first, "first"), (second, "second")):
        sio = sio_client()
        sio.on("ask", lambda data, name=name: answered.append(name) or {"answer": data["q"] * 2, "from": name})
        sio.connect(server.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=10)
        clients.append(sio)
    calls = [("ask", {"q": 1}, clients[0].get_sid()), ("ask", {"q": 2}, clients[1].get_sid())]
    assert _calls_from_python_socketio(redis_url, calls) == [{"answer": 2, "from": "first"}, {"answer": 4, "from": "second"}]
    assert answered == ["first", "second"], "a call was answered by more than its one client"


def test_messages_exactly_as_the_reference_gives_them(server_factory, sio_client, redis_url):
    server = _palisade(server_factory, redis_url)
    a, ea = _connect(server, sio_client, "events", "chat-events")
    assert a.call("join", "user:2f0c", timeout=10) is True
    publisher = redis.Redis.from_url(redis_url)

    # orjson's compact form (Open WebUI's default) on the room's own channel.
    compact = (
        '{"method":"emit","event":"events","data":[{"chat_id":"c","data":{"type":"status"}}],"binary":false,'
        '"namespace":"/","room":"user:2f0c","skip_sid":null,"callback":null,"host_id":"' + HOST_ID + '"}'
    )
    assert publisher.publish("socketio#/#user:2f0c", compact) == 1
    assert ea.get("events", timeout=10) == ({"chat_id": "c", "data": {"type": "status"}},)

    # stdlib json's separators (ENABLE_ORJSON=False), to the sid's channel.
    sid = a.get_sid()
    spaced = json.dumps(
        {"method": "emit", "event": "chat-events", "data": ["x"], "binary": False, "namespace": "/", "room": sid,
         "skip_sid": None, "callback": None, "host_id": HOST_ID}
    )
    assert publisher.publish(f"socketio#/#{sid}", spaced) == 1
    assert ea.get("chat-events", timeout=10) == ("x",)

    # enter_room on `socketio` for a local sid, then an emit to that room's channel.
    enter = {"method": "enter_room", "sid": sid, "room": "note:n1", "namespace": "/", "host_id": HOST_ID}
    publisher.publish("socketio", json.dumps(enter))
    _wait_for(lambda: publisher.pubsub_numsub("socketio#/#note:n1")[0][1] == 1, what="room channel subscribed")
    assert a.call("rooms", timeout=10) == sorted(["user:2f0c", "note:n1", sid])
    leave = {"method": "leave_room", "sid": sid, "room": "note:n1", "namespace": "/", "host_id": HOST_ID}
    publisher.publish("socketio", json.dumps(leave))
    _wait_for(lambda: publisher.pubsub_numsub("socketio#/#note:n1")[0][1] == 0, what="room channel unsubscribed")
    publisher.close()


def test_a_remote_disconnect_closes_the_local_socket(server_factory, sio_client, redis_url):
    server = _palisade(server_factory, redis_url)
    a, _ = _connect(server, sio_client)
    publisher = redis.Redis.from_url(redis_url)
    message = {"method": "disconnect", "sid": a.get_sid(), "namespace": "/", "host_id": HOST_ID}
    publisher.publish("socketio", json.dumps(message))
    _wait_for(lambda: not a.connected, what="client disconnected")
    publisher.close()


def test_palisade_publishes_python_socketios_format_on_the_room_channel(server_factory, sio_client, redis_url):
    server = _palisade(server_factory, redis_url)
    a, _ = _connect(server, sio_client)
    assert a.call("join", "r", timeout=10) is True
    listener = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    listener.subscribe("socketio#/#r", "socketio")
    observer = redis.Redis.from_url(redis_url)
    _wait_for(lambda: observer.pubsub_numsub("socketio#/#r")[0][1] == 2, what="the test's subscription")
    observer.close()

    assert a.call("broadcast", ("r", "news", {"k": [1, "two"]}), timeout=10) is True
    message = None
    deadline = time.monotonic() + 10
    while message is None and time.monotonic() < deadline:
        message = listener.get_message(timeout=1)
    assert message is not None, "nothing published"
    assert message["channel"] == b"socketio#/#r"
    body = json.loads(message["data"])
    assert list(body) == ["method", "event", "data", "binary", "namespace", "room", "skip_sid", "callback", "host_id"]
    assert body["host_id"] and len(body["host_id"]) == 32
    body.pop("host_id")
    assert body == {
        "method": "emit", "event": "news", "data": [{"k": [1, "two"]}], "binary": False, "namespace": "/", "room": "r",
        "skip_sid": a.get_sid(), "callback": None,
    }
    listener.close()


def test_room_channels_are_subscribed_only_while_a_local_member_exists(server_factory, sio_client, redis_url):
    server = _palisade(server_factory, redis_url)
    observer = redis.Redis.from_url(redis_url)
    a, _ = _connect(server, sio_client)
    sid = a.get_sid()
    assert observer.pubsub_numsub(f"socketio#/#{sid}")[0][1] == 1
    assert observer.pubsub_numsub("socketio#/#r")[0][1] == 0
    assert a.call("join", "r", timeout=10) is True
    assert observer.pubsub_numsub("socketio#/#r")[0][1] == 1
    assert a.call("leave", "r", timeout=10) is True
    _wait_for(lambda: observer.pubsub_numsub("socketio#/#r")[0][1] == 0, what="unsubscribed after the last leave")
    a.disconnect()
    _wait_for(lambda: observer.pubsub_numsub(f"socketio#/#{sid}")[0][1] == 0, what="sid channel unsubscribed")
    observer.close()


@pytest.mark.parametrize("room_channels", ["true", "false"])
def test_two_palisade_instances_share_a_room(server_factory, sio_client, redis_url, room_channels):
    first = _palisade(server_factory, redis_url, "--redis-room-channels", room_channels)
    second = _palisade(server_factory, redis_url, "--redis-room-channels", room_channels)
    a, ea = _connect(first, sio_client, "news", "blob")
    b, eb = _connect(second, sio_client, "news", "blob")
    c, ec = _connect(second, sio_client, "news")
    for sio in (a, b):
        assert sio.call("join", "r", timeout=10) is True

    assert a.call("broadcast", ("r", "news", {"from": "first"}), timeout=10) is True
    assert eb.get("news", timeout=10) == ({"from": "first"},)
    assert b.call("broadcast", ("r", "news", "from second"), timeout=10) is True
    assert ea.get("news", timeout=10) == ("from second",)
    assert a.call("broadcast", ("r", "blob", b"\x00\xff"), timeout=10) is True
    assert eb.get("blob", timeout=10) == (b"\x00\xff",)
    assert b.call("rooms", timeout=10)  # a round trip on the second instance after the last delivery
    assert ea.empty("news") and ea.empty("blob"), "the sender got its own broadcast back"
    assert ec.empty("news"), "a socket outside the room got the broadcast"


def test_while_redis_is_down_rooms_stay_local_and_come_back_with_it(server_factory, sio_client, redis_server):
    server = _palisade(server_factory, redis_server.url)
    a, ea = _connect(server, sio_client, "news")
    b, eb = _connect(server, sio_client, "news")
    for sio in (a, b):
        assert sio.call("join", "r", timeout=10) is True

    redis_server.stop()
    started = time.monotonic()
    assert a.call("broadcast", ("r", "news", "local"), timeout=10) is True
    assert eb.get("news", timeout=10) == ("local",)
    # A join and a connect do not wait for the missing Redis (the fence fails fast).
    assert a.call("join", "joined-while-down", timeout=10) is True
    c, _ = _connect(server, sio_client)
    # Each wait is bounded by the command timeout (5 s) even if the loss were not yet noticed.
    assert time.monotonic() - started < 12, "something waited for Redis while it was down"

    redis_server.start()
    observer = redis.Redis.from_url(redis_server.url)
    for channel in ("socketio", f"socketio#/#{a.get_sid()}", "socketio#/#r", "socketio#/#joined-while-down", f"socketio#/#{c.get_sid()}"):
        _wait_for(lambda: observer.pubsub_numsub(channel)[0][1] == 1, timeout=30, what=f"{channel} resubscribed")
    emit_write_only(redis_server.url, "news", "after the outage", room="r")
    assert ea.get("news", timeout=10) == ("after the outage",)
    assert eb.get("news", timeout=10) == ("after the outage",)
    observer.close()


def test_redis_down_at_start_serves_locally_then_joins_the_cluster(server_factory, sio_client, redis_server):
    url = redis_server.url
    redis_server.stop()
    server = _palisade(server_factory, url, "--redis-wait", "0")
    a, ea = _connect(server, sio_client, "news")
    b, eb = _connect(server, sio_client, "news")
    for sio in (a, b):
        assert sio.call("join", "r", timeout=10) is True
    assert a.call("broadcast", ("r", "news", "local"), timeout=10) is True
    assert eb.get("news", timeout=10) == ("local",)

    redis_server.start()
    observer = redis.Redis.from_url(url)
    _wait_for(lambda: observer.pubsub_numsub("socketio#/#r")[0][1] == 1, timeout=30, what="room channel subscribed")
    emit_write_only(url, "news", "from python", room="r")
    assert ea.get("news", timeout=10) == ("from python",)
    assert eb.get("news", timeout=10) == ("from python",)
    observer.close()


class PythonSocketIOServer:
    """python-socketio's own AsyncServer (aiohttp) with its stock AsyncRedisManager, in a thread."""

    def __init__(self, redis_url):
        self.redis_url = redis_url
        self.port = free_port()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._thread.start()
        assert self._ready.wait(20), "python-socketio's server did not start"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _main(self):
        sio = socketio.AsyncServer(async_mode="aiohttp", client_manager=socketio.AsyncRedisManager(self.redis_url))

        @sio.on("join")
        async def join(sid, room):
            await sio.enter_room(sid, room)
            return True

        app = web.Application()
        sio.attach(app)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def stop(self):
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def test_a_palisade_broadcast_reaches_a_python_socketio_servers_client(server_factory, sio_client, redis_url):
    # python-socketio's stock manager listens on `socketio` only: the fleet runs without room channels.
    palisade = _palisade(server_factory, redis_url, "--redis-room-channels", "false")
    python_server = PythonSocketIOServer(redis_url)
    observer = redis.Redis.from_url(redis_url)
    p = sio_client()
    try:
        a, _ = _connect(palisade, sio_client, "news")
        assert a.call("join", "r", timeout=10) is True
        listeners = observer.pubsub_numsub("socketio")[0][1]
        ep = EventRecorder()
        ep.record(p, "news")
        p.connect(python_server.url, transports=["websocket"], wait_timeout=10)  # starts its manager's listener
        assert p.call("join", "r", timeout=10) is True
        _wait_for(lambda: observer.pubsub_numsub("socketio")[0][1] > listeners, what="python-socketio's listener subscribed")

        assert a.call("broadcast", ("r", "news", {"from": "palisade", "bytes": b"\x01\x02"}), timeout=10) is True
        assert ep.get("news", timeout=10) == ({"from": "palisade", "bytes": b"\x01\x02"},)
    finally:
        p.disconnect()
        observer.close()
        python_server.stop()


def test_a_call_on_the_sids_room_channel_answers_on_socketio_to_the_origin(server_factory, sio_client, redis_url):
    """Open WebUI's room-channel manager publishes a `sio.call` to `socketio#/#{sid}` (reference §3.3)."""
    server = _palisade(server_factory, redis_url)
    a = sio_client()
    a.on("execute:tool", lambda data: {"result": data["x"] + 1})
    a.connect(server.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=10)
    sid = a.get_sid()
    listener = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    listener.subscribe("socketio")
    publisher = redis.Redis.from_url(redis_url)
    _wait_for(lambda: publisher.pubsub_numsub("socketio")[0][1] == 2, what="the test's subscription")

    call = {
        "method": "emit", "event": "execute:tool", "data": [{"x": 41}], "binary": False, "namespace": "/", "room": sid,
        "skip_sid": None, "callback": [sid, "/", 5], "host_id": HOST_ID,
    }
    assert publisher.publish(f"socketio#/#{sid}", json.dumps(call, separators=(",", ":"))) == 1
    message = None
    deadline = time.monotonic() + 10
    while message is None and time.monotonic() < deadline:
        message = listener.get_message(timeout=1)
    assert message is not None, "no callback published"
    assert json.loads(message["data"]) == {
        "method": "callback", "host_id": HOST_ID, "sid": sid, "namespace": "/", "id": 5, "args": [{"result": 42}],
    }
    listener.close()
    publisher.close()


def test_close_room_empties_the_room_here(server_factory, sio_client, redis_url):
    server = _palisade(server_factory, redis_url)
    a, _ = _connect(server, sio_client)
    b, _ = _connect(server, sio_client)
    for sio in (a, b):
        assert sio.call("join", "doomed", timeout=10) is True
    publisher = redis.Redis.from_url(redis_url)
    publisher.publish("socketio", json.dumps({"method": "close_room", "room": "doomed", "namespace": "/", "host_id": HOST_ID}))
    _wait_for(lambda: a.call("member-count", "doomed", timeout=10) == 0, what="room closed")
    _wait_for(lambda: publisher.pubsub_numsub("socketio#/#doomed")[0][1] == 0, what="room channel unsubscribed")
    publisher.close()
