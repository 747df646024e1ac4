"""`/metrics` through swift-metrics and swift-prometheus (issue 20, item 1): the product's
Prometheus text, read with prometheus_client's own parser. Each family moves when its event
happens (a connect, an event, a deny by a named module, a rate-limit refusal, a cap refusal, a
Yjs update, a reload), and no label value names a user, a socket, an address or a document."""

from __future__ import annotations

import json
import time

import requests
from prometheus_client.parser import text_string_to_metric_families

from redis_process import redis_server  # noqa: F401 (fixture)
from stock import client, mint, stock  # noqa: F401 (fixtures)
from test_distributed_health import wait_health
from test_yjs_relay import DOC, setup_directory
from test_yjs_relay import editor  # noqa: F401 (fixture)
from wire import polling_handshake, polling_url, split_payload


def scrape(srv) -> list:
    """Every sample of `/metrics` as (name, labels, value), parsed as Prometheus does."""
    response = requests.get(f"{srv.url}/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(response.text) for s in family.samples]


def value(samples, name: str, **labels) -> float:
    """The sum of `name`'s samples whose labels include `labels` (0 when there is none)."""
    return sum(v for n, ls, v in samples if n == name and all(ls.get(k) == want for k, want in labels.items()))


def wait_for(srv, check, timeout: float = 5.0) -> list:
    """Scrapes until `check(samples)` holds; the last samples."""
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(srv)
        if check(samples) or time.monotonic() > deadline:
            return samples
        time.sleep(0.05)


def label_values(samples) -> set[str]:
    return {v for _, labels, _ in samples for v in labels.values()}


def test_connects_events_denies_and_rate_limits_move_their_families(stock, client):
    srv = stock({"ratelimit": {"events": {"limit": 2, "window_s": 60}}})
    before = scrape(srv)
    assert value(before, "palisade_policy_generation") == 1
    assert value(before, "palisade_hook_failures_total") == 0
    assert value(before, "palisade_sockets", auth="authenticated") == 0

    signed_in = client(srv).connect(mint("metrics-user-1"))
    anonymous = client(srv).connect(transports=("polling",))
    after = wait_for(srv, lambda s: value(s, "palisade_sockets", auth="anonymous") == 1)
    assert value(after, "palisade_sockets", auth="authenticated") == 1
    assert value(after, "palisade_sockets", auth="anonymous") == 1
    assert value(after, "palisade_connections_opened_total", transport="websocket") == 1
    assert value(after, "palisade_connections_opened_total", transport="polling") == 1
    assert value(after, "palisade_connections", transport="websocket") == 1
    assert value(after, "palisade_sessions") == 2
    # The connects ran the authenticate hook: its latency histogram counted them.
    assert value(after, "palisade_hook_duration_seconds_count", hook="authenticate") >= 2
    # Both were let in (the signed-in one and the anonymous one): allows have no module.
    assert value(after, "palisade_policy_decisions_total", hook="authenticate", outcome="allow") == 2
    assert value(after, "palisade_policy_decisions_total", hook="handshake", outcome="allow") == 2

    # An event refused by 10-auth (the anonymous socket), then events past 30-ratelimit's limit.
    assert anonymous.attempt("heartbeat", {}) == "not authenticated"
    answers = [signed_in.attempt("heartbeat", {}) for _ in range(4)]
    assert "ok" in answers and any(a != "ok" for a in answers), answers
    signed_in.emit("an-event-nobody-defined", {})
    after = wait_for(srv, lambda s: value(s, "palisade_events_received_total", event="other") == 1)
    assert value(after, "palisade_events_received_total", event="heartbeat") == 5
    assert value(after, "palisade_events_received_total", event="other") == 1
    assert value(after, "palisade_policy_decisions_total", hook="event", module="10-auth", outcome="deny") == 1
    assert value(after, "palisade_policy_decisions_total", hook="event", module="30-ratelimit", outcome="deny") >= 1
    allowed = value(after, "palisade_policy_decisions_total", hook="event", outcome="allow")
    assert allowed == answers.count("ok") == 2, "the heartbeats let through (the unknown event came past the limit)"
    assert value(after, "palisade_hook_duration_seconds_count", hook="event") >= 6
    # The refusals went out as `error` events, the allowed heartbeats' acks as acks.
    assert value(after, "palisade_events_sent_total") >= value(before, "palisade_events_sent_total") + 3

    # A disconnect: the gauges come back down and the close is counted by reason.
    anonymous.sio.disconnect()
    after = wait_for(srv, lambda s: value(s, "palisade_sockets", auth="anonymous") == 0)
    assert value(after, "palisade_sockets", auth="anonymous") == 0
    assert value(after, "palisade_connections_closed_total") >= 1

    # Nothing in a label says who: no user id, sid, address.
    labels = label_values(after)
    for secret in ("metrics-user-1", signed_in.sid, "127.0.0.1"):
        assert secret not in labels and not any(secret in v for v in labels), secret


def test_yjs_updates_refusals_and_a_reload_move_their_families(stock, editor):
    srv = setup_directory(stock())
    before = scrape(srv)
    ann = editor(srv, "ann")
    ann.join()
    sam = editor(srv, "sam")  # no grant at all: the join is refused
    assert sam.join_refused()["event"] == "ydoc:document:join"
    update = ann.append("hello")
    after = wait_for(srv, lambda s: value(s, "palisade_yjs_updates_total") == 1)
    assert value(after, "palisade_yjs_updates_total") == 1
    assert value(after, "palisade_yjs_update_bytes_total") == len(update)
    assert value(after, "palisade_yjs_joins_total") == 1
    assert value(after, "palisade_yjs_documents") >= 1
    assert value(after, "palisade_yjs_refusals_total", event="ydoc:document:join") == 1
    assert value(after, "palisade_events_received_total", event="ydoc:document:update") == 1
    # The refused join was 20-access's deny of the read.
    assert value(after, "palisade_policy_decisions_total", hook="authorize", outcome="deny") >= 1

    assert srv.admin("POST", "reload").status_code == 200
    after = wait_for(srv, lambda s: value(s, "palisade_policy_generation") == 2)
    assert value(after, "palisade_policy_generation") == 2
    assert value(after, "palisade_policy_reloads_total", result="ok") == value(before, "palisade_policy_reloads_total", result="ok") + 1
    assert value(after, "palisade_policy_reloads_total", result="failed") == 0

    labels = label_values(after)
    for secret in ("ann", "sam", ann.sid, sam.sid, DOC, "n1", "doc_note:n1", "127.0.0.1"):
        assert secret not in labels, secret


def test_cap_refusals_are_counted_by_cap(stock):
    srv = stock(PALISADE_LIMITS_MAX_CONNECTIONS_PER_IP="1")
    assert value(scrape(srv), "palisade_caps_refused_total", cap="connections_per_ip") == 0
    assert requests.get(polling_url(srv), timeout=5).status_code == 200
    assert requests.get(polling_url(srv), timeout=5).status_code == 429
    after = scrape(srv)
    assert value(after, "palisade_caps_refused_total", cap="connections_per_ip") == 1
    assert value(after, "palisade_caps_refused_total", cap="connections") == 0
    assert value(after, "palisade_connections_opened_total", transport="polling") == 1
    # Every cap of the issue has its series from the start.
    caps = {labels["cap"] for name, labels, _ in after if name == "palisade_caps_refused_total"}
    assert caps == {"connections", "connections_per_ip", "connections_per_user", "rooms_per_socket", "inbound_buffer"}


def test_a_client_that_does_not_read_is_closed_and_counted_as_a_slow_consumer(stock):
    srv = stock(PALISADE_SOCKETIO_MAX_OUTBOUND_BYTES="65536")
    handshake, _ = polling_handshake(srv)
    url = polling_url(srv, sid=handshake["sid"])
    assert requests.post(url, data="40", timeout=5).text == "ok"
    packets: list[str] = []
    deadline = time.monotonic() + 5
    while not any(p.startswith("40{") for p in packets):
        assert time.monotonic() < deadline, packets
        packets += split_payload(requests.get(url, timeout=5).text)
    sid = json.loads(next(p for p in packets if p.startswith("40{"))[2:])["sid"]
    # From here on the client never polls: what the server sends it piles up past the limit.
    for _ in range(8):
        assert srv.admin("POST", "emit", {"room": sid, "event": "big", "data": "x" * 20000}).status_code < 300
    after = wait_for(srv, lambda s: value(s, "palisade_connections_closed_total", reason="slow_consumer") == 1)
    assert value(after, "palisade_connections_closed_total", reason="slow_consumer") == 1
    assert value(after, "palisade_connections", transport="polling") == 0
    assert sid not in label_values(after)


def test_redis_state_latency_and_fallbacks_are_counted(stock, client, redis_server):
    srv = stock(PALISADE_REDIS_URL=redis_server.url)
    wait_health(srv, "up")
    user = client(srv).connect(mint("metrics-redis-user"))
    assert user.attempt("heartbeat", {}) == "ok"
    up = scrape(srv)
    assert value(up, "palisade_redis_up") == 1
    assert value(up, "palisade_redis_duration_seconds_count", store="state") >= 1  # the revocation lookups
    assert value(up, "palisade_redis_duration_seconds_count", store="ratelimit") >= 1
    assert value(up, "palisade_redis_fallbacks_total") == 0
    assert value(up, "palisade_redis_command_duration_seconds_count") >= 2  # every command of every store
    assert value(up, "palisade_redis_command_errors_total") == 0
    assert value(up, "palisade_redis_links_lost_total") == 0

    redis_server.stop()
    wait_health(srv, "down")
    assert client(srv).connect(mint("metrics-redis-user-2")).attempt("heartbeat", {}) == "ok"
    down = scrape(srv)
    assert value(down, "palisade_redis_up") == 0
    assert value(down, "palisade_redis_fallbacks_total", store="state") >= 1
    assert value(down, "palisade_redis_fallbacks_total", store="ratelimit") >= 1
    assert value(down, "palisade_redis_links_lost_total") >= 1
    assert value(down, "palisade_redis_command_errors_total", code="notConnected") >= 1


def test_ban_refusals_are_counted_by_kind_never_by_address(stock):
    srv = stock(PALISADE_SERVER_TRUSTED_PROXIES="127.0.0.1/32")
    assert srv.admin("POST", "bans", {"kind": "ip", "value": "10.7.7.7", "duration_s": 600}).status_code == 201
    refused = requests.get(polling_url(srv), headers={"X-Forwarded-For": "10.7.7.7"}, timeout=5)
    assert refused.status_code == 403
    after = scrape(srv)
    assert value(after, "palisade_bans_refused_total", kind="ip") == 1
    assert value(after, "palisade_bans_refused_total", kind="user") == 0
    assert not any("10.7.7.7" in v for v in label_values(after))
