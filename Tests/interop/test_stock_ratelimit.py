"""policies/30-ratelimit.lua: floods of events, Yjs awareness and connects are
refused with "rate limited" errors (hole 2 of the reference, §9), repeat offenders
are disconnected, and the window is exact without counting refusals (hole 20)."""

import time

import pytest
import socketio

from stock import client, mint, stock  # noqa: F401 (fixtures)

AWARENESS = {"document_id": "note:n1", "update": list(b'{"1":{"user":{"name":"A"}}}')}


def test_hole_02_event_flood_gets_rate_limited_errors(stock, client):
    srv = stock({"ratelimit": {"events": {"limit": 10, "window_s": 30}, "offences": {"limit": 100}}})
    c = client(srv).connect(mint("u1"))
    outcomes = [c.attempt("heartbeat", {}) for _ in range(15)]
    assert outcomes[:10] == ["ok"] * 10
    for message in outcomes[10:]:
        assert message.startswith("rate limited; retry after "), message
        assert 0 < float(message.split("after ")[1].rstrip(" s")) <= 30
    assert c.sio.connected


def test_hole_02_rate_limit_error_names_the_event(stock, client):
    srv = stock({"ratelimit": {"events": {"limit": 1, "window_s": 30}}})
    c = client(srv).connect(mint("u1"))
    c.emit("heartbeat", {})
    c.emit("usage", {"model": "m", "action": "chat", "chat_id": ""})
    error = c.error()
    assert error["event"] == "usage" and "rate limited" in error["message"], error
    assert 0 < error["retry_after"] <= 30, error


def test_hole_02_awareness_flood_is_limited_in_its_own_class(stock, client):
    srv = stock({"ratelimit": {"awareness": {"limit": 5, "window_s": 30}, "offences": {"limit": 100}}})
    c = client(srv).connect(mint("u1"))
    for _ in range(5):
        c.emit("ydoc:awareness:update", AWARENESS)
    c.emit("ydoc:awareness:update", AWARENESS)
    # The first five pass the policy and reach the core's relay, which refuses them
    # (no document joined); the sixth never gets there.
    messages = [c.error()["message"] for _ in range(6)]
    assert messages[:5] == ["join the document first"] * 5, messages
    assert "rate limited" in messages[5], messages
    assert c.attempt("heartbeat", {}) == "ok", "other events have their own budget"


def test_hole_02_limit_is_per_user_across_sockets(stock, client):
    srv = stock({"ratelimit": {"events": {"limit": 4, "window_s": 30}, "offences": {"limit": 100}}})
    first, second = client(srv).connect(mint("u1")), client(srv).connect(mint("u1"))
    assert [first.attempt("heartbeat", {}) for _ in range(4)] == ["ok"] * 4
    assert "rate limited" in second.attempt("heartbeat", {}), "a user's second socket shares the budget"
    assert client(srv).connect(mint("u2")).attempt("heartbeat", {}) == "ok", "another user has their own"


def test_repeat_offender_is_disconnected(stock, client):
    srv = stock({"ratelimit": {"events": {"limit": 3, "window_s": 30}, "offences": {"limit": 4, "window_s": 60}}})
    c = client(srv).connect(mint("u1"))
    for _ in range(3 + 4 + 1):
        c.emit("heartbeat", {})
    assert c.disconnected.wait(5), "the fifth refusal disconnects"
    assert len(c.drain("error")) == 4


def test_connect_flood_from_one_ip_is_refused(stock, client):
    srv = stock({"ratelimit": {"connects": {"ip_limit": 5, "window_s": 60}}})
    for _ in range(5):
        client(srv).connect(mint("u1"))
    with pytest.raises(socketio.exceptions.ConnectionError):
        client(srv).connect(mint("u1"))


def test_hole_20_window_is_exact_and_refused_attempts_do_not_count(stock, client):
    """Open WebUI's limiter covers a bucket more than its window and counts refused
    attempts, so a client that keeps trying stays locked out. Here the window ends
    on time however often the client knocked meanwhile."""
    window = 2.0
    srv = stock({"ratelimit": {"events": {"limit": 3, "window_s": window}, "offences": {"limit": 1000}}})
    c = client(srv).connect(mint("u1"))
    started = time.monotonic()
    assert [c.attempt("heartbeat", {}) for _ in range(3)] == ["ok"] * 3
    knocks = 0
    while time.monotonic() - started < window - 0.3:
        assert "rate limited" in c.attempt("heartbeat", {})
        knocks += 1
        time.sleep(0.1)
    assert knocks >= 5
    time.sleep(max(0.0, started + window + 0.3 - time.monotonic()))
    assert c.attempt("heartbeat", {}) == "ok", "the window ended on time despite the refused attempts"


def test_an_environment_setting_whose_key_has_an_underscore_applies_without_a_config_file(stock, client):
    # PALISADE_POLICY_RATELIMIT_EVENTS_IP_LIMIT names ratelimit.events.ip_limit; with no config
    # file it arrives split at every `_`, and 00-settings finds it all the same.
    srv = stock(PALISADE_POLICY_RATELIMIT_EVENTS_IP_LIMIT="3", PALISADE_POLICY_RATELIMIT_EVENTS_LIMIT="1000")
    c = client(srv).connect(mint("u1"))
    answers = [c.attempt("heartbeat", {}) for _ in range(5)]
    assert answers[:3] == ["ok", "ok", "ok"], answers
    assert all("rate limited" in answer for answer in answers[3:]), answers
