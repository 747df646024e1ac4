"""`palisade status` (issue 20 item 5) and `GET /admin/v1/refusals`: a stock server with signed-in
and anonymous sessions, refusals (an anonymous socket's event, a banned user, a banned address)
and bans; `.build/debug/palisade status` prints them as a table and with `--json` as one object."""

from __future__ import annotations

import json
import os
import subprocess
import pytest
import requests
import socketio

from product import BINARY
from stock import ADMIN_TOKEN, client, mint, stock  # noqa: F401 (fixtures)
from wire import SIO_PATH, polling_url

PROXY = {"PALISADE_SERVER_TRUSTED_PROXIES": "127.0.0.1/32"}


def status(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PALISADE_")}
    return subprocess.run([str(BINARY), "status", *args], env={**clean, **(env or {})}, capture_output=True,
                          text=True, timeout=30)


@pytest.fixture
def busy(stock, client):
    """A server with three sessions of u1 and u2, one anonymous, three kinds of refusals and two bans."""
    srv = stock(**PROXY)
    alice = [client(srv).connect(mint("alice")) for _ in range(2)]
    bob = client(srv).connect(mint("bob"))
    anonymous = client(srv).connect()
    assert anonymous.attempt("heartbeat", {}) == "not authenticated"  # policy.deny
    assert srv.admin("POST", "bans", {"kind": "user", "value": "mallory", "duration_s": 600,
                                      "reason": "flooding"}).status_code == 201
    assert srv.admin("POST", "bans", {"kind": "ip", "value": "203.0.113.7", "duration_s": 600}).status_code == 201
    with pytest.raises(socketio.exceptions.ConnectionError):
        client(srv).connect(mint("mallory"))  # ban.refused (user)
    r = requests.get(polling_url(srv), headers={"X-Forwarded-For": "203.0.113.7"}, timeout=5)
    assert r.status_code == 403  # ban.refused (address)
    return srv, alice, bob, anonymous


def test_refusals_are_listed_newest_first_with_their_fields(busy):
    srv, *_ = busy
    refusals = srv.admin("GET", "refusals").json()
    kinds = [r["audit"] for r in refusals]
    assert kinds[0] == "ban.refused" and refusals[0]["ip"] == "203.0.113.7" and refusals[0]["ban"] == "ip:203.0.113.7"
    assert any(r["audit"] == "ban.refused" and r.get("user_id") == "mallory" for r in refusals), refusals
    assert any(r["audit"] == "policy.deny" and r["event"] == "heartbeat" and r["module"] == "10-auth" for r in refusals)
    assert all(r["ts"].endswith("Z") for r in refusals)
    assert "policy.drop" not in kinds and "ban.added" not in kinds
    assert len(srv.admin("GET", "refusals?limit=1").json()) == 1
    assert srv.admin("GET", "refusals?limit=x").status_code == 400
    assert requests.get(f"{srv.url}/admin/v1/refusals", timeout=5).status_code == 401


def test_the_ring_keeps_the_last_hundred_refusals(stock):
    srv = stock(**PROXY)
    assert srv.admin("POST", "bans", {"kind": "cidr", "value": "203.0.113.0/24", "duration_s": 600}).status_code == 201
    for n in range(105):
        r = requests.get(polling_url(srv), headers={"X-Forwarded-For": f"203.0.113.{n}"}, timeout=5)
        assert r.status_code == 403
    refusals = srv.admin("GET", "refusals").json()
    assert [r["ip"] for r in refusals] == [f"203.0.113.{n}" for n in range(104, 4, -1)]
    assert srv.admin("GET", "refusals?limit=1000").json() == refusals


def test_status_json_reports_sessions_rooms_policy_caps_bans_and_refusals(busy):
    srv, alice, bob, anonymous = busy
    run = status("--url", srv.url, "--token", ADMIN_TOKEN, "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    sessions = report["sessions"]
    assert sessions["count"] == 4 and sessions["signed_in"] == 3 and sessions["anonymous"] == 1
    assert sessions["by_transport"] == {"websocket": 4}
    assert sessions["top_users"][:2] == [{"user_id": "alice", "sessions": 2}, {"user_id": "bob", "sessions": 1}]
    assert sessions["top_ips"] == [{"ip": "127.0.0.1", "sessions": 4}]
    # Rooms as the sessions list them, without each socket's own room.
    listed = srv.admin("GET", "sessions").json()
    rooms = {room for s in listed for room in s["rooms"] if room != s["sid"]}
    assert report["rooms"]["count"] == len(rooms)
    assert report["policy"] == {"status": "ok", "generation": 1, "policy_error": None, "redis": "off"}
    assert {"connections", "connections_per_ip", "inbound_buffer"} <= set(report["caps"])
    assert all(isinstance(n, int) for n in report["caps"].values())
    assert sorted((b["kind"], b["value"]) for b in report["bans"]) == [("ip", "203.0.113.7"), ("user", "mallory")]
    refusals = report["refusals"]
    assert refusals["by_kind"]["ban.refused"] == 2 and refusals["by_kind"]["policy.deny"] >= 1
    assert refusals["recent"][0]["audit"] == "ban.refused" and refusals["recent"][0]["ip"] == "203.0.113.7"
    assert "not reported" in report["documents"]


def test_status_prints_a_table_with_the_token_from_the_environment(busy):
    srv, *_ = busy
    run = status("--url", srv.url, env={"PALISADE_ADMIN_TOKEN": ADMIN_TOKEN})
    assert run.returncode == 0, run.stderr
    text = run.stdout
    assert f"Palisade at {srv.url}" in text
    assert "sessions   4 (signed in 3, anonymous 1); websocket 4" in text
    assert "top users  alice (2), bob (1)" in text
    assert "policy     status ok, generation 1, redis off" in text
    assert "user mallory" in text and "flooding" in text and "ip 203.0.113.7" in text
    assert "ban.refused ip=203.0.113.7" in text
    assert "documents  not reported" in text


def test_status_reads_the_port_and_token_from_the_config_file(busy, tmp_path):
    srv, *_ = busy
    port = srv.url.rsplit(":", 1)[1]
    config = tmp_path / "status.json"
    config.write_text(json.dumps({"server": {"port": int(port)}, "admin": {"token": ADMIN_TOKEN}}))
    run = status("--config", str(config), "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["sessions"]["count"] == 4


def test_status_with_a_wrong_token_or_no_server_fails_saying_why(stock, tmp_path):
    srv = stock()
    run = status("--url", srv.url, "--token", "wrong")
    assert run.returncode == 1 and "HTTP 401" in run.stderr and run.stdout == ""
    run = status("--url", "http://127.0.0.1:9", "--token", ADMIN_TOKEN)
    assert run.returncode == 1 and "palisade: status:" in run.stderr
    run = status("--url", srv.url)
    assert run.returncode == 2 and "no admin token" in run.stderr


def test_status_escapes_control_characters_that_clients_chose(stock, client):
    # An event name is the client's: printed raw, an escape sequence would reach the operator's terminal.
    srv = stock()
    anonymous = client(srv).connect()
    assert anonymous.attempt("\x1b[2Jevil", {}) != "ok"
    assert any(r["event"] == "\x1b[2Jevil" for r in srv.admin("GET", "refusals").json())
    run = status("--url", srv.url, "--token", ADMIN_TOKEN)
    assert run.returncode == 0, run.stderr
    assert "\x1b" not in run.stdout and "event=\\u{1b}[2Jevil" in run.stdout
    assert json.loads(status("--url", srv.url, "--token", ADMIN_TOKEN, "--json").stdout)["refusals"]["recent"][0]["event"] \
        == "\x1b[2Jevil"


def test_without_an_audit_stream_px_audit_still_goes_to_the_log_and_refusals_are_kept(stock, client):
    # The refusal log sits in front of the audit sink even when `server.audit` is not set.
    srv = stock({"auth": {"anonymous_per_ip": 1}})
    client(srv).connect()
    with pytest.raises(socketio.exceptions.ConnectionError):
        client(srv).connect()
    line = srv.wait_log("audit: auth.anonymous_cap")
    assert "127.0.0.1" in line
    assert not any("audit: auth.refused" in l or "audit: policy.deny" in l for l in srv.stderr_lines)
    assert {"policy.deny", "auth.refused"} <= {r["audit"] for r in srv.admin("GET", "refusals").json()}
