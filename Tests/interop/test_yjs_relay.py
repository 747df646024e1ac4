"""The core's Yjs relay (Open WebUI's `ydoc:*` events, reference §4) with the stock
policies and plugins: editors converge through it, read access is needed to join
and write access to update, updates are validated as Yjs, stored durably (restart,
kill -9), compacted, relayed with the server's identity; awareness is relayed but
never stored and is bounded; content snapshots are debounced into the directory
(`document_content/{id}`); `sessions` lists only editors that may write.

Every editor is a real python-socketio client with its own pycrdt document (a Text
at root "t"). pycrdt objects stay on the test's thread: the client's handler thread
only queues the events, and the test applies them (`Editor.receive`)."""

from __future__ import annotations

import json
import queue
import random
import shutil
import time

import pytest
from pycrdt import Doc, Text

from conftest import REPO_ROOT
from stock import Client, StockServer, _env, client, mint, stock  # noqa: F401 (fixtures)
from waiting import eventually
from wire import websocket_url, ws_connect, ws_recv, ws_recv_skipping_pings

EVENTS = ("ydoc:document:state", "ydoc:document:update", "ydoc:user:joined", "ydoc:user:left",
          "ydoc:awareness:update")
ROOT = "t"
DOC = "note:n1"

USERS = {"owner": "Olive", "ann": "Ann", "bob": "Bob", "cat": "Cat", "rita": "Rita", "sam": "Sam",
         **{f"w{i}": f"Writer {i}" for i in range(10)}}
WRITERS = ["ann", "bob", "cat", *(f"w{i}" for i in range(10))]
READERS = ["rita"]  # read grant only; "sam" has no grant at all


def setup_directory(srv: StockServer) -> StockServer:
    """Users with names, and note n1 owned by `owner`: WRITERS may write, rita may read, sam nothing."""
    for user_id, name in USERS.items():
        srv.put_record("user", user_id, {"id": user_id, "name": name, "role": "user"})
    srv.put_record("note", "n1", {"id": "n1", "user_id": "owner", "access_control": {
        "read": {"user_ids": READERS, "group_ids": []},
        "write": {"user_ids": WRITERS, "group_ids": []},
    }})
    return srv


def text_of(state) -> str:
    """The text a Yjs update (list of ints or bytes) gives a fresh document."""
    doc = Doc()
    text = doc.get(ROOT, type=Text)
    doc.apply_update(bytes(state))
    return str(text)


def pycrdt_rejects(update: bytes) -> bool:
    try:
        Doc().apply_update(update)
    except Exception:  # noqa: BLE001 - pycrdt raises its own error types
        return True
    return False


class Editor:
    """One browser tab editing a Yjs document: a socket and a pycrdt Doc."""

    def __init__(self, srv: StockServer, client_factory, user_id: str):
        self.user_id = user_id
        self.client: Client = client_factory(srv, events=EVENTS).connect(mint(user_id))
        self.doc = Doc()
        self.text = self.doc.get(ROOT, type=Text)
        # each transaction's own update, as Open WebUI's client sends it (doc.on('update'))
        self._updates: list[bytes] = []
        self._subscription = self.doc.observe(lambda event: self._updates.append(event.update))

    @property
    def sid(self) -> str:
        return self.client.sid

    # joining

    def emit_join(self, document_id: str = DOC, **claims) -> None:
        payload = {"document_id": document_id, "user_id": self.user_id, "user_name": USERS.get(self.user_id, "?"),
                   "user_color": "#FF0000"}
        payload.update(claims)
        self.client.emit("ydoc:document:join", {k: v for k, v in payload.items() if v is not None})

    def join(self, document_id: str = DOC, timeout: float = 5.0, **claims) -> dict:
        """Joins and applies the state it gets; that `ydoc:document:state` payload."""
        self.emit_join(document_id, **claims)
        deadline = time.monotonic() + timeout
        while self.client.events.empty("ydoc:document:state"):
            assert self.client.events.empty("error"), f"join refused: {self.client.error()!r}"
            assert time.monotonic() < deadline, f"no ydoc:document:state within {timeout} s"
            time.sleep(0.01)
        (state,) = self.client.next("ydoc:document:state")
        self.doc.apply_update(bytes(state["state"]))
        return state

    def join_refused(self, document_id: str = DOC) -> dict:
        """Joins expecting a refusal; the `error` payload (and no state)."""
        self.emit_join(document_id)
        error = self.client.error()
        self.client.nothing("ydoc:document:state", wait=0.3)
        return error

    # editing

    def edit(self, change) -> bytes:
        """Applies `change(text)` locally in one transaction; the Yjs update it made."""
        seen = len(self._updates)
        with self.doc.transaction():
            change(self.text)
        made = self._updates[seen:]
        assert len(made) <= 1, made
        return made[0] if made else b"\x00\x00"

    def send(self, update=None, document_id: str = DOC, data=None, binary: bool = False) -> None:
        payload = {"document_id": document_id}
        if update is not None:
            payload["update"] = bytes(update) if binary else list(update)
        if data is not None:
            payload["data"] = data
        self.client.emit("ydoc:document:update", payload)

    def type(self, index: int, chars: str, document_id: str = DOC) -> bytes:
        update = self.edit(lambda t: t.insert(index, chars))
        self.send(update, document_id)
        return update

    def append(self, chars: str) -> bytes:
        return self.type(len(str(self.text)), chars)

    def receive(self, count: int = 1, timeout: float = 5.0) -> list[dict]:
        """Waits for `count` relayed updates, applies them, returns their payloads."""
        got = []
        deadline = time.monotonic() + timeout
        for _ in range(count):
            (payload,) = self.client.next("ydoc:document:update", timeout=max(deadline - time.monotonic(), 0.01))
            self.doc.apply_update(bytes(payload["update"]))
            got.append(payload)
        return got

    def stored(self, document_id: str = DOC, timeout: float = 5.0) -> dict:
        """Waits until the server's state (`ydoc:document:state` again) has this editor's text:
        its updates are emitted asynchronously, so a later joiner could overtake them."""
        deadline = time.monotonic() + timeout
        while True:
            self.client.emit("ydoc:document:state", {"document_id": document_id})
            (state,) = self.client.next("ydoc:document:state")
            if text_of(state["state"]) == str(self):
                return state
            assert time.monotonic() < deadline, f"the server's state never reached {str(self)!r}"
            time.sleep(0.05)

    def __str__(self) -> str:
        return str(self.text)


@pytest.fixture
def editor(client):
    """``editor(srv, user_id)`` → a connected :class:`Editor`."""

    def make(srv: StockServer, user_id: str) -> Editor:
        return Editor(srv, client, user_id)

    return make


@pytest.fixture
def durable(tmp_path):
    """``durable(policy=None, **env)`` starts a stock server on ONE work dir (same data
    dir every time), so a test can stop or kill one and start the next on its data.
    ``ended(srv)`` marks a server stopped or killed on purpose; any other that died fails the test."""
    servers: list[StockServer] = []
    on_purpose: set[int] = set()

    def start(policy: dict | None = None, **env) -> StockServer:
        srv = StockServer(tmp_path / "durable", policy, env)
        servers.append(srv)
        return srv

    start.ended = lambda srv: on_purpose.add(id(srv))
    yield start
    crashed = [f"{s.args} exited with {s.proc.returncode}; stderr:\n{s.log_tail()}"
               for s in servers if id(s) not in on_purpose and s.proc.poll() is not None]
    for s in servers:
        s.stop()
    if crashed:
        pytest.fail("\n".join(crashed), pytrace=False)


# 1, 2: convergence


def test_two_editors_converge_with_concurrent_edits(stock, editor):
    srv = setup_directory(stock())
    ann, bob = editor(srv, "ann"), editor(srv, "bob")
    first = ann.join()
    assert first == {"document_id": DOC, "state": [0, 0], "sessions": [ann.sid], "content": None}
    bob.join()
    rng = random.Random(1)
    for round_ in range(5):
        # both edit before either sees the other's edit, each at a random word boundary
        boundaries = [0, *(i + 1 for i, ch in enumerate(str(ann)) if ch == ">")]
        ann.type(rng.choice(boundaries), f"<ann{round_}>")
        bob.type(rng.choice(boundaries), f"<bob{round_}>")
        (from_bob,) = ann.receive()
        (from_ann,) = bob.receive()
        assert set(from_ann) == {"document_id", "user_id", "update", "socket_id"}, from_ann
        assert (from_ann["document_id"], from_ann["user_id"], from_ann["socket_id"]) == (DOC, "ann", ann.sid)
        assert (from_bob["user_id"], from_bob["socket_id"]) == ("bob", bob.sid)
        assert all(isinstance(b, int) and 0 <= b <= 255 for b in from_ann["update"])
    assert str(ann) == str(bob)
    for round_ in range(5):
        assert f"<ann{round_}>" in str(ann) and f"<bob{round_}>" in str(ann), str(ann)
    # the server's copy agrees
    cat = editor(srv, "cat")
    assert text_of(cat.join()["state"]) == str(ann)
    ann.client.nothing("ydoc:document:update", wait=0)  # nobody gets its own updates back
    ann.client.no_error()
    bob.client.no_error()


def test_ten_editors_converge_and_a_late_joiner_has_every_word(stock, editor):
    srv = setup_directory(stock())
    editors = [editor(srv, f"w{i}") for i in range(10)]
    for e in editors:
        e.join()
    for i, e in enumerate(editors):
        e.type(0, f" word{i} ")
    for e in editors:
        e.receive(9, timeout=10)
    texts = {str(e) for e in editors}
    assert len(texts) == 1, texts
    (text,) = texts
    assert all(f" word{i} " in text for i in range(10)), text
    late = editor(srv, "ann")
    state = late.join()
    assert text_of(state["state"]) == text
    assert state["sessions"] == sorted([e.sid for e in editors] + [late.sid])
    for e in editors:
        e.client.no_error()
        e.client.nothing("ydoc:document:update", wait=0)


# 3, 4, 15: access


def test_read_only_user_follows_but_cannot_write(stock, editor):
    srv = setup_directory(stock())
    ann = editor(srv, "ann")
    ann.join()
    ann.append("hello")
    ann.stored()
    rita = editor(srv, "rita")
    state = rita.join()
    assert text_of(state["state"]) == "hello"
    assert state["sessions"] == [ann.sid], "a read-only editor is not among the writers"
    # it follows the writer's edits
    ann.append(" world")
    rita.receive()
    assert str(rita) == "hello world"
    # but its own update is refused and goes nowhere
    rita.append(" SPAM")
    error = rita.client.error()
    assert error["event"] == "ydoc:document:update" and "write" in error["message"], error
    ann.client.nothing("ydoc:document:update", wait=0.5)
    cat = editor(srv, "cat")
    assert text_of(cat.join()["state"]) == "hello world"
    # a content snapshot from it is refused as well (see also the content test)
    rita.send(data={"content": {"md": "SPAM"}})
    assert rita.client.error()["event"] == "ydoc:document:update"


def test_user_without_grant_gets_neither_state_nor_updates_in(stock, editor):
    srv = setup_directory(stock())
    ann = editor(srv, "ann")
    ann.join()
    ann.append("secret")
    ann.stored()
    sam = editor(srv, "sam")
    error = sam.join_refused()
    assert error == {"message": "no read access to note n1", "event": "ydoc:document:join"}, error
    ann.client.nothing("ydoc:user:joined", wait=0)
    # an update without a successful join is refused, stored nowhere, relayed nowhere
    update = sam.edit(lambda t: t.insert(0, "INTRUDER"))
    sam.send(update)
    error = sam.client.error()
    assert error == {"message": "join the document first", "event": "ydoc:document:update"}, error
    # a writer who did not join is refused too
    bob = editor(srv, "bob")
    bob.send(bob.edit(lambda t: t.insert(0, "NOT JOINED")))
    assert bob.client.error()["event"] == "ydoc:document:update"
    ann.client.nothing("ydoc:document:update", wait=0.3)
    sam.client.nothing("ydoc:document:update", wait=0)
    cat = editor(srv, "cat")
    assert text_of(cat.join()["state"]) == "secret"
    # the state event is refused to non-members as well
    sam.client.emit("ydoc:document:state", {"document_id": DOC})
    assert sam.client.error()["event"] == "ydoc:document:state"
    sam.client.nothing("ydoc:document:state", wait=0.2)


def test_seeding_rule_read_only_joiner_of_an_empty_document_is_not_told_to_seed(stock, editor):
    srv = setup_directory(stock())
    rita = editor(srv, "rita")
    assert rita.join() == {"document_id": DOC, "state": [0, 0], "sessions": [], "content": None}
    ann = editor(srv, "ann")
    assert ann.join() == {"document_id": DOC, "state": [0, 0], "sessions": [ann.sid], "content": None}
    bob = editor(srv, "bob")
    assert bob.join()["sessions"] == sorted([ann.sid, bob.sid])
    # the owner may write without any grant
    owner = editor(srv, "owner")
    assert owner.join()["sessions"] == sorted([ann.sid, bob.sid, owner.sid])


# 5: many updates, compaction


def typing_session(typist: Editor, count: int = 10_000) -> tuple[list[bytes], str]:
    """`count` one-character updates from `typist` (applied locally, not sent): typing,
    a backspace every 20th keystroke, the cursor moved elsewhere now and then."""
    rng = random.Random(5)
    expected: list[str] = []
    cursor = 0
    updates = []
    for i in range(count):
        if i % 20 == 19 and cursor > 0:  # backspace
            updates.append(typist.edit(lambda t, c=cursor: t.__delitem__(slice(c - 1, c))))
            del expected[cursor - 1]
            cursor -= 1
        else:
            if i % 97 == 0:  # click somewhere else
                cursor = rng.randint(0, len(expected))
            ch = chr(ord("a") + rng.randrange(26))
            updates.append(typist.edit(lambda t, c=cursor, s=ch: t.insert(c, s)))
            expected.insert(cursor, ch)
            cursor += 1
    text = "".join(expected)
    assert str(typist) == text
    return updates, text


FAST_UPDATES = {"ratelimit": {"updates": {"limit": 100000, "ip_limit": 100000, "window_s": 10}}}


def relay_all(srv: StockServer, typist: Editor, watcher: Editor, updates: list[bytes],
              in_flight: int | None) -> tuple[list[list[int]], float]:
    """Sends `updates` from `typist`, all at once or with at most `in_flight` not yet
    relayed, and collects what `watcher` gets: (relayed updates in arrival order, seconds).
    Fails as soon as one is refused (it would never be relayed)."""
    relayed: list[list[int]] = []
    errors: list = []
    started = time.monotonic()
    deadline = started + 100

    def collect(until: int) -> None:
        nonlocal errors
        while len(relayed) < until:
            errors += typist.client.drain("error")
            if errors or time.monotonic() > deadline:
                time.sleep(0.5)  # let the rest arrive, for the report
                errors += typist.client.drain("error")
                relayed.extend(p["update"] for (p,) in watcher.client.drain("ydoc:document:update"))
                pytest.fail(
                    f"{len(relayed)} of {len(updates)} updates relayed in {time.monotonic() - started:.1f} s; "
                    f"{len(errors)} refused: {sorted({e['message'] for (e,) in errors})}; first {errors[:3]!r}; "
                    "server warnings: "
                    f"{[line for line in srv.stderr_lines if 'warning' in line or 'error' in line][:3]}",
                    pytrace=False)
            try:
                (payload,) = watcher.client.events.q("ydoc:document:update").get(timeout=0.05)
            except queue.Empty:
                continue
            relayed.append(payload["update"])

    for sent, update in enumerate(updates, 1):
        typist.send(update)
        if in_flight and sent % in_flight == 0:
            collect(sent - in_flight)
    collect(len(updates))
    return relayed, time.monotonic() - started


def misplaced(relayed: list[list[int]], updates: list[bytes]) -> list[tuple[int, int]]:
    """(arrival position, sent index) of every update that arrived out of its place."""
    position = {bytes(u): i for i, u in enumerate(updates)}
    return [(at, position[bytes(u)]) for at, u in enumerate(relayed) if position[bytes(u)] != at]


@pytest.mark.timeout(150)
@pytest.mark.parametrize("in_flight", [None, 200], ids=["all-at-once", "200-in-flight"])
def test_ten_thousand_updates_give_a_compact_exact_state(stock, editor, in_flight):
    """10 000 updates from one writer, sent as fast as the client can (all at once) or
    with at most 200 not yet relayed: every one is accepted and relayed exactly once,
    and a new joiner gets a state far smaller than the updates that gives exactly the text."""
    srv = setup_directory(stock(FAST_UPDATES))
    typist, watcher = editor(srv, "ann"), editor(srv, "bob")
    typist.join()
    watcher.join()
    updates, expected_text = typing_session(typist)
    relayed, elapsed = relay_all(srv, typist, watcher, updates, in_flight)
    assert sorted(map(bytes, relayed)) == sorted(updates), "not every update was relayed exactly once"
    for update in relayed:
        watcher.doc.apply_update(bytes(update))
    assert str(watcher) == expected_text
    typist.client.no_error()
    newcomer = editor(srv, "cat")
    state = newcomer.join(timeout=30)
    total = sum(len(u) for u in updates)
    ratio = len(state["state"]) / total
    print(f"\n10000 updates ({in_flight or 'all'} in flight): {total} bytes relayed in {elapsed:.1f} s "
          f"({len(misplaced(relayed, updates))} out of order); join state {len(state['state'])} bytes; "
          f"ratio {ratio:.4f}")
    assert ratio < 0.25, f"state {len(state['state'])} bytes vs {total} bytes of updates"
    assert text_of(state["state"]) == expected_text


def test_one_editors_updates_are_relayed_in_the_order_sent(stock, editor):
    """Socket.IO keeps one connection's events in order, and so did Open WebUI's relay:
    the others get a writer's updates in the order it sent them. The watcher reads the
    raw WebSocket: python-engineio runs every message handler on a thread of its own,
    so the order its handlers see is not the order on the wire."""
    srv = setup_directory(stock(FAST_UPDATES))
    typist = editor(srv, "ann")
    typist.join()
    ws = ws_connect(websocket_url(srv))
    assert ws_recv(ws).startswith("0")
    ws.send("40" + json.dumps({"token": mint("bob")}))
    assert ws_recv_skipping_pings(ws).startswith("40")
    ws.send("42" + json.dumps(["ydoc:document:join", {"document_id": DOC, "user_id": "bob"}]))
    assert ws_recv_skipping_pings(ws).startswith('42["ydoc:document:state"')
    updates = [typist.edit(lambda t, i=i: t.insert(len(t), chr(ord("a") + i % 26))) for i in range(2000)]
    for update in updates:
        typist.send(update)
    relayed = []
    while len(relayed) < len(updates):
        try:
            frame = ws_recv_skipping_pings(ws, timeout=30)
        except TimeoutError:
            pytest.fail(f"{len(relayed)} of {len(updates)} relayed; typist errors {typist.client.drain('error')[:3]}; "
                        f"server: {[line for line in srv.stderr_lines if 'warning' in line or 'error' in line][:3]}")
        if frame.startswith('42["ydoc:document:update"'):
            relayed.append(bytes(json.loads(frame[2:])[1]["update"]))
    ws.close()
    moved = misplaced(relayed, updates)
    assert not moved, f"{len(moved)} updates out of order, (arrival position, sent index): {moved[:12]}"


# 6, 7: durability


def test_restart_keeps_the_document(durable, editor):
    srv = setup_directory(durable())
    ann = editor(srv, "ann")
    ann.join()
    for word in ("durable ", "across ", "restarts"):
        ann.append(word)
    ann.stored()
    bob = editor(srv, "bob")
    assert text_of(bob.join()["state"]) == "durable across restarts"  # all three are stored
    ann.client.sio.disconnect()
    bob.client.sio.disconnect()
    assert srv.stop() == 0, srv.log_tail()
    durable.ended(srv)
    again = setup_directory(durable())
    cat = editor(again, "cat")
    state = cat.join()
    assert text_of(state["state"]) == "durable across restarts"
    assert state["sessions"] == [cat.sid]
    # and it is still editable
    cat.append("!")
    cat.stored()
    dan = editor(again, "bob")
    assert text_of(dan.join()["state"]) == "durable across restarts!"


def test_kill_9_right_after_a_relay_keeps_the_update(durable, editor):
    srv = setup_directory(durable())
    ann, bob = editor(srv, "ann"), editor(srv, "bob")
    ann.join()
    bob.join()
    for i in range(20):
        ann.append(f"k{i} ")
    bob.receive(20)
    srv.proc.kill()  # SIGKILL the moment the last relay arrived
    srv.proc.wait(5)
    durable.ended(srv)
    again = setup_directory(durable())
    cat = editor(again, "cat")
    assert text_of(cat.join()["state"]) == str(bob) == "".join(f"k{i} " for i in range(20))


# 8, 9: what an update may be


def test_malformed_updates_are_refused_and_not_relayed(stock, editor):
    srv = setup_directory(stock())
    ann, bob = editor(srv, "ann"), editor(srv, "bob")
    ann.join()
    bob.join()
    ann.append("ok")
    bob.receive()
    rng = random.Random(8)
    garbage = next(b for b in (rng.randbytes(48) for _ in range(100)) if pycrdt_rejects(b))
    valid = ann.edit(lambda t: t.insert(2, " and more"))  # applied locally, never sent whole
    truncated = next(valid[:n] for n in range(len(valid) - 1, 0, -1) if pycrdt_rejects(valid[:n]))
    for bad in (garbage, truncated):
        ann.send(bad)
        error = ann.client.error()
        assert error == {"message": "malformed Yjs update", "event": "ydoc:document:update"}, error
    ann.client.emit("ydoc:document:update", {"document_id": DOC, "update": [1, 1, 256, 0]})
    error = ann.client.error()
    assert error["event"] == "ydoc:document:update", error  # the validate policy refuses it first
    bob.client.nothing("ydoc:document:update", wait=0.5)
    cat = editor(srv, "cat")
    assert text_of(cat.join()["state"]) == "ok"
    # the sender is still usable; the document still takes updates
    fresh = editor(srv, "ann")
    fresh.join()
    fresh.append("!")
    (relayed,) = bob.receive()
    assert relayed["socket_id"] == fresh.sid
    assert str(bob) == "ok!"
    ann.client.no_error()


def test_binary_attachment_update_is_accepted_and_relayed_as_ints(stock, editor):
    srv = setup_directory(stock())
    ann, bob = editor(srv, "ann"), editor(srv, "bob")
    ann.join()
    bob.join()
    update = ann.edit(lambda t: t.insert(0, "sent as Uint8Array"))
    ann.send(update, binary=True)
    (relayed,) = bob.receive()
    assert relayed["update"] == list(update), relayed
    assert str(bob) == "sent as Uint8Array"
    ann.client.no_error()
    cat = editor(srv, "cat")
    assert text_of(cat.join()["state"]) == "sent as Uint8Array"


# 10: content snapshots


def content_record(srv: StockServer):
    r = srv.admin("GET", f"directory/document_content/{DOC}")
    if r.status_code == 404:
        return None
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


def test_content_snapshots_are_debounced_last_writer_wins_and_need_write_access(stock, editor):
    srv = setup_directory(stock())
    ann, bob, rita = editor(srv, "ann"), editor(srv, "bob"), editor(srv, "rita")
    for e in (ann, bob, rita):
        e.join()
    from_ann = {"md": "from ann", "html": "<p>from ann</p>", "json": {"type": "doc", "content": []}}
    from_bob = {"md": "from bob", "html": "<p>from bob</p>", "json": {"type": "doc", "content": []}}
    update = ann.edit(lambda t: t.insert(0, "x"))
    ann.send(update, data={"content": from_ann})  # an update with its snapshot
    time.sleep(0.05)
    bob.send(data={"content": from_bob})  # a content refresh: no `update` key
    time.sleep(0.15)
    assert content_record(srv) is None, "the snapshot must wait for its debounce (0.5 s)"
    record = eventually(lambda: content_record(srv))
    assert record is not None, "no document_content record after the debounce"
    assert record["content"] == from_bob and record["user_id"] == "bob" and record["document_id"] == DOC, record
    assert "updated_at" in record, record
    for e in (ann, bob):
        e.client.no_error()
    bob.receive()  # ann's update itself was relayed
    # a read-only editor's snapshot is refused and never lands
    rita.send(data={"content": {"md": "from rita"}})
    error = rita.client.error()
    assert error["event"] == "ydoc:document:update", error
    time.sleep(1.0)
    assert content_record(srv)["content"] == from_bob


# 11: awareness


def test_awareness_is_relayed_to_the_others_and_never_stored(stock, editor):
    srv = setup_directory(stock())
    ann, bob, rita = editor(srv, "ann"), editor(srv, "bob"), editor(srv, "rita")
    ann.join()
    ann.append("text")
    ann.stored()
    bob.join()
    before = rita.join()["state"]
    cursor = list(b'\x01\x9a\x01\x01{"user":{"name":"Ann","color":"#FF0000"},"cursor":null}')
    ann.client.emit("ydoc:awareness:update", {"document_id": DOC, "update": cursor})
    for other in (bob, rita):  # read-only editors see cursors too
        (payload,) = other.client.next("ydoc:awareness:update")
        assert payload == {"document_id": DOC, "user_id": "ann", "update": cursor}, payload
    ann.client.nothing("ydoc:awareness:update", wait=0.3)
    ann.client.no_error()
    bob.client.nothing("ydoc:document:update", wait=0)
    cat = editor(srv, "cat")
    assert cat.join()["state"] == before, "awareness must not change the stored document"
    # only members may send it
    sam = editor(srv, "sam")
    sam.client.emit("ydoc:awareness:update", {"document_id": DOC, "update": cursor})
    assert sam.client.error()["event"] == "ydoc:awareness:update"
    bob.client.nothing("ydoc:awareness:update", wait=0.3)


def test_awareness_size_limit(stock, editor):
    # the validate policy allows 16 KiB; the relay's own limit is lowered below it here
    srv = setup_directory(stock(PALISADE_YJS_MAX_AWARENESS_BYTES="2048"))
    ann, bob = editor(srv, "ann"), editor(srv, "bob")
    ann.join()
    bob.join()
    ann.client.emit("ydoc:awareness:update", {"document_id": DOC, "update": [7] * 2000})
    assert bob.client.next("ydoc:awareness:update")[0]["update"] == [7] * 2000
    ann.client.emit("ydoc:awareness:update", {"document_id": DOC, "update": [7] * 3000})
    error = ann.client.error()
    assert error == {"message": "awareness update too large", "event": "ydoc:awareness:update"}, error
    bob.client.nothing("ydoc:awareness:update", wait=0.3)


def test_awareness_over_32_kib_is_refused_with_default_settings(stock, editor):
    srv = setup_directory(stock())
    ann, bob = editor(srv, "ann"), editor(srv, "bob")
    ann.join()
    bob.join()
    ann.client.emit("ydoc:awareness:update", {"document_id": DOC, "update": [7] * (33 << 10)})
    assert ann.client.error()["event"] == "ydoc:awareness:update"
    bob.client.nothing("ydoc:awareness:update", wait=0.3)


def test_awareness_rate_limit(stock, editor):
    srv = setup_directory(stock(PALISADE_YJS_AWARENESS_RATE="5"))
    ann, bob = editor(srv, "ann"), editor(srv, "bob")
    ann.join()
    bob.join()
    started = time.monotonic()
    for i in range(12):
        ann.client.emit("ydoc:awareness:update", {"document_id": DOC, "update": [1, i]})
    error = ann.client.error()
    assert error == {"message": "awareness rate limit exceeded", "event": "ydoc:awareness:update"}, error
    time.sleep(0.3)
    elapsed = time.monotonic() - started
    got = bob.client.drain("ydoc:awareness:update")
    refused = 1 + len(ann.client.drain("error"))
    assert len(got) + refused == 12, (len(got), refused)
    assert 5 <= len(got) <= 5 + int(elapsed * 5) + 1, (len(got), elapsed)
    assert [p["update"][1] for (p,) in got] == sorted(p["update"][1] for (p,) in got)
    # the budget refills
    time.sleep(1.1)
    ann.client.emit("ydoc:awareness:update", {"document_id": DOC, "update": [1, 99]})
    assert bob.client.next("ydoc:awareness:update")[0]["update"] == [1, 99]


# 12: leaving


def test_leave_and_disconnect_tell_the_others_and_drop_the_session(stock, editor):
    srv = setup_directory(stock())
    ann, bob, cat = editor(srv, "ann"), editor(srv, "bob"), editor(srv, "cat")
    for e in (ann, bob, cat):
        e.join()
    bob_sid = bob.sid
    bob.client.sio.disconnect()
    for e in (ann, cat):
        (left,) = e.client.next("ydoc:user:left")
        assert left == {"document_id": DOC, "user_id": "bob"}, left
    cat.client.emit("ydoc:document:leave", {"document_id": DOC})
    (left,) = ann.client.next("ydoc:user:left")
    assert left == {"document_id": DOC, "user_id": "cat"}, left
    cat.client.no_error(wait=0.2)
    # a left editor no longer gets updates, nor may send them
    ann.append("after")
    ann.stored()
    cat.client.nothing("ydoc:document:update", wait=0.3)
    cat.append("late")
    assert cat.client.error()["event"] == "ydoc:document:update"
    dan = editor(srv, "w1")
    state = dan.join()
    assert bob_sid not in state["sessions"] and cat.sid not in state["sessions"]
    assert state["sessions"] == sorted([ann.sid, dan.sid])
    assert text_of(state["state"]) == "after"


# 13, 14: identifiers and identity


def test_note_underscore_id_is_the_same_document_and_checked_as_the_note(stock, editor):
    srv = setup_directory(stock())
    ann, bob = editor(srv, "ann"), editor(srv, "bob")
    ann.join("note:n1")
    state = bob.join("note_n1")
    assert state["document_id"] == "note:n1"
    assert state["sessions"] == sorted([ann.sid, bob.sid])
    (joined,) = ann.client.next("ydoc:user:joined")
    assert joined["document_id"] == "note:n1"
    bob.type(0, "via note_", document_id="note_n1")
    (relayed,) = ann.receive()
    assert relayed["document_id"] == "note:n1"
    ann.append("!")
    bob.receive()
    assert str(ann) == str(bob) == "via note_!"
    sam = editor(srv, "sam")
    error = sam.join_refused("note_n1")
    assert error["event"] == "ydoc:document:join" and "n1" in error["message"], error
    rita = editor(srv, "rita")
    rita.join("note_n1")
    rita.type(0, "no", document_id="note_n1")
    assert rita.client.error()["event"] == "ydoc:document:update"
    ann.client.nothing("ydoc:document:update", wait=0.3)
    # other kinds map to their records: sheet:1 needs a `sheet/1` record
    other = editor(srv, "ann")
    assert other.join_refused("sheet:1")["event"] == "ydoc:document:join"
    srv.put_record("sheet", "1", {"id": "1", "user_id": "ann", "access_control": {}})
    assert other.join("sheet:1")["sessions"] == [other.sid]


def test_user_joined_shows_the_server_identity(stock, editor):
    srv = setup_directory(stock())
    ann, bob = editor(srv, "ann"), editor(srv, "bob")
    ann.join()
    bob.join(user_name="Mallory", user_color="#00FF00")  # its own id, another name
    (joined,) = ann.client.next("ydoc:user:joined")
    assert joined == {"document_id": DOC, "user_id": "bob", "user_name": "Bob", "user_color": "#00FF00"}, joined
    cat = editor(srv, "cat")
    cat.join(user_id=None, user_name=None, user_color=None)  # nothing claimed
    for e in (ann, bob):
        (joined,) = e.client.next("ydoc:user:joined")
        assert joined == {"document_id": DOC, "user_id": "cat", "user_name": "Cat", "user_color": "#000000"}, joined
    # another user's id: replaced with the joiner's own, as Open WebUI does for awareness
    w1 = editor(srv, "w1")
    w1.join(user_id="ann")
    for e in (ann, bob, cat):
        (joined,) = e.client.next("ydoc:user:joined")
        assert joined["user_id"] == "w1", joined
    # the joiner itself gets no user:joined about itself
    bob.client.nothing("ydoc:user:joined", wait=0)


class NoValidateServer(StockServer):
    """The stock policies without 40-validate: what the relay itself does with claims."""

    def __init__(self, workdir, env: dict):
        policies = workdir / "policies"
        policies.mkdir(parents=True)
        for module in (REPO_ROOT / "policies").glob("*.lua"):
            if module.name != "40-validate.lua":
                shutil.copy(module, policies / module.name)
        args = ["--port", "0", "--policies", str(policies), "--plugins", str(REPO_ROOT / "plugins"),
                "--data-dir", str(workdir / "data")]
        self.launch(args, _env(**env), workdir)


def test_relay_ignores_claimed_identity_even_without_the_validate_policy(tmp_path, editor):
    srv = NoValidateServer(tmp_path / "novalidate", {})
    try:
        setup_directory(srv)
        ann, bob = editor(srv, "ann"), editor(srv, "bob")
        ann.join()
        bob.join(user_id="ann", user_name="Ann")  # pretends to be ann
        (joined,) = ann.client.next("ydoc:user:joined")
        assert (joined["user_id"], joined["user_name"]) == ("bob", "Bob"), joined
        update = bob.edit(lambda t: t.insert(0, "x"))
        bob.client.emit("ydoc:document:update",
                        {"document_id": DOC, "update": list(update), "user_id": "ann", "socket_id": ann.sid})
        (relayed,) = ann.receive()
        assert (relayed["user_id"], relayed["socket_id"]) == ("bob", bob.sid), relayed
        bob.client.sio.disconnect()
        (left,) = ann.client.next("ydoc:user:left")
        assert left == {"document_id": DOC, "user_id": "bob"}, left
    finally:
        alive = srv.proc.poll() is None
        srv.stop()
        assert alive, f"server died: {srv.log_tail()}"


# 5 (limits as settings): update size, document size, documents per connection


def test_update_over_the_size_limit_is_refused_and_not_stored(stock, editor):
    srv = setup_directory(stock(PALISADE_YJS_MAX_UPDATE_BYTES="64"))
    ann, bob = editor(srv, "ann"), editor(srv, "bob")
    ann.join()
    bob.join()
    ann.send(ann.edit(lambda t: t.insert(0, "small")))
    bob.receive()
    big = ann.edit(lambda t: t.insert(0, "x" * 200))
    assert len(big) > 64
    ann.send(big)
    assert ann.client.error() == {"message": "update too large", "event": "ydoc:document:update"}
    bob.client.nothing("ydoc:document:update", wait=0.5)
    assert text_of(editor(srv, "cat").join()["state"]) == "small", "the refused update was not stored"


def test_document_over_the_size_limit_refuses_the_update_that_would_pass_it(stock, editor):
    srv = setup_directory(stock(PALISADE_YJS_MAX_DOCUMENT_BYTES="300"))
    ann, bob = editor(srv, "ann"), editor(srv, "bob")
    ann.join()
    bob.join()
    stored = ""
    for word in ("one ", "two ", "three "):
        ann.send(ann.edit(lambda t, w=word: t.insert(len(t), w)))
        bob.receive()
        stored += word
    ann.send(ann.edit(lambda t: t.insert(len(t), "y" * 400)))
    assert ann.client.error() == {"message": "document too large", "event": "ydoc:document:update"}
    bob.client.nothing("ydoc:document:update", wait=0.5)
    assert text_of(editor(srv, "cat").join()["state"]) == stored


def test_documents_per_connection_are_limited(stock, editor):
    srv = setup_directory(stock(PALISADE_YJS_MAX_DOCUMENTS_PER_CONNECTION="2"))
    for note in ("n2", "n3"):
        srv.put_record("note", note, {"id": note, "user_id": "ann", "access_control": {}})
    ann = editor(srv, "ann")
    ann.join("note:n1")
    ann.join("note:n2")
    ann.emit_join("note:n3")
    assert ann.client.error() == {"message": "too many documents open on this connection",
                                  "event": "ydoc:document:join"}
    ann.client.nothing("ydoc:document:state", wait=0.3)
    ann.client.emit("ydoc:document:leave", {"document_id": "note:n2"})
    ann.join("note:n3")  # leaving one makes room


# Open WebUI answers every event that asks for an ack (None for the Yjs events but `initialize`,
# below): so does the relay, with an empty ack.
def test_yjs_events_that_ask_for_an_ack_get_one(stock, editor):
    srv = setup_directory(stock())
    ann = editor(srv, "ann")
    # The ack comes at once; the join itself completes with its state.
    assert ann.client.call("ydoc:document:join", {"document_id": DOC, "user_id": "ann"}) is None
    ann.client.next("ydoc:document:state")
    for event, payload in (
        ("ydoc:document:state", {"document_id": DOC}),
        ("ydoc:awareness:update", {"document_id": DOC, "update": [123, 125]}),
        ("ydoc:document:update", {"document_id": DOC, "update": list(ann.edit(lambda t: t.insert(0, "x")))}),
    ):
        assert ann.client.call(event, payload) is None, event
    ann.stored()
    assert ann.client.call("ydoc:document:leave", {"document_id": DOC}) is None
    ann.client.no_error(wait=0.2)


# Open WebUI 0.12.4's first-write-wins `initialize`: the client seeding an empty document gets its
# own update back as the ack; a second seed is not stored, and its ack is the document as it is.
def test_initialize_first_write_wins(stock, editor):
    srv = setup_directory(stock())
    ann, bob = editor(srv, "ann"), editor(srv, "bob")
    ann.join()
    bob.join()
    seed_a = ann.edit(lambda t: t.insert(0, "from ann"))
    acked = ann.client.call("ydoc:document:update", {"document_id": DOC, "update": list(seed_a), "initialize": True})
    assert bytes(acked) == seed_a
    bob.receive()  # relayed as any stored update
    fresh = Doc()
    seed_b = Doc()
    seed_b.get(ROOT, type=Text).insert(0, "from bob")
    acked = bob.client.call("ydoc:document:update",
                            {"document_id": DOC, "update": list(seed_b.get_update()), "initialize": True})
    fresh.apply_update(bytes(acked))
    assert str(fresh.get(ROOT, type=Text)) == "from ann", "the second seed's ack is the document as it was"
    assert text_of(editor(srv, "cat").join()["state"]) == "from ann", "the second seed was stored"
    ann.client.nothing("ydoc:document:update", wait=0.3)
