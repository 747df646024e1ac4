"""Live settings (issue 20, item 3): `PUT /admin/v1/settings` replaces the overrides of the
`policy` section, kept in the data directory and applied by a reload, so the next event obeys a
tightened limit and no connection drops; a value the policies' selftests refuse changes nothing;
and every reload reads the config file's `policy` section again."""

from __future__ import annotations

import json

import requests

from stock import client, mint, stock  # noqa: F401 (fixtures)


def test_a_tightened_limit_applies_to_the_next_event_without_a_dropped_connection(stock, client):
    srv = stock()
    c = client(srv).connect(mint("u1"))
    for _ in range(5):
        assert c.attempt("heartbeat", {}) == "ok"
    r = srv.admin("PUT", "settings", {"ratelimit": {"events": {"limit": 2, "window_s": 60}}})
    assert r.status_code == 200 and r.json()["generation"] == 2, r.text
    # The five heartbeats of the window already pass the new limit of two.
    assert c.attempt("heartbeat", {}).startswith("rate limited"), "the new limit was not obeyed"
    assert c.sio.connected and not c.disconnected.is_set(), "the reload dropped the connection"
    settings = srv.admin("GET", "settings").json()
    assert settings["overrides"] == {"ratelimit": {"events": {"limit": 2, "window_s": 60}}}
    assert settings["policy"]["ratelimit"]["events"]["limit"] == 2
    # Replacing the overrides with none gives the defaults back.
    assert srv.admin("PUT", "settings", {}).status_code == 200
    assert srv.admin("GET", "settings").json()["overrides"] == {}


def test_settings_the_policies_refuse_change_nothing(stock):
    srv = stock()
    assert srv.admin("PUT", "settings", {"autoban": {"ban_s": 60}}).status_code == 200
    r = srv.admin("PUT", "settings", {"autoban": {"ban_s": -1}})  # 07-autoban's selftest refuses it
    assert r.status_code == 422, r.text
    assert srv.admin("GET", "settings").json()["overrides"] == {"autoban": {"ban_s": 60}}
    assert srv.admin("POST", "reload").status_code == 200, "the refused overrides stayed in force"
    assert srv.admin("PUT", "settings", [1, 2]).status_code == 400
    assert requests.put(f"{srv.url}/admin/v1/settings", json={}, timeout=5).status_code == 401
    assert requests.get(f"{srv.url}/admin/v1/settings", timeout=5).status_code == 401


def test_a_reload_reads_the_config_files_policy_section_again(stock, client, tmp_path):
    srv = stock({"ratelimit": {"events": {"limit": 1000, "window_s": 60}}})
    c = client(srv).connect(mint("u1"))
    for _ in range(3):
        assert c.attempt("heartbeat", {}) == "ok"
    config = next(p for p in tmp_path.rglob("palisade.json"))
    config.write_text(json.dumps({"policy": {"ratelimit": {"events": {"limit": 1, "window_s": 60}}}}))
    assert srv.admin("POST", "reload").status_code == 200
    # The three heartbeats of the window already pass the file's new limit of one.
    assert c.attempt("heartbeat", {}).startswith("rate limited"), "the config file's new limit was not read"
