"""Open WebUI's direct connections (issue 18, item 3; reference §3.4): the browser sends a model's
answer line by line as events named `{user_id}:{sid}:{request}`, and they reach Open WebUI's
backend on `{prefix}:direct_completion` as {channel, data}, in arrival order. A real
`palisade serve` with the stock profile and a real redis-server; redis-py listens as the
backend's listener does."""

from __future__ import annotations

import json
import time

import redis

from redis_process import redis_server  # noqa: F401 (fixture)
from stock import client, mint, stock  # noqa: F401 (fixtures)
from test_distributed_health import wait_health


def listen(redis_server):
    listener = redis.Redis.from_url(redis_server.url).pubsub(ignore_subscribe_messages=True)
    listener.subscribe("palisade:direct_completion")
    return listener


def received(listener, count, timeout=10.0):
    got, deadline = [], time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        message = listener.get_message(timeout=0.5)
        if message:
            got.append(json.loads(message["data"]))
    return got


def test_a_streams_lines_reach_the_backend_in_order(stock, client, redis_server):
    srv = stock(PALISADE_REDIS_URL=redis_server.url)
    wait_health(srv, "up")
    listener = listen(redis_server)
    c = client(srv).connect(mint("u1"))
    channel = f"u1:{c.sid}:req-1"
    lines = [f"data: {{\"n\": {n}}}" for n in range(200)] + [{"done": True}]
    for line in lines:
        c.emit(channel, line)
    got = received(listener, len(lines))
    assert [m["data"] for m in got] == lines, "lines lost or out of order"
    assert {m["channel"] for m in got} == {channel}
    c.no_error()
    listener.close()


def test_another_users_stream_is_refused_and_not_relayed(stock, client, redis_server):
    srv = stock(PALISADE_REDIS_URL=redis_server.url)
    wait_health(srv, "up")
    listener = listen(redis_server)
    c = client(srv).connect(mint("u2"))
    c.emit(f"u1:{c.sid}:req-1", "data: forged")
    assert c.error()["message"] == "not your stream"
    anonymous = client(srv).connect()
    anonymous.emit("u1:x:req-1", "data: forged")
    assert received(listener, 1, timeout=1.0) == []
    listener.close()
