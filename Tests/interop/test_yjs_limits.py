"""The Yjs relay's limits hold whatever a writer sends, with the stock policies:

- a document never becomes unloadable: what was accepted and then merged reads back, after a
  restart too, although the merge holds more clients than one update may;
- a document's memory is bounded by its decoded values (`yjs.max_document_values`), not only by
  its encoded size: struct-dense updates are refused past the budget and the server's peak RSS
  stays bounded;
- the largest document that may be stored can be joined: a large state goes out as a binary
  attachment, and documents are kept to half of `socketio.max_outbound_bytes`;
- updates that yrs-based peers (pycrdt) cannot load are refused (reference §5.3.9).
"""

from __future__ import annotations

import time
from pathlib import Path

from pycrdt import Doc

from stock import client, mint, stock  # noqa: F401 (fixtures)
from test_yjs_relay import DOC, EVENTS, Editor, durable, editor, setup_directory, text_of  # noqa: F401 (fixtures)


def varuint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def read_varuint(data: bytes) -> int:
    value, shift = 0, 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value
    raise ValueError("truncated")


def one_gc_per_client(first: int, count: int = 10_000) -> bytes:
    """`varuint(n) ‖ n × (01 ‖ varuint(client) ‖ 00 00 01) ‖ 00`: one struct for each of n clients."""
    return varuint(count) + b"".join(b"\x01" + varuint(first + i) + b"\x00\x00\x01" for i in range(count)) + b"\x00"


def gc_skip_runs(client_id: int, size: int) -> bytes:
    """One section of alternating one-unit GCs and Skips: two bytes a struct, `size` bytes in all."""
    count = (size - 8) // 2
    body = b"".join(b"\x00\x01" if i % 2 == 0 else b"\x0a\x01" for i in range(count))
    return b"\x01" + varuint(count) + varuint(client_id) + b"\x00" + body + b"\x00"


def deleted_items_with_foreign_origins(client_id: int, size: int) -> bytes:
    """One section of one-unit ContentDeleted items whose left origins are in another client."""
    count = (size - 12) // 6
    body = b"".join(b"\x81\x07" + varuint(1000 + i) + b"\x01" for i in range(count))
    return b"\x01" + varuint(count) + varuint(client_id) + b"\x00" + body + b"\x00"


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process has had, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def settle(ed: Editor, wait: float = 0.5) -> list[str]:
    """Waits for the relay to answer what `ed` sent; the error messages it got."""
    ed.client.emit("ydoc:document:state", {"document_id": DOC})
    ed.client.next("ydoc:document:state", timeout=30)
    time.sleep(wait)
    return [e["message"] for (e,) in ed.client.drain("error")]


# finding 2: a merge past one update's limits


def test_a_document_whose_merge_holds_more_clients_than_one_update_stays_loadable(durable, editor):
    srv = setup_directory(durable())
    ann = editor(srv, "ann")
    ann.join()
    ann.send(one_gc_per_client(0), binary=True)
    ann.send(one_gc_per_client(20_000), binary=True)
    assert settle(ann) == []
    ann.client.emit("ydoc:document:leave", {"document_id": DOC})  # the last one out: compaction
    time.sleep(0.5)
    ann.join()
    ann.send([1, 1, 159, 141, 6, 0, 0, 1, 0])
    assert settle(ann) == []
    ann.client.emit("ydoc:document:leave", {"document_id": DOC})
    time.sleep(0.5)
    state = editor(srv, "bob").join(timeout=30)["state"]
    assert read_varuint(bytes(state)) == 20_001, "clients in the state"
    assert not [line for line in srv.stderr_lines if "compacting a Yjs document failed" in line]
    assert srv.stop() == 0, srv.log_tail()
    durable.ended(srv)
    again = setup_directory(durable())
    state = editor(again, "cat").join(timeout=30)["state"]
    assert read_varuint(bytes(state)) == 20_001
    Doc().apply_update(bytes(state))  # and pycrdt loads it


# finding 3: memory bounded by decoded values


def test_struct_dense_updates_are_bounded_by_the_value_budget(stock, editor):
    srv = setup_directory(stock())
    ann = editor(srv, "ann")
    ann.join()
    before = peak_rss_mb(srv.proc.pid)
    refused = []
    for i in range(14):
        make = gc_skip_runs if i % 2 == 0 else deleted_items_with_foreign_origins
        ann.send(make(100 + i, 900_000), binary=True)
        refused += settle(ann, wait=0.1)
    ann.client.emit("ydoc:document:leave", {"document_id": DOC})  # compacts what was accepted
    bob = editor(srv, "bob")
    state = bob.join(timeout=30)["state"]
    Doc().apply_update(bytes(state))
    time.sleep(1)
    after = peak_rss_mb(srv.proc.pid)
    print(f"peak RSS {before:.0f} MiB before, {after:.0f} MiB after 14 struct-dense updates of 900 kB")
    assert refused and set(refused) == {"document too large"}, refused
    assert len(refused) >= 12, "one 900 kB update of ContentDeleted items fits the budget, a second does not"
    assert after - before < 300, f"peak RSS grew by {after - before:.0f} MiB"


def test_the_value_budget_is_a_setting(stock, editor):
    srv = setup_directory(stock(PALISADE_YJS_MAX_DOCUMENT_VALUES="1000"))
    ann = editor(srv, "ann")
    ann.join()
    ann.send(gc_skip_runs(5, 1_200), binary=True)  # 597 values in 1 200 bytes
    assert settle(ann) == []
    ann.send(gc_skip_runs(6, 1_200), binary=True)
    assert settle(ann) == ["document too large"]


# finding 4: the largest document can be joined


def polling_editor(srv, client, user_id: str) -> Editor:
    """An editor whose socket polls (Engine.IO long-polling: binary attachments travel as base64)."""
    ed = Editor(srv, client, user_id)
    ed.client.sio.disconnect()
    ed.client = client(srv, events=EVENTS).connect(mint(user_id), transports=("polling",))
    return ed


def test_a_document_near_the_largest_size_can_be_joined(stock, editor, client):
    # 4 MiB documents (the default is Open WebUI's 2 MiB): half of the 8 MiB a client may be sent at once
    srv = setup_directory(stock(PALISADE_YJS_MAX_DOCUMENT_BYTES=str(4 << 20)))
    ann = editor(srv, "ann")
    ann.join()
    for chars in ("a", "b", "c", "d"):
        ann.send(ann.edit(lambda t, c=chars: t.insert(len(t), c * 950_000)), binary=True)
    ann.send(ann.edit(lambda t: t.insert(len(t), "e" * 300_000)), binary=True)
    assert settle(ann) == []
    for reader in (editor(srv, "bob"), polling_editor(srv, client, "cat")):
        state = reader.join(timeout=30)
        assert isinstance(state["state"], bytes), "a large state travels as a binary attachment"
        assert len(bytes(state["state"])) > 4_000_000
        assert str(reader) == str(ann)
        assert reader.client.sio.connected
    ann.send(ann.edit(lambda t: t.insert(0, "z" * 200_000)), binary=True)
    assert settle(ann) == ["document too large"], "past 4 MiB"


def test_a_small_state_stays_a_json_array(stock, editor):
    srv = setup_directory(stock())
    ann = editor(srv, "ann")
    assert ann.join()["state"] == [0, 0]
    ann.append("hello")
    state = ann.stored()["state"]
    assert isinstance(state, list) and text_of(state) == "hello"


# finding 9: what pycrdt cannot load


def test_updates_pycrdt_cannot_load_are_refused(stock, editor):
    srv = setup_directory(stock())
    ann, bob = editor(srv, "ann"), editor(srv, "bob")
    ann.join()
    bob.join()
    bob.client.drain("ydoc:user:joined")
    for vector in ("01010700020101740209756e646566696e6564013100", "010103000701017805066d79686f6f6b00"):
        update = bytes.fromhex(vector)
        try:
            Doc().apply_update(update)
            raise AssertionError("pycrdt loads it: the test vector is wrong")
        except ValueError:
            pass
        ann.send(update)
        assert ann.client.error() == {"message": "malformed Yjs update", "event": "ydoc:document:update"}
    bob.client.nothing("ydoc:document:update", wait=0.3)
    ann.append("ok")
    bob.receive()
    state = editor(srv, "cat").join()["state"]
    assert text_of(state) == "ok"
