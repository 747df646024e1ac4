#!/usr/bin/env python3
"""Make Yjs update v1 fixtures with pycrdt (pinned in Tests/interop/requirements.txt).

Run from the repo root:  .venv/bin/python Tests/PalisadeYjsTests/Fixtures/make_fixtures.py
Writes updates.json next to this script: a list of {name, update: [ints], state_vector: {client: clock}}.
Client ids are fixed, so the contents and state vectors are stable; the bytes are not byte-for-byte
reproducible (yrs writes some parts in hash-map order), which is why the tests compare state vectors.
"""
import json
import os

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

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "updates.json")
with open(out, "w") as fh:
    json.dump(fixtures, fh, indent=1)
    fh.write("\n")
print(f"wrote {len(fixtures)} fixtures to {out}")
