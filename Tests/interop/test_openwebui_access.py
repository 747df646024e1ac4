"""With `openwebui.url` set, Open WebUI decides who may read and write its notes and who is in
its channels (issue 18, item 2): the stock profile asks its API with the user's own token, and
needs no directory record at all. A real `palisade serve` with the stock profile, against a
stand-in for Open WebUI's API (fake_openwebui.py)."""

from __future__ import annotations

from fake_openwebui import openwebui  # noqa: F401 (fixture)
from stock import client, mint, stock  # noqa: F401 (fixtures)
from test_yjs_relay import DOC, Editor

NOTE = DOC.split(":", 1)[1]


def served(stock, openwebui, **env):
    for uid in ("owner", "ann", "bob", "cat", "rita", "sam", "admin"):
        openwebui.add_user(uid, role="admin" if uid == "admin" else "user")
    openwebui.notes[NOTE] = {"owner": "owner", "readers": {"rita"}, "writers": {"ann", "bob"}}
    return stock(PALISADE_OPENWEBUI_URL=openwebui.url, **env)


def test_writers_edit_readers_follow_strangers_are_refused(stock, client, openwebui):
    srv = served(stock, openwebui)
    ann, rita, sam = Editor(srv, client, "ann"), Editor(srv, client, "rita"), Editor(srv, client, "sam")
    ann.join()
    rita.join()
    ann.type(0, "hello")
    (relayed,) = rita.receive()
    assert str(rita) == "hello"
    update = rita.edit(lambda t: t.insert(0, "x"))
    rita.send(update)
    assert rita.client.error()["message"] == f"no write access to note {NOTE}"
    assert sam.join_refused()["message"] == f"no read access to note {NOTE}"


def test_join_note_follows_open_webui(stock, client, openwebui):
    srv = served(stock, openwebui)
    rita = client(srv).connect(mint("rita"))
    assert rita.attempt("join-note", {"note_id": NOTE}) == "ok"
    sam = client(srv).connect(mint("sam"))
    assert sam.attempt("join-note", {"note_id": NOTE}) == f"no access to note {NOTE}"
    assert sam.attempt("join-note", {"note_id": "no-such-note"}) == "no access to note no-such-note"
    assert srv.admin("GET", "sessions?user_id=rita").json()[0]["rooms"].count(f"note:{NOTE}") == 1


def test_an_unreachable_open_webui_refuses(stock, client, openwebui):
    srv = served(stock, openwebui)
    ann = Editor(srv, client, "ann")
    openwebui.down = True
    assert ann.join_refused()["message"] == "access could not be checked"
    openwebui.down = False
    ann.join()


def test_user_join_puts_the_socket_in_its_open_webui_channels(stock, client, openwebui):
    srv = served(stock, openwebui)
    openwebui.channels["c1"] = {"ann", "bob"}
    openwebui.channels["c2"] = {"cat"}
    ann = client(srv, events=("events:channel",)).connect(mint("ann"))
    bob = client(srv, events=("events:channel",)).connect(mint("bob"))
    cat = client(srv, events=("events:channel",)).connect(mint("cat"))
    for c, uid in ((ann, "ann"), (bob, "bob"), (cat, "cat")):
        assert c.user_join(mint(uid))["id"] == uid
    (session,) = srv.admin("GET", "sessions?user_id=ann").json()
    assert "channel:c1" in session["rooms"] and "channel:c2" not in session["rooms"]
    typing = {"channel_id": "c1", "message_id": None, "data": {"type": "typing", "data": {"typing": True}}}
    assert ann.attempt("events:channel", typing) == "ok"
    (notice,) = bob.next("events:channel")
    assert notice["user"]["id"] == "ann" and notice["data"]["data"]["typing"] is True
    cat.nothing("events:channel")
    assert cat.attempt("events:channel", typing) == "not a member of this channel"


def test_no_directory_records_are_needed_and_admins_pass(stock, client, openwebui):
    srv = served(stock, openwebui)
    admin = Editor(srv, client, "admin")
    admin.join()
    admin.type(0, "by the admin")
    admin.stored()  # the write went through: the server's state has it
    admin.client.no_error()


def test_note_content_is_saved_in_open_webui_with_the_writers_token(stock, client, openwebui):
    import time

    srv = served(stock, openwebui)
    ann = Editor(srv, client, "ann")
    ann.join()
    update = ann.edit(lambda t: t.insert(0, "saved text"))
    ann.send(update, data={"content": {"md": "saved text", "html": "<p>saved text</p>", "json": None}})
    deadline = time.monotonic() + 5
    while not openwebui.saved:
        assert time.monotonic() < deadline, "the content never reached Open WebUI"
        time.sleep(0.05)
    (note_id, user_id, body) = openwebui.saved[0]
    assert (note_id, user_id) == (NOTE, "ann")
    assert body == {"data": {"content": {"md": "saved text", "html": "<p>saved text</p>", "json": None}}}


def test_a_grant_open_webui_takes_away_counts_at_the_next_check(stock, client, openwebui):
    """Open WebUI tells the browser `access:updated` when a grant goes; the browser's next
    join must meet the new answer, not one cached from a moment before."""
    srv = served(stock, openwebui)
    rita = Editor(srv, client, "rita")
    rita.join()
    openwebui.notes[NOTE]["readers"].discard("rita")
    again = Editor(srv, client, "rita")
    assert again.join_refused()["message"] == f"no read access to note {NOTE}"


def test_join_channels_right_after_a_channel_is_created_joins_it(stock, client, openwebui):
    srv = served(stock, openwebui)
    ann = client(srv).connect(mint("ann"))
    assert ann.user_join(mint("ann"))["id"] == "ann"
    openwebui.channels["new"] = {"ann"}  # created by ann a moment later
    assert ann.attempt("join-channels", {"auth": {"token": mint("ann")}}) == "ok"
    (session,) = srv.admin("GET", "sessions?user_id=ann").json()
    assert "channel:new" in session["rooms"]


def test_a_channel_created_after_user_join_is_joined_at_its_first_event(stock, client, openwebui):
    """Open WebUI moves only its own sockets into a new channel's room; the first
    `events:channel` of a member joins it here, so typing reaches the other member."""
    srv = served(stock, openwebui)
    ann = client(srv, events=("events:channel",)).connect(mint("ann"))
    bob = client(srv, events=("events:channel",)).connect(mint("bob"))
    for c, uid in ((ann, "ann"), (bob, "bob")):
        assert c.user_join(mint(uid))["id"] == uid
    openwebui.channels["later"] = {"ann", "bob"}  # created after both signed in
    read = {"channel_id": "later", "message_id": None, "data": {"type": "last_read_at"}}
    assert bob.attempt("events:channel", read) == "ok"  # bob opens the channel
    typing = {"channel_id": "later", "message_id": None, "data": {"type": "typing", "data": {"typing": True}}}
    assert ann.attempt("events:channel", typing) == "ok"
    (notice,) = bob.next("events:channel")
    assert notice["user"]["id"] == "ann"
    cat = client(srv).connect(mint("cat"))
    assert cat.attempt("events:channel", typing) == "not a member of this channel"


def test_the_join_state_carries_the_notes_saved_content_while_the_document_is_empty(stock, client, openwebui):
    """Open WebUI 0.12.4 sends `content` (the note's saved `data.content`) with the join's
    `ydoc:document:state`; its client seeds an empty document from it. Asked with the joiner's
    token; once the document has an update, the state speaks for itself (`content` null)."""
    srv = served(stock, openwebui)
    ann = Editor(srv, client, "ann")
    state = ann.join()
    assert state["state"] == [0, 0] and state["content"] == {"md": "text"}
    assert ("GET", f"/api/v1/notes/{NOTE}") in openwebui.requests
    ann.type(0, "typed")
    ann.stored()
    later = Editor(srv, client, "bob").join()
    assert later["content"] is None and later["state"] != [0, 0]


def test_in_front_of_open_webui_the_max_payload_is_its_16_mib(stock, openwebui):
    from wire import polling_handshake

    handshake, _ = polling_handshake(served(stock, openwebui))
    assert handshake["maxPayload"] == 16 * 1024 * 1024
