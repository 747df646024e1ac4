"""The audit stream (issue 20, item 2): `server.audit` gets one JSON line per security decision,
apart from the log: connects accepted and refused with the reason, every deny and drop with the
hook and the module that gave it, rate-limit refusals, caps, `px.audit` from the stock policies,
reloads and every admin call. No line holds a token or a secret."""

from __future__ import annotations

import json
import time

import pytest
import requests
import socketio

from stock import ADMIN_TOKEN, client, mint, stock  # noqa: F401 (fixtures)


def lines(path, kind=None, timeout=3.0, at_least=1):
    """The audit lines (of `kind`), waiting until at least `at_least` are there."""
    deadline = time.monotonic() + timeout
    while True:
        found = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        if kind:
            found = [line for line in found if line["audit"] == kind]
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_each_kind_of_decision_is_a_line_and_none_holds_a_token(stock, client, tmp_path):
    audit = tmp_path / "audit.jsonl"
    srv = stock({"auth": {"anonymous_per_ip": 1}, "ratelimit": {"events": {"limit": 2, "window_s": 60}}},
                PALISADE_SERVER_AUDIT=str(audit))
    (reload,) = lines(audit, "policy.reload")
    assert reload["generation"] == 1 and "10-auth" in reload["modules"]
    # A connect with a token; an anonymous one; one anonymous too many (10-auth's px.audit and its deny).
    token = mint("u1")
    signed_in = client(srv).connect(token)
    anonymous = client(srv).connect()
    with pytest.raises(socketio.exceptions.ConnectionError):
        client(srv).connect()
    accepted = lines(audit, "auth.accepted", at_least=2)
    assert any(line.get("user_id") == "u1" and line["sid"] == signed_in.sid for line in accepted)
    assert any(line.get("anonymous") is True and line["sid"] == anonymous.sid for line in accepted)
    (refused,) = lines(audit, "auth.refused")
    assert refused["reason"] == "too many unauthenticated connections" and refused["ip"] == "127.0.0.1"
    (cap,) = lines(audit, "auth.anonymous_cap")
    assert cap["ip"] == "127.0.0.1" and cap["generation"] == 1
    denied = lines(audit, "policy.deny")
    assert any(d["hook"] == "authenticate" and d["module"] == "10-auth" for d in denied), denied
    # An event refused by 10-auth, then events past 30-ratelimit's limit.
    assert anonymous.attempt("heartbeat", {}) == "not authenticated"
    for _ in range(4):
        signed_in.attempt("heartbeat", {})
    denied = lines(audit, "policy.deny", at_least=3)
    assert any(d["hook"] == "event" and d["module"] == "10-auth" and d["event"] == "heartbeat"
               and d["sid"] == anonymous.sid for d in denied), denied
    assert any(d["hook"] == "event" and d["module"] == "30-ratelimit" and d.get("user_id") == "u1" for d in denied), denied
    # Admin calls, with and without the token.
    assert srv.admin("GET", "sessions").status_code == 200
    assert requests.get(f"{srv.url}/admin/v1/sessions", timeout=5).status_code == 401
    calls = lines(audit, "admin.call", at_least=2)
    assert [(c["method"], c["path"], c["status"]) for c in calls][-2:] == [
        ("GET", "/admin/v1/sessions", 200), ("GET", "/admin/v1/sessions", 401)]
    # Every line has a time and a kind; none holds a token or the admin's secret.
    text = audit.read_text()
    assert token not in text and ADMIN_TOKEN not in text and "eyJ" not in text
    assert all(line["ts"].endswith("Z") and line["audit"] for line in lines(audit))


def test_connection_caps_are_audited(stock, tmp_path):
    audit = tmp_path / "audit.jsonl"
    srv = stock(PALISADE_SERVER_AUDIT=str(audit), PALISADE_LIMITS_MAX_CONNECTIONS_PER_IP="1")
    from wire import polling_url

    assert requests.get(polling_url(srv), timeout=5).status_code == 200
    assert requests.get(polling_url(srv), timeout=5).status_code == 429
    (cap,) = lines(audit, "cap.refused")
    assert cap == {"ts": cap["ts"], "audit": "cap.refused", "cap": "connections_per_ip", "ip": "127.0.0.1"}
