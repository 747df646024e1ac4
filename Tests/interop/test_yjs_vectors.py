"""PalisadeYjs merge / compact / diff checked against pycrdt, through the palisade-yjs-tool binary.

No server: every test runs ``.build/debug/palisade-yjs-tool`` (built by ``swift build --build-tests``) on
updates that pycrdt makes live from seeded random histories, applies the result to a fresh pycrdt Doc and
compares the document with what applying the original updates gives.
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest
from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOL = REPO_ROOT / ".build" / "debug" / "palisade-yjs-tool"
ROOTS = {"t": Text, "m": Map, "a": Array, "x": XmlFragment}
PEER_IDS = (1627694679, 4000000000, 9007199254740991)
FRESH_ID = 424242


@pytest.fixture(scope="module")
def tool() -> Path:
    if not TOOL.is_file():
        pytest.fail(f"palisade-yjs-tool not found at {TOOL}: run `swift build --build-tests`", pytrace=False)
    return TOOL


def run(tool: Path, request: dict | bytes) -> dict:
    data = request if isinstance(request, bytes) else json.dumps(request).encode()
    proc = subprocess.run([str(tool)], input=data, capture_output=True, timeout=60)
    assert proc.returncode == 0, f"tool exited {proc.returncode}: {proc.stderr.decode()}"
    return json.loads(proc.stdout)


def ok(tool: Path, request: dict) -> bytes:
    reply = run(tool, request)
    assert reply["ok"], reply
    return bytes.fromhex(reply["result"])


def merge(tool, updates, op="merge") -> bytes:
    return ok(tool, {"op": op, "updates": [u.hex() for u in updates]})


def diff(tool, update: bytes, state_vector: bytes) -> bytes:
    return ok(tool, {"op": "diff", "update": update.hex(), "state_vector": state_vector.hex()})


def new_doc(client_id: int = FRESH_ID, log: list | None = None) -> Doc:
    doc = Doc(client_id=client_id)
    for name, kind in ROOTS.items():
        doc.get(name, type=kind)
    if log is not None:
        doc.observe(lambda event: log.append(event.update))
    return doc


def doc_from(*updates: bytes) -> Doc:
    doc = new_doc()
    for update in updates:
        doc.apply_update(update)
    return doc


def snapshot(doc: Doc) -> dict:
    text = doc.get("t", type=Text)
    return {
        "t": str(text),
        "t_diff": repr(text.diff()),
        "m": json.dumps(doc.get("m", type=Map).to_py(), sort_keys=True, default=repr),
        "a": json.dumps(doc.get("a", type=Array).to_py(), sort_keys=True, default=repr),
        "x": xml_value(doc.get("x", type=XmlFragment)),
    }


def xml_value(node):
    """A comparable form of an XML tree: pycrdt's str() writes attributes in hash-map order."""
    if isinstance(node, XmlText):
        return str(node)
    children = [xml_value(child) for child in node.children]
    if isinstance(node, XmlFragment):
        return children
    return [node.tag, sorted((str(k), str(v)) for k, v in node.attributes), children]


def decode_var_uint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def state_vector_map(data: bytes) -> dict[int, int]:
    count, pos = decode_var_uint(data, 0)
    result = {}
    for _ in range(count):
        client, pos = decode_var_uint(data, pos)
        result[client], pos = decode_var_uint(data, pos)
    assert pos == len(data)
    return result


def byte_boundaries(string: str) -> list[int]:
    """UTF-8 byte offsets of character boundaries: pycrdt's Text indexes UTF-8 bytes."""
    offsets = [0]
    for ch in string:
        offsets.append(offsets[-1] + len(ch.encode()))
    return offsets


def random_edit(doc: Doc, rng: random.Random, step: int) -> None:
    text, amap, arr, frag = (doc.get(n, type=k) for n, k in ROOTS.items())
    choice = rng.random()
    bounds = byte_boundaries(str(text))
    if choice < 0.35:
        text.insert(rng.choice(bounds), rng.choice(["a", "bc", "é", "😀", "xyz", "🇩🇪"]))
    elif choice < 0.45 and len(bounds) > 1:
        start = rng.randrange(len(bounds) - 1)
        del text[bounds[start]:bounds[min(len(bounds) - 1, start + rng.randint(1, 3))]]
    elif choice < 0.6:
        key = f"k{rng.randrange(4)}"
        if key in amap and rng.random() < 0.2:
            del amap[key]
        elif rng.random() < 0.2:
            amap[key] = Map({"n": step, "s": f"v{step}"})
        else:
            amap[key] = rng.choice([step, f"s{step}", True, None, [step, "x"], {"o": step}])
    elif choice < 0.75 or len(arr) == 0:
        arr.insert(rng.randint(0, len(arr)), rng.choice([step, f"e{step}", 1.5]))
    elif choice < 0.85:
        del arr[rng.randrange(len(arr))]
    elif len(frag.children) == 0 or rng.random() < 0.5:
        element = frag.children.append(XmlElement("p", {"n": str(step)}))
        element.children.append(XmlText(f"t{step}"))
    else:
        element = frag.children[rng.randrange(len(frag.children))]
        if isinstance(element, XmlElement):
            element.attributes["c"] = str(step)
            element.children.append(XmlText(f"u{step}"))


def history(seed: int, steps: int = 80) -> tuple[list[bytes], list[Doc]]:
    """Three peers editing concurrently with random partial syncs, then a full sync.
    Returns every update any peer observed (local and received, so inputs overlap) and the peers."""
    rng = random.Random(seed)
    log: list[bytes] = []
    peers = [new_doc(client_id, log) for client_id in PEER_IDS]
    for step in range(steps):
        random_edit(peers[rng.randrange(3)], rng, step)
        if rng.random() < 0.3:
            a, b = rng.sample(peers, 2)
            a.apply_update(b.get_update(a.get_state()))
    for a in peers:
        for b in peers:
            if a is not b:
                a.apply_update(b.get_update(a.get_state()))
    assert all(snapshot(p) == snapshot(peers[0]) for p in peers), "pycrdt peers did not converge"
    return log, peers


SEEDS = [7, 8, 9, 10]


@pytest.mark.parametrize("seed", SEEDS)
def test_merge_gives_the_same_document(tool, seed):
    log, peers = history(seed)
    reference = snapshot(doc_from(*log))
    assert reference == snapshot(peers[0])
    merged = merge(tool, log)
    doc = doc_from(merged)
    assert snapshot(doc) == reference
    assert state_vector_map(ok(tool, {"op": "state_vector", "update": merged.hex()})) == state_vector_map(peers[0].get_state())
    assert merged == merge(tool, [merged]) or snapshot(doc_from(merge(tool, [merged]))) == reference


@pytest.mark.parametrize("seed", SEEDS)
def test_merge_of_shuffled_subsets_and_merges_of_merges(tool, seed):
    log, peers = history(seed)
    reference = snapshot(peers[0])
    rng = random.Random(seed + 100)
    shuffled = log[:]
    rng.shuffle(shuffled)
    half = len(shuffled) // 2
    first = merge(tool, shuffled[:half])
    second = merge(tool, shuffled[half:])
    assert snapshot(doc_from(merge(tool, [second, first]))) == reference
    assert snapshot(doc_from(merge(tool, [first, merge(tool, log), second]))) == reference
    # pycrdt agrees on the state vector of a partial merge (which may hold Skips).
    assert state_vector_map(ok(tool, {"op": "state_vector", "update": first.hex()})) == state_vector_map(
        __import__("pycrdt").get_state(first))


@pytest.mark.parametrize("seed", SEEDS)
def test_compact_gives_the_same_document(tool, seed):
    log, peers = history(seed)
    merged = merge(tool, log)
    compacted = merge(tool, log, op="compact")
    assert len(compacted) <= len(merged)
    assert snapshot(doc_from(compacted)) == snapshot(peers[0])
    assert snapshot(doc_from(merge(tool, [compacted], op="compact"))) == snapshot(peers[0])


@pytest.mark.parametrize("seed", SEEDS)
def test_diff_brings_a_prefix_doc_to_the_full_document(tool, seed):
    log, peers = history(seed)
    reference = snapshot(peers[0])
    full = merge(tool, log)
    for fraction in (0.0, 0.25, 0.5, 0.9, 1.0):
        prefix = log[: int(len(log) * fraction)]
        doc = doc_from(*prefix)
        update = diff(tool, full, doc.get_state())
        doc.apply_update(update)
        assert snapshot(doc) == reference, f"fraction {fraction}"
    assert snapshot(doc_from(diff(tool, full, b"\x00"))) == reference
    # Against the full state vector only the delete set is left.
    rest = diff(tool, full, peers[0].get_state())
    assert rest[0] == 0


def test_diff_through_a_surrogate_pair(tool):
    doc = Doc(client_id=5)
    doc.get("t", type=Text).insert(0, "😀😀")
    update = diff(tool, doc.get_update(), bytes([1, 5, 1]))
    assert update == bytes.fromhex("01010501840500 07efbfbdf09f988000".replace(" ", ""))


def keystrokes(count: int, seed: int = 7) -> tuple[list[bytes], str]:
    """`count` single-key transactions on one Text: mostly typing at the end, some backspaces and
    some typing in the middle."""
    rng = random.Random(seed)
    log: list[bytes] = []
    doc = new_doc(17, log)
    text = doc.get("t", type=Text)
    for _ in range(count):
        roll = rng.random()
        if roll < 0.1 and len(text) > 0:
            del text[len(text) - 1:len(text)]
        elif roll < 0.15:
            text.insert(rng.randint(0, len(text)), rng.choice("abc "))
        else:
            text += rng.choice("abcdefghijklmnopqrstuvwxyz ")
    return log, str(text)


def test_compaction_of_ten_thousand_keystrokes(tool):
    log, final = keystrokes(10_000)
    assert len(log) == 10_000
    total = sum(len(u) for u in log)
    compacted = merge(tool, log, op="compact")
    ratio = len(compacted) / total
    print(f"\n10 000 keystrokes: {total} bytes summed, compacted {len(compacted)} bytes, ratio {ratio:.4f}")
    assert ratio < 0.25, f"compaction ratio {ratio:.4f}"
    assert str(doc_from(compacted).get("t", type=Text)) == final
    merged = merge(tool, log)
    assert str(doc_from(merged).get("t", type=Text)) == final
    assert len(compacted) < len(merged)


@pytest.mark.parametrize("request_", [
    {"op": "merge", "updates": ["0000ff"]},
    {"op": "merge", "updates": ["0101"]},
    {"op": "merge", "updates": ["zz"]},
    {"op": "compact", "updates": ["01010100000000"]},
    {"op": "diff", "update": "0000", "state_vector": "0105"},
    {"op": "diff", "update": "0000", "state_vector": "02050105020"},
    {"op": "diff", "update": "01", "state_vector": "00"},
    {"op": "state_vector", "update": "0101010004010174"},
], ids=["trailing", "truncated", "bad-hex", "zero-gc", "truncated-sv", "odd-hex-sv", "truncated-update", "sv-of-truncated"])
def test_malformed_inputs_are_refused(tool, request_):
    reply = run(tool, request_)
    assert reply["ok"] is False and reply["error"], reply


def test_unreadable_requests_exit_2(tool):
    for data in (b"not json", b"[]", b'{"op":"merge"}', b'{"op":"nope"}'):
        proc = subprocess.run([str(tool)], input=data, capture_output=True, timeout=30)
        assert proc.returncode == 2, data
