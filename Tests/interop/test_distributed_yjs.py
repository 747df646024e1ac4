"""Yjs documents shared by every instance through Redis (issue 17): two `palisade serve` on one
Redis with the stock profile. Editors on either instance converge, a joiner on one instance gets
what was written through the other, `ydoc:user:joined`/`left` and `sessions` span the instances,
the size and value budgets are the document's (not each instance's), and Redis killed in the middle of
editing loses no update that was relayed to anyone."""

from __future__ import annotations

import json
import time

import pytest
from pycrdt import Doc, Text

from redis_process import RedisProcess, redis_server  # noqa: F401 (fixture)
from stock import client, stock  # noqa: F401 (fixtures)
from test_distributed_health import wait_health
from test_yjs_limits import gc_skip_runs, settle
from test_yjs_relay import DOC, ROOT, Editor, editor, setup_directory, text_of  # noqa: F401 (fixtures)

KEY = "palisade:ydoc:documents:" + DOC


def two_instances(stock, redis_url: str, **env):
    servers = [setup_directory(stock(PALISADE_REDIS_URL=redis_url, **env)) for _ in range(2)]
    for srv in servers:
        wait_health(srv, "up")
    return servers


def redis_list(redis: RedisProcess, key: str) -> list[str]:
    """LRANGE key 0 -1, parsed from RESP (bulk strings only)."""
    reply = redis.command("LRANGE", key, "0", "-1").decode()
    lines = reply.split("\r\n")
    assert lines[0].startswith("*"), reply[:80]
    return [lines[i] for i in range(2, 2 * int(lines[0][1:]) + 1, 2)]


def test_editors_on_two_instances_converge_and_a_joiner_on_either_gets_everything(stock, editor, redis_server):
    first, second = two_instances(stock, redis_server.url)
    ann, bob = editor(first, "ann"), editor(second, "bob")
    assert ann.join()["state"] == [0, 0]
    bob.join()  # its state comes once the room crosses to it: no update after it is missed
    for round_ in range(5):
        ann.type(0, f"<ann{round_}>")
        bob.type(0, f"<bob{round_}>")
        ann.receive()
        bob.receive()
    assert str(ann) == str(bob)
    assert all(f"<ann{n}>" in str(ann) and f"<bob{n}>" in str(ann) for n in range(5)), str(ann)
    ann.stored()
    bob.stored()
    # A late joiner on each instance gets the whole document, both instances' edits included.
    for srv, user in ((first, "cat"), (second, "w1")):
        assert text_of(editor(srv, user).join()["state"]) == str(ann)
    # Redis holds it as Open WebUI reads it: JSON int arrays, one update each, that pycrdt merges.
    elements = redis_list(redis_server, KEY + ":updates")
    assert len(elements) == 10
    doc = Doc()
    text = doc.get(ROOT, type=Text)
    for element in elements:
        doc.apply_update(bytes(json.loads(element)))
    assert str(text) == str(ann)
    assert int(redis_server.command("GET", KEY + ":size").split(b"\r\n")[1]) == sum(len(json.loads(e)) for e in elements)


def test_user_joined_and_left_reach_an_editor_on_the_other_instance(stock, editor, redis_server):
    first, second = two_instances(stock, redis_server.url)
    ann = editor(first, "ann")
    ann.join()
    bob = editor(second, "bob")
    bob.join()
    (joined,) = ann.client.next("ydoc:user:joined")
    assert joined["user_id"] == "bob"
    cat = editor(second, "cat")
    cat.join(user_color="#00FF00")
    (joined,) = ann.client.next("ydoc:user:joined")
    assert joined == {"document_id": DOC, "user_id": "cat", "user_name": "Cat", "user_color": "#00FF00"}, joined
    cat.client.emit("ydoc:document:leave", {"document_id": DOC})
    (left,) = ann.client.next("ydoc:user:left")
    assert left == {"document_id": DOC, "user_id": "cat"}
    bob.client.sio.disconnect()
    (left,) = ann.client.next("ydoc:user:left")
    assert left == {"document_id": DOC, "user_id": "bob"}


def test_sessions_lists_the_writers_of_both_instances(stock, editor, redis_server):
    first, second = two_instances(stock, redis_server.url)
    ann, rita, bob = editor(first, "ann"), editor(second, "rita"), editor(second, "bob")
    assert ann.join()["sessions"] == [ann.sid]
    assert rita.join()["sessions"] == [ann.sid], "a read-only editor is not a writer"
    assert bob.join()["sessions"] == sorted([ann.sid, bob.sid])
    ann.client.emit("ydoc:document:state", {"document_id": DOC})
    (state,) = ann.client.next("ydoc:document:state")
    assert state["sessions"] == sorted([ann.sid, bob.sid])
    # leaving and disconnecting take a writer off the list, wherever it was
    bob.client.emit("ydoc:document:leave", {"document_id": DOC})
    cat = editor(second, "cat")
    deadline = time.monotonic() + 5
    while True:
        cat.client.emit("ydoc:document:join", {"document_id": DOC})
        (state,) = cat.client.next("ydoc:document:state")
        if state["sessions"] == sorted([ann.sid, cat.sid]):
            break
        assert time.monotonic() < deadline, state["sessions"]
        time.sleep(0.1)
    ann.client.sio.disconnect()
    deadline = time.monotonic() + 5
    while True:
        cat.client.emit("ydoc:document:state", {"document_id": DOC})
        (state,) = cat.client.next("ydoc:document:state")
        if state["sessions"] == [cat.sid]:
            break
        assert time.monotonic() < deadline, state["sessions"]
        time.sleep(0.1)


def test_the_size_budget_is_the_documents_across_instances(stock, editor, redis_server):
    first, second = two_instances(stock, redis_server.url, PALISADE_YJS_MAX_DOCUMENT_BYTES="300")
    ann, bob = editor(first, "ann"), editor(second, "bob")
    ann.join()
    bob.join()
    stored = 0
    for n in range(20):
        sender, receiver = (ann, bob) if n % 2 == 0 else (bob, ann)
        update = sender.edit(lambda t, n=n: t.insert(len(t), f"[{n:02}]" + "x" * 20))
        sender.send(update)
        if stored + len(update) > 300:
            assert sender.client.error() == {"message": "document too large", "event": "ydoc:document:update"}
            receiver.client.nothing("ydoc:document:update", wait=0.5)
            break
        receiver.receive()
        stored += len(update)
    else:
        raise AssertionError("no update was refused")
    assert n >= 4, "both instances' updates count"
    receiver.client.no_error()
    assert int(redis_server.command("GET", KEY + ":size").split(b"\r\n")[1]) == stored


def test_the_value_budget_is_the_documents_across_instances(stock, editor, redis_server):
    first, second = two_instances(stock, redis_server.url, PALISADE_YJS_MAX_DOCUMENT_VALUES="1000")
    ann, bob = editor(first, "ann"), editor(second, "bob")
    ann.join()
    bob.join()
    ann.send(gc_skip_runs(5, 1_200), binary=True)  # 597 values in 1 200 bytes
    assert settle(ann) == []
    bob.send(gc_skip_runs(6, 1_200), binary=True)  # as many again, through the other instance
    assert settle(bob) == ["document too large"]
    bob.send(gc_skip_runs(7, 600), binary=True)  # about 300 more fit
    assert settle(bob) == []


@pytest.fixture
def durable_redis(tmp_path):
    """A redis-server that keeps every acknowledged write across a kill (AOF, fsync always)."""
    server = RedisProcess(tmp_path / "redis-aof", ("--appendonly", "yes", "--appendfsync", "always"))
    yield server
    server.stop()


def token_update(token: str) -> bytes:
    """An update that inserts `token` at the start of the text, made by its own client: it depends
    on nothing, so it applies whatever else was stored or lost."""
    doc = Doc()
    text = doc.get(ROOT, type=Text)
    with doc.transaction():
        text.insert(0, token)
    return doc.get_update()


def test_redis_killed_in_the_middle_of_editing_loses_no_relayed_update(stock, editor, client, durable_redis):
    first, second = two_instances(stock, durable_redis.url)
    ann, cat = editor(first, "ann"), editor(first, "cat")  # cat sees ann's relays on the same instance
    bob = editor(second, "bob")
    for e in (ann, cat, bob):
        e.join()

    received: dict[str, set[str]] = {"cat": set(), "bob": set()}

    def collect():
        for name, e in (("cat", cat), ("bob", bob)):
            for (payload,) in e.client.drain("ydoc:document:update"):
                received[name].add(text_of(payload["update"]))

    sent, refused = [], []

    def edit(n: int) -> None:
        token = f"<{n}>"
        ann.send(token_update(token))
        sent.append(token)
        time.sleep(0.05)
        for (payload,) in ann.client.drain("error"):
            # Refused either by the store, or by the write re-check, whose note record (in the
            # shared directory) cannot be read while Redis is down: both fail closed.
            assert payload["event"] == "ydoc:document:update", payload
            assert payload["message"] in ("the update could not be stored", "access could not be checked"), payload
            refused.append(payload)
        collect()

    n = 0
    for _ in range(20):
        edit(n := n + 1)
    durable_redis.stop()
    for _ in range(20):
        edit(n := n + 1)
    wait_health(first, "down")
    for _ in range(10):
        edit(n := n + 1)
    dan = editor(second, "w1")
    dan.emit_join()
    # Refused: the read check cannot read the note's record, or the document cannot be loaded.
    assert dan.client.error()["message"] in ("the document could not be loaded", "access could not be checked")
    durable_redis.start()
    wait_health(first, "up", timeout=30)
    wait_health(second, "up", timeout=30)
    assert refused, "updates sent while Redis was down are refused"
    # Edits work again: an update from ann reaches bob on the other instance (once the room is back).
    back = n
    deadline = time.monotonic() + 20
    while not any(int(token[1:-1]) > back for token in received["bob"]):
        assert time.monotonic() < deadline, "edits do not cross instances after Redis came back"
        edit(n := n + 1)
        time.sleep(0.2)
        collect()
    time.sleep(0.5)
    collect()
    assert first.proc.poll() is None and second.proc.poll() is None
    final = text_of(editor(second, "w2").join()["state"])
    relayed = received["cat"] | received["bob"]
    assert relayed, "something was relayed"
    missing = [token for token in relayed if token not in final]
    assert not missing, f"relayed but not in Redis after it came back: {missing}"
    assert len(received["cat"]) < len(sent), "what Redis refused was not relayed"


def test_the_append_that_crosses_the_threshold_compacts_on_whichever_instance(stock, editor, redis_server):
    first, second = two_instances(stock, redis_server.url, PALISADE_YJS_COMPACT_UPDATES="8")
    ann, bob = editor(first, "ann"), editor(second, "bob")
    ann.join()
    bob.join()
    for n in range(30):
        sender, receiver = (ann, bob) if n % 3 else (bob, ann)
        sender.type(0, f"<{n}>")
        receiver.receive()
    ann.stored()
    deadline = time.monotonic() + 5
    while len(redis_list(redis_server, KEY + ":updates")) > 9:
        assert time.monotonic() < deadline, "the log was never compacted"
        time.sleep(0.1)
    elements = redis_list(redis_server, KEY + ":updates")
    snapshot_sequence = int(redis_server.command("GET", KEY + ":snapshot_sequence").split(b"\r\n")[1])
    assert snapshot_sequence + len(elements) - 1 == 30, "sequence numbers run on across compactions"
    # What Open WebUI would read (every element merged) and what a joiner gets are the whole document.
    doc = Doc()
    text = doc.get(ROOT, type=Text)
    for element in elements:
        doc.apply_update(bytes(json.loads(element)))
    assert str(text) == str(ann) == str(bob)
    assert all(f"<{n}>" in str(text) for n in range(30))
    assert text_of(editor(second, "cat").join()["state"]) == str(ann)
    assert int(redis_server.command("GET", KEY + ":size").split(b"\r\n")[1]) == sum(len(json.loads(e)) for e in elements)


def test_an_editor_that_leaves_while_redis_is_down_is_forgotten_once_it_is_back(stock, editor, durable_redis):
    first, second = two_instances(stock, durable_redis.url)
    ann, bob = editor(first, "ann"), editor(second, "bob")
    ann.join()
    assert bob.join()["sessions"] == sorted([ann.sid, bob.sid])
    durable_redis.stop()
    wait_health(second, "down")
    bob.client.sio.disconnect()
    time.sleep(0.5)
    durable_redis.start()
    wait_health(first, "up", timeout=30)
    deadline = time.monotonic() + 20
    while True:
        ann.client.emit("ydoc:document:state", {"document_id": DOC})
        try:
            (state,) = ann.client.next("ydoc:document:state", timeout=2)
            if state["sessions"] == [ann.sid]:
                break
        except AssertionError:  # the state request itself may fail while the link comes back
            ann.client.drain("error")
        assert time.monotonic() < deadline, "the editor that left while Redis was down is still listed"
        time.sleep(0.5)


# `initialize` (first write wins) across instances: the store's script stores a seed only into an
# empty document, so two instances seeding one new document keep exactly one seed.
def test_initialize_first_write_wins_across_instances(stock, editor, redis_server):
    first, second = two_instances(stock, redis_server.url)
    ann, bob = editor(first, "ann"), editor(second, "bob")
    ann.join()
    bob.join()
    seeds = {}
    for who, e in (("ann", ann), ("bob", bob)):
        doc = Doc()
        doc.get(ROOT, type=Text).insert(0, f"from {who}")
        seeds[who] = doc.get_update()
    first_ack = ann.client.call("ydoc:document:update", {"document_id": DOC, "update": list(seeds["ann"]), "initialize": True})
    second_ack = bob.client.call("ydoc:document:update", {"document_id": DOC, "update": list(seeds["bob"]), "initialize": True})
    assert bytes(first_ack) == seeds["ann"]
    seen = Doc()
    seen.apply_update(bytes(second_ack))
    assert str(seen.get(ROOT, type=Text)) == "from ann", "bob's ack is the document with ann's seed"
    assert len(redis_list(redis_server, KEY + ":updates")) == 1, "one seed stored"
    assert text_of(editor(second, "cat").join()["state"]) == "from ann"
