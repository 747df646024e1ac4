"""policies/40-validate.lua: payloads of Open WebUI's events are checked for shape
and size before any handler sees them; unknown events are refused; Yjs updates
must be bytes (hole 4 of the reference, §9) and may not claim another user or
socket (hole 5). Each refusal is an `error` event {message, event} (hole 21)."""

import pytest

from stock import client, mint, stock  # noqa: F401 (fixtures)

TYPING = {"channel_id": "c1", "message_id": None, "data": {"type": "typing", "data": {"typing": True}}}


@pytest.mark.parametrize("event, payload, expected", [
    ("join-note", {"note_id": 5}, "payload.note_id must be a string"),
    ("join-note", {}, "payload.note_id is missing"),
    ("join-note", {"note_id": "a b/../c"}, "payload.note_id has characters ids never have"),
    ("join-note", ["n1"], "payload must be an object"),
    ("user-join", {"auth": {"token": 7}}, "payload.auth.token must be a string"),
    ("user-join", {"auth": {"token": "x" * 9000}}, "payload.auth.token is longer than"),
    ("heartbeat", "beat", "payload must be an object"),
    ("usage", {"action": "chat"}, "payload.model is missing"),
    ("events:channel", {**TYPING, "data": {"type": "message", "data": {}}}, "payload.data.type must be one of"),
    ("events:channel", {**TYPING, "message_id": 12}, "payload.message_id must be a string"),
    ("events:channel", {**TYPING, "junk": "x" * 2000}, "too much in fields it does not know"),
    ("events:chat", {"chat_id": "c", "data": {"type": "delete"}}, "payload.data.type must be one of"),
    ("ydoc:document:join", {"document_id": "x" * 200}, "payload.document_id is longer than"),
])
def test_malformed_payload_is_refused_with_an_error_event(stock, client, event, payload, expected):
    srv = stock()
    c = client(srv).connect(mint("u1"))
    c.emit(event, payload)
    error = c.error()
    assert error["event"] == event
    assert error["message"].startswith("invalid payload: ") and expected in error["message"], error


def test_event_with_two_arguments_is_refused(stock, client):
    srv = stock()
    c = client(srv).connect(mint("u1"))
    c.sio.emit("usage", ({"model": "a"}, {"model": "b"}))
    assert c.error()["message"] == "invalid payload: expects one argument"


def test_unknown_event_is_refused(stock, client):
    srv = stock()
    c = client(srv).connect(mint("u1"))
    c.emit("chat:delete-everything", {})
    assert c.error() == {"message": "unknown event", "event": "chat:delete-everything"}


def test_extra_events_setting_lets_a_plugin_event_through(stock, client):
    srv = stock({"validate": {"extra_events": ["my-app:ping"]}})
    c = client(srv).connect(mint("u1"))
    c.emit("my-app:ping", {"n": 1})
    c.emit("my-app:other", {})
    assert c.error()["event"] == "my-app:other", "only the listed event passes"


def test_well_formed_open_webui_payloads_pass(stock, client):
    srv = stock()
    c = client(srv).connect(mint("u1"))
    for event, payload in [
        ("heartbeat", {}),
        ("join-channels", {"auth": {"token": mint("u1")}}),
        ("usage", {"action": "chat", "model": "llama3:8b", "chat_id": ""}),
        ("events:chat", {"chat_id": "chat-1", "data": {"type": "last_read_at"}}),
    ]:
        assert c.attempt(event, payload) == "ok", event


@pytest.mark.parametrize("update, expected", [
    ([1, 300], "payload.update[2] is not a byte"),
    ([1, -1], "payload.update[2] is not a byte"),
    ([0, "0"], "payload.update[2] is not a byte"),
    ([0, 1.5], "payload.update[2] is not a byte"),
    ([], "payload.update must hold 1 to"),
    ({"0": 0}, "payload.update must be an array of bytes"),
    (list(range(17)), "payload.update must hold 1 to 16 bytes"),
    (bytes(17), "payload.update must hold 1 to 16 bytes"),
], ids=["above-255", "negative", "string", "float", "empty", "object", "too-long", "too-long-binary"])
def test_hole_04_malformed_yjs_update_is_refused(stock, client, update, expected):
    srv = stock({"validate": {"max_update_bytes": 16}})
    c = client(srv).connect(mint("u1"))
    c.emit("ydoc:document:update", {"document_id": "note:n1", "update": update})
    error = c.error()
    assert error["event"] == "ydoc:document:update" and expected in error["message"], error


def test_hole_04_update_needs_bytes_or_a_content_snapshot(stock, client):
    srv = stock()
    c = client(srv).connect(mint("u1"))
    c.emit("ydoc:document:update", {"document_id": "note:n1", "user_id": "u1"})
    assert "an update needs payload.update or payload.data.content" in c.error()["message"]


def test_hole_05_yjs_claims_are_replaced_with_the_sockets_identity_not_relayed(stock, client):
    """Open WebUI 0.12.4's client puts its socket id in awareness `user_id`, and Open WebUI
    overwrites the field with the authenticated user: so does Palisade, for every Yjs event,
    and the claim never reaches anyone (it used to be refused, which broke the real client)."""
    from test_yjs_relay import DOC, Editor, setup_directory

    srv = setup_directory(stock())
    ann, bob = Editor(srv, client, "ann"), Editor(srv, client, "bob")
    ann.join()
    bob.join(user_id="mallory", user_name="Admin")
    (joined,) = ann.client.next("ydoc:user:joined")
    assert joined["user_id"] == "bob", joined
    bob.client.emit("ydoc:awareness:update", {"document_id": DOC, "update": [123, 125], "user_id": bob.sid})
    (awareness,) = ann.client.next("ydoc:awareness:update")
    assert awareness["user_id"] == "bob", awareness
    update = bob.edit(lambda t: t.insert(0, "x"))
    bob.client.emit("ydoc:document:update",
                    {"document_id": DOC, "update": list(update), "user_id": "mallory", "socket_id": ann.sid})
    (relayed,) = ann.receive()
    assert (relayed["user_id"], relayed["socket_id"]) == ("bob", bob.sid), relayed
    bob.client.no_error(wait=0.2)


def test_ids_seen_valid_do_not_let_other_values_through(stock, client):
    """Valid ids are remembered (a channel's typing indicators repeat them); what is
    remembered is only ever a valid string, so nothing else rides on it."""
    srv = stock()
    c = client(srv).connect(mint("u1"))
    for _ in range(3):
        c.emit("events:channel", TYPING)  # "c1" valid, now remembered
        assert c.error()["message"] == "not a member of this channel", "past validation, refused by the plugin"
    for bad, expected in [({"c1": True}, "must be a string"), ("c1/../x", "characters ids never have"),
                          ("c1" * 100, "is longer than")]:
        c.emit("events:channel", {**TYPING, "channel_id": bad})
        error = c.error()
        assert expected in error["message"], error
    c.emit("join-note", {})  # a missing required field is still reported after the change
    assert "payload.note_id is missing" in c.error()["message"]
