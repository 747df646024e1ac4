"""With `openwebui.url` set, Open WebUI is the source of truth for who a socket's user is
(issue 18, item 2): the stock 10-auth asks `GET /api/v1/auths/` with the user's own token, which
applies Open WebUI's session stamp, MFA and role rules. A real `palisade serve` with the stock
profile, against a stand-in for Open WebUI's API (fake_openwebui.py)."""

from __future__ import annotations

import time

from fake_openwebui import openwebui  # noqa: F401 (fixture)
from stock import client, mint, stock  # noqa: F401 (fixtures)


def test_a_session_open_webui_accepts_gets_its_role_and_name(stock, client, openwebui):
    token = mint("u1", name="Token Name")
    openwebui.sign_in(token, "u1", role="admin", name="Ann from Open WebUI")
    srv = stock(PALISADE_OPENWEBUI_URL=openwebui.url)
    c = client(srv).connect(token)
    assert c.user_join(token) == {"id": "u1", "name": "Ann from Open WebUI"}
    (session,) = srv.admin("GET", "sessions?user_id=u1").json()
    assert "user:u1" in session["rooms"]


def test_a_valid_jwt_whose_session_open_webui_refuses_gets_no_identity(stock, client, openwebui):
    """A signed, unexpired token Open WebUI no longer honours (signed out, session stamp changed,
    MFA pending): the socket stays anonymous and user-join is refused."""
    srv = stock(PALISADE_OPENWEBUI_URL=openwebui.url)
    token = mint("u1")
    c = client(srv).connect(token)
    assert c.user_join(token) is None
    assert c.error()["message"] == "session refused by Open WebUI"  # user-join's refusal, with the reason
    assert c.attempt("heartbeat", {}) == "not authenticated"
    assert openwebui.auth_requests() >= 1


def test_open_webui_unreachable_means_no_identity(stock, client, openwebui):
    token = mint("u1")
    openwebui.sign_in(token, "u1")
    openwebui.down = True
    srv = stock(PALISADE_OPENWEBUI_URL=openwebui.url)
    c = client(srv).connect(token)
    assert c.user_join(token) is None, "fail closed: no answer from Open WebUI is no session"
    openwebui.down = False
    assert c.user_join(token) == {"id": "u1", "name": "Ann"}


def test_pending_users_get_no_session(stock, client, openwebui):
    token = mint("u1")
    openwebui.sign_in(token, "u1", role="pending")
    srv = stock(PALISADE_OPENWEBUI_URL=openwebui.url)
    c = client(srv).connect(token)
    assert c.user_join(token) is None


def test_a_session_open_webui_ends_closes_the_live_socket(stock, client, openwebui):
    token = mint("u1")
    openwebui.sign_in(token, "u1")
    srv = stock({"auth": {"recheck_s": 0.5}, "openwebui": {"cache_s": 0.2}}, PALISADE_OPENWEBUI_URL=openwebui.url)
    c = client(srv).connect(token)
    assert c.attempt("heartbeat", {}) == "ok"
    del openwebui.sessions[token]  # signed out in Open WebUI (its session stamp changed)
    deadline = time.monotonic() + 5
    while not c.disconnected.is_set() and time.monotonic() < deadline:
        c.emit("heartbeat", {})
        time.sleep(0.2)
    assert c.disconnected.is_set(), "the socket outlived its Open WebUI session"


def test_answers_are_reused_for_a_few_seconds(stock, client, openwebui):
    token = mint("u1")
    openwebui.sign_in(token, "u1")
    srv = stock(PALISADE_OPENWEBUI_URL=openwebui.url)
    for _ in range(3):
        client(srv).connect(token)
    assert openwebui.auth_requests() == 1, "each connect asked Open WebUI again"


def test_a_socket_signed_in_by_user_join_is_rechecked_with_that_token(stock, client, openwebui):
    """The login page's socket connects without a token and signs in with `user-join`: its
    re-checks ask Open WebUI with the `user-join` token, so ending that session closes it."""
    token = mint("u1")
    openwebui.sign_in(token, "u1")
    srv = stock({"auth": {"recheck_s": 0.5}, "openwebui": {"cache_s": 0.2}}, PALISADE_OPENWEBUI_URL=openwebui.url)
    c = client(srv).connect()
    assert c.user_join(token) == {"id": "u1", "name": "Ann"}
    time.sleep(0.7)
    assert c.attempt("heartbeat", {}) == "ok", "a live Open WebUI session was closed"
    del openwebui.sessions[token]
    deadline = time.monotonic() + 5
    while not c.disconnected.is_set() and time.monotonic() < deadline:
        c.emit("heartbeat", {})
        time.sleep(0.2)
    assert c.disconnected.is_set(), "the socket outlived its Open WebUI session"
