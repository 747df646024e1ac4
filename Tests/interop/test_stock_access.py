"""policies/20-access.lua through `join-note`: admin, owner, then Open WebUI's
has_access on the note's `access_control` (null = public read, {} = owner only,
read/write grants by user id and by group, a write grant implying read), with
group membership from the user's record or from the group's record."""

import pytest

from stock import client, mint, stock  # noqa: F401 (fixtures)

USERS = {
    "owner": {"role": "user"},
    "admin": {"role": "admin"},
    "reader": {"role": "user"},
    "writer": {"role": "user"},
    "grouped": {"role": "user", "groups": ["readers"]},     # member by its own record
    "listed": {"role": "user"},                             # member by the group's record
    "stranger": {"role": "user"},
}
NOTES = {
    "public": None,
    "private": {},
    "shared": {"read": {"user_ids": ["reader"], "group_ids": ["readers", "listed-readers"]},
               "write": {"user_ids": ["writer"], "group_ids": []}},
}
CAN_READ = {
    "public": set(USERS),
    "private": {"owner", "admin"},
    "shared": {"owner", "admin", "reader", "writer", "grouped", "listed"},
}


@pytest.fixture
def directory(stock):
    srv = stock()
    for user_id, record in USERS.items():
        srv.put_record("user", user_id, {"id": user_id, "name": user_id.title(), **record})
    srv.put_record("group", "readers", {"id": "readers", "name": "Readers", "user_ids": []})
    srv.put_record("group", "listed-readers", {"id": "listed-readers", "name": "Listed", "user_ids": ["listed"]})
    for note_id, access_control in NOTES.items():
        srv.put_record("note", note_id, {"id": note_id, "user_id": "owner", "access_control": access_control})
    return srv


def test_join_note_follows_has_access(directory, client):
    refused = []
    for user_id in USERS:
        c = client(directory).connect(mint(user_id))
        assert c.user_join(mint(user_id))["id"] == user_id
        for note_id in NOTES:
            assert c.call("join-note", {"note_id": note_id, "auth": {"token": mint(user_id)}}) is None
            got_in = c.events.empty("error")
            if not got_in:
                assert c.error() == {"message": f"no access to note {note_id}", "event": "join-note"}
            if got_in != (user_id in CAN_READ[note_id]):
                refused.append((user_id, note_id, got_in))
    assert not refused, f"(user, note, joined) against the has_access matrix: {refused}"


def test_unknown_note_is_refused_but_admins_may_join(directory, client):
    stranger = client(directory).connect(mint("stranger"))
    stranger.call("join-note", {"note_id": "missing"})
    assert stranger.error()["message"] == "no access to note missing"
    admin = client(directory).connect(mint("admin"))
    admin.call("join-note", {"note_id": "missing"})
    admin.no_error(wait=0.2)


def test_unknown_resources_may_be_opened_to_every_user_by_setting(stock, client):
    srv = stock({"access": {"unknown": "authenticated"}})
    c = client(srv).connect(mint("u1"))
    assert c.call("join-note", {"note_id": "not-in-the-directory"}) is None
    c.no_error(wait=0.2)
