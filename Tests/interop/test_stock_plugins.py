"""The stock plugins for Open WebUI's events: heartbeat, join-channels, join-note,
events:channel (members only, typing relayed with the server's user, hole 10 of
the reference, §9), events:chat, the usage pool; and explicit errors (hole 21)."""

import time

from stock import client, mint, stock  # noqa: F401 (fixtures)


def typing(channel_id: str, **extra) -> dict:
    return {"channel_id": channel_id, "message_id": None, "data": {"type": "typing", "data": {"typing": True}}, **extra}


def channel_members(srv, client, channel_id="c1"):
    """Directory: ann and cat are members of `channel_id` (listed in their records), bob is not."""
    srv.put_record("channel", channel_id, {"id": channel_id, "user_id": "owner", "access_control": {}})
    for user_id, name, channels in [("ann", "Ann", [channel_id]), ("bob", "Bob", []), ("cat", "Cat", [channel_id])]:
        srv.put_record("user", user_id, {"id": user_id, "name": name, "role": "user", "channels": channels})
    members = {}
    for user_id in ("ann", "bob", "cat"):
        c = client(srv, events=("events:channel",)).connect(mint(user_id))
        assert c.user_join(mint(user_id))["id"] == user_id  # user-join joins the user's channels
        members[user_id] = c
    return members


def test_app_events_for_a_user_reach_all_and_only_that_users_sockets(stock, client):
    """The app emits a user's chat `events` to `user:{id}`: joined at connect with a
    valid token, or at `user-join` (the login page's socket)."""
    srv = stock()
    at_connect = client(srv, events=("events",)).connect(mint("u1"))
    at_user_join = client(srv, events=("events",)).connect()
    assert at_user_join.user_join(mint("u1"))["id"] == "u1"
    someone_else = client(srv, events=("events",)).connect(mint("u2"))
    switcher = client(srv, events=("events",)).connect(mint("u2"))
    assert switcher.user_join(mint("u1")) is None  # hole 11: no way into u1's room
    event = {"chat_id": "chat-1", "message_id": "m1", "data": {"type": "status", "data": {"done": True}}}
    srv.admin_or_skip("POST", "emit", {"room": "user:u1", "event": "events", "data": event})
    assert at_connect.next("events") == (event,)
    assert at_user_join.next("events") == (event,)
    someone_else.nothing("events", wait=0.2)
    switcher.nothing("events", wait=0)


def test_heartbeat_is_accepted_silently(stock, client):
    srv = stock()
    c = client(srv).connect(mint("u1"))
    assert c.call("heartbeat", {}) is None
    c.no_error(wait=0.2)


def test_typing_reaches_channel_members_with_the_server_side_user(stock, client):
    srv = stock()
    people = channel_members(srv, client)
    people["ann"].emit("events:channel", typing("c1"))
    for member in ("ann", "cat"):  # the sender too, as Open WebUI does
        (notice,) = people[member].next("events:channel")
        assert notice == {"channel_id": "c1", "message_id": None,
                          "data": {"type": "typing", "data": {"typing": True}},
                          "user": {"id": "ann", "name": "Ann"}}
    people["bob"].nothing("events:channel")


def test_join_channels_joins_channels_listed_later(stock, client):
    srv = stock()
    srv.put_record("user", "ann", {"id": "ann", "name": "Ann", "role": "user", "channels": []})
    srv.put_record("channel", "c2", {"id": "c2", "user_id": "owner", "access_control": {}})
    ann = client(srv, events=("events:channel",)).connect(mint("ann"))
    ann.user_join(mint("ann"))
    assert "not a member" in ann.attempt("events:channel", typing("c2"))
    srv.put_record("user", "ann", {"id": "ann", "name": "Ann", "role": "user", "channels": ["c2"]})
    assert ann.call("join-channels", {"auth": {"token": mint("ann")}}) is None
    assert ann.attempt("events:channel", typing("c2")) == "ok"
    assert ann.next("events:channel")[0]["user"]["id"] == "ann"


def test_events_channel_from_a_non_member_is_refused(stock, client):
    srv = stock()
    outsider = client(srv).connect(mint("u1"))
    outsider.emit("events:channel", typing("c1"))
    assert outsider.error() == {"message": "not a member of this channel", "event": "events:channel"}


def test_hole_10_typing_relay_carries_only_the_typing_flag(stock, client):
    srv = stock()
    people = channel_members(srv, client)
    people["ann"].emit("events:channel", {
        "channel_id": "c1", "message_id": "m1", "user": {"id": "cat", "name": "Spoofed"},
        "data": {"type": "typing", "data": {"typing": True, "html": "<img src=x onerror=alert(1)>"}, "extra": 1},
    })
    (notice,) = people["cat"].next("events:channel")
    assert notice == {"channel_id": "c1", "message_id": "m1",
                      "data": {"type": "typing", "data": {"typing": True}},
                      "user": {"id": "ann", "name": "Ann"}}


def test_last_read_at_is_handed_to_the_audit_log(stock, client):
    srv = stock()
    people = channel_members(srv, client)
    mark = len(srv.stderr_lines)
    assert people["ann"].call("events:channel", {"channel_id": "c1", "message_id": None, "data": {"type": "last_read_at"}}) is None
    srv.wait_log("channel.last_read_at", after=mark)
    people["cat"].nothing("events:channel", wait=0.2)
    assert people["ann"].call("events:chat", {"chat_id": "chat-1", "data": {"type": "last_read_at"}}) is None
    srv.wait_log("chat.last_read_at", after=mark)


def test_usage_pool_holds_a_model_while_it_is_reported_and_expires_it(stock, client):
    srv = stock()
    c = client(srv).connect(mint("u1"))
    mark = len(srv.stderr_lines)
    for _ in range(3):  # the client reports every second while the model answers
        assert c.call("usage", {"action": "chat", "model": "llama3:8b", "chat_id": "chat-1"}) is None
        time.sleep(1)
    assert "llama3:8b" in srv.wait_log("model in use", after=mark)
    assert not [line for line in srv.stderr_lines[mark:] if "model no longer in use" in line], \
        "a model reported every second stays in the pool"
    line = srv.wait_log("model no longer in use", timeout=6, after=mark)
    assert "llama3:8b" in line


def test_usage_pool_forgets_a_disconnected_socket(stock, client):
    srv = stock()
    c = client(srv).connect(mint("u1"))
    mark = len(srv.stderr_lines)
    assert c.call("usage", {"action": "chat", "model": "m-gone", "chat_id": ""}) is None
    srv.wait_log("model in use", after=mark)
    c.sio.disconnect()
    assert "m-gone" in srv.wait_log("model no longer in use", timeout=5, after=mark)


def test_hole_21_refusals_are_reported_not_silent(stock, client):
    """Open WebUI drops almost every refusal silently; each one here is an `error`
    event naming the event, so a client can tell why."""
    srv = stock()
    anonymous = client(srv).connect()
    assert anonymous.attempt("join-note", {"note_id": "n1"}) == "not authenticated"
    signed_in = client(srv).connect(mint("u1"))
    assert signed_in.attempt("no-such-event", {}) == "unknown event"
    assert signed_in.attempt("join-note", {"note_id": "n1"}) == "no access to note n1"
    assert signed_in.attempt("events:channel", typing("c9")) == "not a member of this channel"
