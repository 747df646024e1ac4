#!/usr/bin/env python3
"""Make Yjs update v1 fixtures with pycrdt (pinned in Tests/interop/requirements.txt).

Run from the repo root:  .venv/bin/python Tests/PalisadeYjsTests/Fixtures/make_fixtures.py
Writes updates.json next to this script: a list of {name, update: [ints], state_vector: {client: clock}};
and sequences.json: a list of {name, roots: {name: type}, updates: [hex, …] (every incremental update the
docs observed, in order, including ones a peer received), final: {root: str or to_py()},
state_vector: {client: clock}} for merge, compact and diff tests.
Client ids are fixed, so the contents and state vectors are stable; the bytes are not byte-for-byte
reproducible (yrs writes some parts in hash-map order), which is why the tests compare state vectors.
"""
import json
import os
import random

from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText


def decode_var_uint(data, pos):
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def decode_state_vector(data):
    count, pos = decode_var_uint(data, 0)
    result = {}
    for _ in range(count):
        client, pos = decode_var_uint(data, pos)
        clock, pos = decode_var_uint(data, pos)
        result[str(client)] = clock
    assert pos == len(data)
    return result


fixtures = []


def add(name, doc, update=None):
    """Record the full update of `doc` (or the given incremental `update`, whose state vector is then computed)."""
    if update is None:
        update = doc.get_update()
        state = decode_state_vector(doc.get_state())
    else:
        # The state vector of an incremental update: apply it to a fresh doc.
        fresh = Doc()
        fresh.apply_update(update)
        state = decode_state_vector(fresh.get_state())
    fixtures.append({"name": name, "update": list(update), "state_vector": state})


# Empty document.
add("empty", Doc(client_id=1))

# Text inserts, including characters outside the BMP (clock = UTF-16 units).
d = Doc(client_id=1)
t = d.get("t", type=Text)
t += "a😀b"
t += " hello"
t.insert(0, "Start: ")
add("text_inserts", d)

# Text deletes and formatting.
d = Doc(client_id=2)
t = d.get("t", type=Text)
t += "Hello, wonderful world"
del t[5:16]
t.format(0, 5, {"bold": True})
t.insert_embed(3, {"image": "x.png"})
add("text_deletes_format", d)

# Incremental update carrying only a delete set.
d = Doc(client_id=3)
t = d.get("t", type=Text)
t += "abcdef"
before = d.get_state()
del t[1:3]
add("delete_only_incremental", d, d.get_update(before))

# Map sets, overwrites, nested values.
d = Doc(client_id=4)
m = d.get("m", type=Map)
m["k"] = {"x": 1.5, "y": [True, None]}
m["n"] = 7
m["n"] = 2**40
m["s"] = "string"
m["b"] = b"\x00\x01\xff"
m["nested"] = Map({"inner": "v"})
m["list"] = Array([1, 2, 3])
m["text"] = Text("nested text")
del m["s"]
add("map_sets", d)

# Array pushes and deletes.
d = Doc(client_id=5)
a = d.get("a", type=Array)
a.append(1)
a.extend(["two", 3.5, None, False, {"o": [1]}])
a.insert(0, "first")
del a[2]
add("array_pushes", d)

# XmlFragment with an element, attribute and text.
d = Doc(client_id=6)
f = d.get("x", type=XmlFragment)
e = f.children.append(XmlElement("p", {"class": "c"}))
e.children.append(XmlText("inside"))
f.children.append(XmlText("after"))
add("xml_fragment", d)

# Concurrent edits of three docs with large (53-bit-ish) client ids, exchanged and merged.
docs = [Doc(client_id=c) for c in (1627694679, 4000000000, 9007199254740991)]
for i, doc in enumerate(docs):
    doc.get("t", type=Text).insert(0, f"peer{i} ")
    doc.get("m", type=Map)[f"k{i}"] = i
    doc.get("a", type=Array).append(f"v{i}")
for round_ in range(3):
    updates = [doc.get_update() for doc in docs]
    for doc in docs:
        for u in updates:
            doc.apply_update(u)
    for i, doc in enumerate(docs):
        text = doc.get("t", type=Text)
        text.insert(len(str(text)) // 2, f"[{round_}{i}]")
        if len(text) > 4:
            del text[0:2]
        doc.get("m", type=Map)["shared"] = f"r{round_}p{i}"
for i, doc in enumerate(docs):
    add(f"concurrent_peer{i}_state", doc)
last = [doc.get_update() for doc in docs]
for doc in docs:
    for u in last:
        doc.apply_update(u)
assert len({str(doc.get("t", type=Text)) for doc in docs}) == 1
add("concurrent_converged", docs[0])


# Sequences: incremental updates as the docs observed them (one per transaction).
sequences = []
ROOT_TYPES = {"text": Text, "map": Map, "array": Array, "xml": XmlFragment}


def root_value(doc, name, kind):
    root = doc.get(name, type=ROOT_TYPES[kind])
    return root.to_py() if kind in ("map", "array") else str(root)


def add_sequence(name, docs, roots, log):
    """Record `log` (updates in observed order), the converged content of `docs` and their state vector."""
    finals = [{root: root_value(doc, root, kind) for root, kind in roots.items()} for doc in docs]
    assert all(json.dumps(f, sort_keys=True) == json.dumps(finals[0], sort_keys=True) for f in finals), name
    sequences.append({
        "name": name, "roots": roots, "updates": [bytes(u).hex() for u in log],
        "final": finals[0], "state_vector": decode_state_vector(docs[0].get_state()),
    })


def observed(doc, roots, log):
    for root, kind in roots.items():
        doc.get(root, type=ROOT_TYPES[kind])
    doc.observe(lambda event: log.append(event.update))
    return doc


# Text typing one keystroke per transaction, with backspaces and an insert in the middle.
roots = {"t": "text"}
log = []
d = observed(Doc(client_id=11), roots, log)
t = d.get("t", type=Text)
for ch in "Hello wörld 😀 abc":
    t += ch
for _ in range(3):
    del t[len(t) - 1:len(t)]  # pycrdt indexes UTF-8 bytes; the tail is ASCII here
t.insert(5, ",")
del t[0:1]
t.insert(0, "J")
add_sequence("seq_text_typing", [d], roots, log)

# Map sets, overwrites, deletes and a nested map.
roots = {"m": "map"}
log = []
d = observed(Doc(client_id=12), roots, log)
m = d.get("m", type=Map)
for i in range(6):
    m[f"k{i % 3}"] = i
m["s"] = "x"
del m["s"]
m["nested"] = Map({"a": 1})
m["nested"]["b"] = "two"
m["nested"] = Map({"c": True})
add_sequence("seq_map_overwrites", [d], roots, log)

# Array inserts and deletes.
roots = {"a": "array"}
log = []
d = observed(Doc(client_id=13), roots, log)
a = d.get("a", type=Array)
for i in range(8):
    a.append(i)
a.insert(2, "x")
del a[0]
del a[3:5]
a.extend(["y", "z"])
add_sequence("seq_array_ops", [d], roots, log)

# XmlFragment with elements, attributes and text edits.
roots = {"x": "xml"}
log = []
d = observed(Doc(client_id=14), roots, log)
f = d.get("x", type=XmlFragment)
p = f.children.append(XmlElement("p", {"class": "c"}))
p.attributes["id"] = "one"
txt = p.children.append(XmlText("hello"))
txt += " world"
del txt[0:1]
f.children.append(XmlElement("br"))
f.children.append(XmlText("tail"))
p.attributes["class"] = "d"
add_sequence("seq_xml_edits", [d], roots, log)

def byte_boundaries(string):
    """UTF-8 byte offsets of the character boundaries: pycrdt's Text indexes UTF-8 bytes."""
    offsets = [0]
    for ch in string:
        offsets.append(offsets[-1] + len(ch.encode()))
    return offsets


# Three peers editing text, map and array concurrently with partial syncs, then a full sync.
roots = {"t": "text", "m": "map", "a": "array"}
log = []
rng = random.Random(7)
peers = [observed(Doc(client_id=c), roots, log) for c in (1627694679, 4000000000, 9007199254740991)]
for step in range(60):
    i = rng.randrange(3)
    doc = peers[i]
    text, amap, arr = doc.get("t", type=Text), doc.get("m", type=Map), doc.get("a", type=Array)
    choice = rng.random()
    bounds = byte_boundaries(str(text))
    if choice < 0.45:
        text.insert(rng.choice(bounds), rng.choice(["a", "bc", "é", "😀", "xyz"]))
    elif choice < 0.55 and len(bounds) > 1:
        start = rng.randrange(len(bounds) - 1)
        del text[bounds[start]:bounds[min(len(bounds) - 1, start + rng.randint(1, 3))]]
    elif choice < 0.75:
        amap[f"k{rng.randrange(4)}"] = rng.choice([step, f"s{step}", True, None, [step]])
    elif choice < 0.9 or len(arr) == 0:
        arr.insert(rng.randint(0, len(arr)), step)
    else:
        del arr[rng.randrange(len(arr))]
    if rng.random() < 0.3:
        a, b = rng.sample(peers, 2)
        a.apply_update(b.get_update(a.get_state()))
for a in peers:
    for b in peers:
        if a is not b:
            a.apply_update(b.get_update(a.get_state()))
add_sequence("seq_three_peers", peers, roots, log)

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "updates.json")
with open(out, "w") as fh:
    json.dump(fixtures, fh, indent=1)
    fh.write("\n")
print(f"wrote {len(fixtures)} fixtures to {out}")
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sequences.json")
with open(out, "w") as fh:
    json.dump(sequences, fh, indent=1, ensure_ascii=False)
    fh.write("\n")
print(f"wrote {len(sequences)} sequences to {out}")
