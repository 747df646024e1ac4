"""A socket's session ends when its token does (issue 18, item 3: tokens re-verified on every
authenticated event and for idle sockets too, cheaply). The stock 10-auth keeps the token's
`exp` (plus its leeway) as the identity's `expires_at`; the core closes the socket when it passes, without parsing
the token again, and the core disconnects an idle socket when it passes."""

from __future__ import annotations

import time

from stock import client, mint, stock  # noqa: F401 (fixtures)


def test_an_idle_socket_is_closed_when_its_token_expires(stock, client):
    srv = stock({"auth": {"leeway_s": 0}})
    c = client(srv).connect(mint("u1", ttl=2))
    assert c.attempt("heartbeat", {}) == "ok"
    started = time.monotonic()
    assert c.disconnected.wait(5), "an idle socket outlived its token"
    assert time.monotonic() - started < 3.5


def test_an_unexpired_session_stays(stock, client):
    srv = stock({"auth": {"leeway_s": 0}})
    c = client(srv).connect(mint("u1", ttl=3600))
    assert not c.disconnected.wait(3)
    assert c.attempt("heartbeat", {}) == "ok"


def test_the_leeway_counts(stock, client):
    """A token accepted within the leeway is not closed at its `exp` (which would make the
    client reconnect in a loop until the leeway ran out)."""
    srv = stock({"auth": {"leeway_s": 4}})
    c = client(srv).connect(mint("u1", ttl=1))
    assert not c.disconnected.wait(2.5)
    assert c.disconnected.wait(6)


def test_user_join_with_a_fresh_token_extends_the_session(stock, client):
    srv = stock({"auth": {"leeway_s": 0}})
    c = client(srv).connect(mint("u1", ttl=2))
    assert c.user_join(mint("u1", ttl=3600)) == {"id": "u1", "name": "u1"}
    assert not c.disconnected.wait(4), "the identity user-join refreshed still expired with the first token"
