"""policies/10-auth.lua with the user plugin: Open WebUI tokens at CONNECT and in
`user-join`, revocation, directory roles, and the bounds on anonymous sockets
(hole 1 of the reference, §9) and on identity changes (hole 11)."""

import time

import jwt
import pytest
import socketio

from stock import Client, client, mint, stock  # noqa: F401 (fixtures)


def jti_of(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["jti"]


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["websocket", "polling"])
def test_valid_token_connects_and_user_join_acks_id_and_name(stock, client, transports):
    srv = stock()
    c = client(srv).connect(mint("u1", name="Ann"), transports=transports)
    assert c.user_join(mint("u1", name="Ann")) == {"id": "u1", "name": "Ann"}
    assert c.attempt("heartbeat", {}) == "ok", "an authenticated socket may send events"
    c.no_error()


def test_login_page_flow_connect_without_token_then_user_join(stock, client):
    """Open WebUI's login page connects with `{}` and authenticates the same socket
    with `user-join` after signing in."""
    srv = stock()
    c = client(srv).connect()
    assert c.attempt("heartbeat", {}) == "not authenticated"
    assert c.user_join(mint("u1", name="Ann")) == {"id": "u1", "name": "Ann"}
    assert c.attempt("heartbeat", {}) == "ok"


@pytest.mark.parametrize("token, reason", [
    (mint("u1", secret="not-the-secret"), "invalid token"),
    (mint("u1", ttl=-3600), "invalid token"),
    (mint(None), "token has no id"),
    ("not-a-jwt", "invalid token"),
], ids=["bad-signature", "expired", "no-id-claim", "garbage"])
def test_bad_token_leaves_the_socket_unauthenticated(stock, client, token, reason):
    srv = stock()
    c = client(srv).connect(token)
    assert c.sio.connected, "Open WebUI keeps sockets with bad tokens (its client retries with user-join)"
    assert c.attempt("heartbeat", {}) == "not authenticated"
    assert c.user_join(token) is None
    error = c.error()
    assert error["event"] == "user-join" and reason in error["message"], error


def test_revoked_token_is_refused(stock, client):
    srv = stock()
    token = mint("u1")
    jti = jti_of(token)
    srv.admin_or_skip("POST", "revoke", {"jti": jti})
    c = client(srv).connect(token)
    assert c.user_join(token) is None
    assert "revoked" in c.error()["message"]
    assert client(srv).connect(mint("u1")).user_join(mint("u1")) == {"id": "u1", "name": "u1"}, \
        "other tokens of the user still work"


def test_user_revocation_refuses_tokens_issued_before_it(stock, client):
    srv = stock()
    old = mint("u1", iat=time.time() - 60)
    srv.admin_or_skip("POST", "revoke", {"user_id": "u1"})
    c = client(srv).connect(old)
    assert c.user_join(old) is None
    assert "revoked" in c.error()["message"]
    time.sleep(1.1)  # revoked_at has whole seconds; a token issued later is fine
    fresh = mint("u1")
    assert client(srv).connect(fresh).user_join(fresh) == {"id": "u1", "name": "u1"}


def test_revocation_closes_the_live_session(stock, client):
    srv = stock()
    token = mint("u1")
    c = client(srv).connect(token)
    assert c.user_join(token)["id"] == "u1"
    jti = jti_of(token)
    srv.admin_or_skip("POST", "revoke", {"jti": jti})
    assert c.disconnected.wait(5), "a revoked token's live socket is closed"


def test_revocation_reaches_a_socket_authenticated_by_user_join(stock, client):
    """The revoke endpoint finds the socket by the jti of its identity (set by
    `user-join`, not by CONNECT) and closes it at once."""
    srv = stock({"auth": {"recheck_s": 0}})
    token = mint("u1")
    c = client(srv).connect()
    assert c.user_join(token)["id"] == "u1"
    assert c.attempt("heartbeat", {}) == "ok"
    srv.admin_or_skip("POST", "revoke", {"jti": jti_of(token)})
    assert c.disconnected.wait(5), "the revocation closes the socket"


def test_role_change_in_the_directory_reaches_live_sockets(stock, client):
    """A demoted or suspended user loses the session's privileges without reconnecting
    (Open WebUI cached the role until PR #23642)."""
    srv = stock({"auth": {"recheck_s": 0}})
    srv.put_record("user", "u1", {"id": "u1", "name": "Ann", "role": "user"})
    c = client(srv).connect(mint("u1"))
    assert c.attempt("heartbeat", {}) == "ok"
    srv.put_record("user", "u1", {"id": "u1", "name": "Ann", "role": "pending"})
    c.emit("heartbeat", {})
    assert c.disconnected.wait(5)


def test_directory_record_gives_name_and_role(stock, client):
    srv = stock()
    srv.put_record("user", "u1", {"id": "u1", "name": "Ann from the directory", "role": "user"})
    c = client(srv).connect(mint("u1", name="Token Name"))
    assert c.user_join(mint("u1", name="Token Name")) == {"id": "u1", "name": "Ann from the directory"}


@pytest.mark.parametrize("record", [
    {"id": "u1", "name": "P", "role": "pending"},
    {"id": "u1", "name": "D", "role": "user", "disabled": True},
], ids=["pending", "disabled"])
def test_pending_or_disabled_user_is_refused(stock, client, record):
    srv = stock()
    srv.put_record("user", "u1", record)
    c = client(srv).connect(mint("u1"))
    assert c.attempt("heartbeat", {}) == "not authenticated"
    assert c.user_join(mint("u1")) is None


def test_require_known_user_refuses_tokens_of_users_the_directory_lacks(stock, client):
    srv = stock({"auth": {"require_known_user": True}})
    c = client(srv).connect(mint("stranger"))
    assert c.user_join(mint("stranger")) is None
    assert c.error()["message"] == "unknown user"


def test_token_role_is_not_trusted_unless_configured(stock, client):
    """`palisade token --role admin` puts a role claim in; Open WebUI's tokens have none.
    Without a directory record the role is `user` unless `trust_token_role` is set."""
    srv = stock({"auth": {"trust_token_role": True, "require_known_user": False}})
    c = client(srv).connect(mint("boss", role="pending"))
    assert c.user_join(mint("boss", role="pending")) is None, "a trusted role must still be user or admin"
    assert client(srv).connect(mint("boss", role="admin")).user_join(mint("boss", role="admin"))["id"] == "boss"


def test_hole_01_unauthenticated_socket_may_only_send_user_join(stock, client):
    srv = stock()
    c = client(srv).connect()
    for event, payload in [
        ("heartbeat", {}),
        ("join-channels", {"auth": {"token": "x"}}),
        ("join-note", {"note_id": "n1"}),
        ("usage", {"model": "m", "action": "chat", "chat_id": ""}),
        ("events:channel", {"channel_id": "c1", "message_id": None, "data": {"type": "typing", "data": {"typing": True}}}),
        ("ydoc:document:join", {"document_id": "note:n1"}),
    ]:
        assert c.attempt(event, payload) == "not authenticated", event
    assert c.user_join(mint("u1")) == {"id": "u1", "name": "u1"}


def test_hole_01_unauthenticated_sockets_are_capped_per_ip(stock, client):
    srv = stock({"auth": {"anonymous_per_ip": 3}})
    for _ in range(3):
        client(srv).connect()
    refused = client(srv)
    with pytest.raises(socketio.exceptions.ConnectionError):
        refused.connect()
    assert refused.next("connect_error") == ({"message": "too many unauthenticated connections"},)
    assert client(srv).connect(mint("u1")).sio.connected, "sockets with a valid token are not capped"


def test_hole_01_unauthenticated_socket_is_closed_after_the_grace_period(stock, client):
    srv = stock({"auth": {"grace_s": 1}})
    anonymous = client(srv).connect()
    signed_in = client(srv).connect(mint("u1"))
    # Silent: nothing is sent, the core timer set in `connect` closes it.
    assert anonymous.disconnected.wait(5), "an anonymous socket past its grace period is closed"
    assert signed_in.attempt("heartbeat", {}) == "ok", "authenticated sockets have no grace period"


def test_hole_01_grace_close_lets_the_client_reconnect_and_sign_in(stock):
    """The close is a transport close, not a Socket.IO DISCONNECT: socket.io clients
    reconnect by themselves, so a login page left open can still sign in."""
    import socketio
    srv = stock({"auth": {"grace_s": 1}})
    sio = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=0.5)
    connects = []
    sio.on("connect", lambda: connects.append(time.monotonic()))
    sio.connect(srv.url, socketio_path="/ws/socket.io", transports=["websocket"], wait_timeout=5)
    try:
        deadline = time.monotonic() + 8
        while len(connects) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(connects) >= 2, "the client did not reconnect after the grace close"
        assert sio.call("user-join", {"auth": {"token": mint("u1")}}, timeout=5)["id"] == "u1"
    finally:
        sio.disconnect()


def test_hole_11_user_join_cannot_switch_the_socket_to_another_user(stock, client):
    srv = stock()
    c = client(srv).connect(mint("alice", name="Alice"))
    assert c.user_join(mint("bob", name="Bob")) is None
    error = c.error()
    assert error["event"] == "user-join" and "another user" in error["message"]
    assert c.user_join(mint("alice", name="Alice")) == {"id": "alice", "name": "Alice"}, "the same user may re-join"


def test_hole_01_closing_or_signing_in_anonymous_sockets_frees_their_places(stock, client):
    """The cap counts anonymous sockets open now, not those opened in a window: one that
    disconnects or signs in (`user-join`) gives its place back at once."""
    srv = stock({"auth": {"anonymous_per_ip": 2}})
    first, second = client(srv).connect(), client(srv).connect()
    refused = client(srv)
    with pytest.raises(socketio.exceptions.ConnectionError):
        refused.connect()
    first.sio.disconnect()
    time.sleep(0.3)
    third = client(srv).connect()
    assert third.sio.connected, "a closed anonymous socket still counted"
    assert second.user_join(mint("u1")) == {"id": "u1", "name": "u1"}
    assert client(srv).connect().sio.connected, "a signed-in socket still counted as anonymous"
    with pytest.raises(socketio.exceptions.ConnectionError):
        client(srv).connect()


def test_policy_settings_with_underscores_from_the_environment(stock, client, tmp_path):
    """`PALISADE_POLICY_<PATH>` works for every key, `_` in the key or not, whether or not the
    config file has it, and never turns a value of the file into a table (issue 20, item 6)."""
    srv = stock({"auth": {"anonymous": True, "grace_s": 60}},
                PALISADE_POLICY_AUTH_GRACE_S="1", PALISADE_POLICY_AUTH_ANONYMOUS_PER_IP="1")
    anonymous = client(srv).connect()
    refused = client(srv)
    with pytest.raises(socketio.exceptions.ConnectionError):
        refused.connect()  # anonymous_per_ip = 1, from the environment, next to the file's `anonymous`
    assert anonymous.disconnected.wait(5), "grace_s = 1 from the environment, over the file's 60"
