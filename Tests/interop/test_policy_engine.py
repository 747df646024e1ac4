"""The Lua policy engine through the product binary: check, token, hooks, budgets, hot reload."""
import json
import subprocess
import threading
import time
from pathlib import Path

import jwt
import pytest
import requests
import socketio

from test_cli import BINARY, Palisade, _clean_env

OPEN_POLICY = """
local px = require "palisade"
return {
  authenticate = function(conn, auth)
    if auth.token then
      local claims, err = px.jwt.verify(auth.token, {algorithms = {"HS256"}})
      if not claims then return px.deny("invalid token: " .. err) end
      return {id = claims.id, name = "user " .. claims.id}
    end
    return {anonymous = true}
  end,
  authorize = function() return px.allow() end,
  event = function(conn, name, args)
    conn.data.count = (conn.data.count or 0) + 1
    if name == "boom" then error("exploded on purpose") end
    if name == "spin" then while true do end end
  end,
  events = {
    count = function(conn, ack) ack(conn.data.count, conn.user) end,
  },
}
"""


def write(path: Path, text: str):
    path.write_text(text)


def start(tmp_path, policy=OPEN_POLICY, env=None):
    (tmp_path / "policies").mkdir(exist_ok=True)
    write(tmp_path / "policies" / "05-test.lua", policy)
    server = Palisade(tmp_path, ["--port", "0"], env=env)
    # Palisade() adds its own admit-all module; ours comes first and decides.
    return server


def client(server, **auth):
    sio = socketio.Client(reconnection=False)
    errors = []
    sio.on("error", lambda data: errors.append(data))
    sio.connect(server.url, socketio_path="/ws/socket.io", transports=["websocket"], auth=auth, wait_timeout=5)
    return sio, errors


def health(server):
    return requests.get(server.url + "/healthz", timeout=5).json()


def test_check_exits_0_for_good_modules_and_1_with_file_and_line(tmp_path):
    (tmp_path / "p").mkdir()
    write(tmp_path / "p" / "10-ok.lua", "return { selftest = function() assert(1 + 1 == 2) end }\n")
    ok = subprocess.run([str(BINARY), "check", "--policies", str(tmp_path / "p"), "--plugins", str(tmp_path / "none")],
                        capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stderr
    write(tmp_path / "p" / "20-bad.lua", "return {\n  selftest = function()\n    error('selftest says no')\n  end\n}\n")
    bad = subprocess.run([str(BINARY), "check", "--policies", str(tmp_path / "p"), "--plugins", str(tmp_path / "none")],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1
    assert "20-bad.lua:3:" in bad.stderr and "selftest says no" in bad.stderr
    write(tmp_path / "p" / "20-bad.lua", "return {\n  selftest = function( end\n}\n")
    syntax = subprocess.run([str(BINARY), "check", "--policies", str(tmp_path / "p"), "--plugins", str(tmp_path / "none")],
                            capture_output=True, text=True, timeout=30)
    assert syntax.returncode == 1 and "20-bad.lua:2:" in syntax.stderr


def test_token_is_signed_with_the_secret_serve_generates(tmp_path):
    server = start(tmp_path)
    try:
        secret = (tmp_path / "data" / "jwt-secret").read_text().strip()
        out = subprocess.run([str(BINARY), "token", "--sub", "u42", "--role", "admin", "--data-dir", str(tmp_path / "data")],
                             capture_output=True, text=True, timeout=30, env=_clean_env())
        assert out.returncode == 0, out.stderr
        claims = jwt.decode(out.stdout.strip(), secret, algorithms=["HS256"])
        assert claims["id"] == "u42" and claims["sub"] == "u42" and claims["role"] == "admin" and claims["jti"]
        sio, _ = client(server, token=out.stdout.strip())
        count, user = sio.call("count", timeout=5)
        assert user == {"id": "u42", "name": "user u42"}
        sio.disconnect()
    finally:
        server.stop()


def test_invalid_token_is_refused_with_the_policy_reason(tmp_path):
    server = start(tmp_path)
    try:
        bad = jwt.encode({"id": "x"}, "not-the-secret", algorithm="HS256")
        reasons = []
        sio = socketio.Client(reconnection=False)
        sio.on("connect_error", lambda data: reasons.append(data))
        with pytest.raises(socketio.exceptions.ConnectionError):
            sio.connect(server.url, socketio_path="/ws/socket.io", transports=["websocket"], auth={"token": bad}, wait_timeout=5)
        assert reasons and reasons[0]["message"].startswith("invalid token")
    finally:
        server.stop()


def test_failing_and_runaway_hooks_deny_the_event_and_keep_the_connection(tmp_path):
    server = start(tmp_path)
    try:
        sio, errors = client(server)
        sio.emit("boom")
        sio.emit("spin")
        deadline = time.monotonic() + 5
        while len(errors) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [e["event"] for e in errors] == ["boom", "spin"]
        assert all(e["message"] == "policy error" for e in errors)
        metrics = requests.get(server.url + "/metrics", timeout=5).text
        assert "palisade_hook_failures_total 2" in metrics
        count, _ = sio.call("count", timeout=5)  # still connected, still counted
        assert count == 3
        sio.disconnect()
    finally:
        server.stop()


def test_plugin_added_while_50_clients_are_connected_works_within_3s_without_disconnects(tmp_path):
    server = start(tmp_path)
    clients = []
    disconnects = []
    try:
        for index in range(50):
            sio = socketio.Client(reconnection=False)
            sio.on("disconnect", lambda index=index: disconnects.append(index))
            sio.connect(server.url, socketio_path="/ws/socket.io", transports=["websocket"], wait_timeout=5)
            sio.call("count", timeout=5)
            clients.append(sio)
        generation = health(server)["generation"]
        (tmp_path / "plugins").mkdir(exist_ok=True)
        write(tmp_path / "plugins" / "50-hello.lua",
              'return { events = { hello = function(conn, name, ack) ack("hello " .. name, conn.data.count) end } }\n')
        added = time.monotonic()
        answer = None
        while time.monotonic() - added < 3 and answer is None:
            try:
                answer = clients[0].call("hello", "world", timeout=0.5)
            except socketio.exceptions.TimeoutError:
                pass
        assert answer is not None, "the new plugin did not answer within 3 s"
        assert answer[0] == "hello world"
        assert answer[1] >= 2, "conn.data did not survive the reload"
        assert health(server)["generation"] > generation
        for sio in clients:
            assert sio.call("hello", "again", timeout=5)[0] == "hello again"
        assert disconnects == []
        # The new generation's conn tables are counted, the retired generation's are not.
        assert held_sockets(server) == 50
        for sio in clients[:10]:
            sio.disconnect()
        assert wait_for_held_sockets(server, 40) == 40
    finally:
        for sio in clients:
            sio.disconnect()
        server.stop()


def test_syntax_error_keeps_the_old_generation_and_shows_in_healthz(tmp_path):
    server = start(tmp_path)
    try:
        before = health(server)
        assert before["policy_error"] is None and before["generation"] >= 1
        write(tmp_path / "policies" / "20-broken.lua", "return {\n  event = function( end\n}\n")
        deadline = time.monotonic() + 5
        state = before
        while state["policy_error"] is None and time.monotonic() < deadline:
            time.sleep(0.1)
            state = health(server)
        assert "20-broken.lua:2:" in state["policy_error"]
        assert state["generation"] == before["generation"]
        sio, _ = client(server)  # the old generation still serves
        assert sio.call("count", timeout=5)[0] == 1
        sio.disconnect()
    finally:
        server.stop()


def test_tick_runs_every_second(tmp_path):
    (tmp_path / "plugins").mkdir(exist_ok=True)
    write(tmp_path / "plugins" / "50-ticks.lua", """
local px = require "palisade"
return {
  tick = function(now) px.store.incr("ticks") end,
  events = { ticks = function(conn, ack) ack(tonumber(px.store.get("ticks") or "0")) end },
}
""")
    server = start(tmp_path)
    try:
        sio, _ = client(server)
        first = sio.call("ticks", timeout=5)
        time.sleep(2.2)
        second = sio.call("ticks", timeout=5)
        assert second - first >= 2
        sio.disconnect()
    finally:
        server.stop()


def test_directory_records_are_kept_by_the_admin_api_and_read_by_policies(tmp_path):
    (tmp_path / "plugins").mkdir(exist_ok=True)
    write(tmp_path / "plugins" / "50-dir.lua", """
local px = require "palisade"
return { events = { whois = function(conn, id, ack) ack(px.directory.get("user", id)) end } }
""")
    env = _clean_env()
    env["PALISADE_ADMIN_TOKEN"] = "admin-secret"
    server = start(tmp_path, env=env)
    headers = {"Authorization": "Bearer admin-secret"}
    base = server.url + "/admin/v1/directory/user/u7"
    try:
        assert requests.get(base, timeout=5).status_code == 401
        assert requests.get(base, headers={"Authorization": "Bearer wrong"}, timeout=5).status_code == 401
        assert requests.get(base, headers=headers, timeout=5).status_code == 404
        record = {"id": "u7", "name": "Ada", "role": "admin", "groups": ["g1"], "channels": []}
        put = requests.put(base, data=json.dumps(record), headers=headers, timeout=5)
        assert put.status_code == 200
        assert requests.get(base, headers=headers, timeout=5).json() == record
        sio, _ = client(server)
        assert sio.call("whois", "u7", timeout=5) == record
        assert requests.delete(base, headers=headers, timeout=5).status_code == 200
        assert sio.call("whois", "u7", timeout=5) is None
        sio.disconnect()
        assert requests.put(base, data=json.dumps(record), headers=headers, timeout=5).status_code == 200
    finally:
        server.stop()
    # Durable: a new server on the same data dir still has the record.
    again = start(tmp_path, env=env)
    try:
        assert requests.get(base.replace(server.url, again.url), headers=headers, timeout=5).json() == record
    finally:
        again.stop()


def test_admin_api_lists_kicks_revokes_and_emits(tmp_path):
    env = _clean_env()
    env["PALISADE_ADMIN_TOKEN"] = "admin-secret"
    server = start(tmp_path, env=env)
    headers = {"Authorization": "Bearer admin-secret"}
    admin = server.url + "/admin/v1"
    try:
        secret = (tmp_path / "data" / "jwt-secret").read_text().strip()
        token = jwt.encode({"id": "u9", "jti": "t-1", "exp": int(time.time()) + 600}, secret, algorithm="HS256")
        gone = []
        news = []
        sio = socketio.Client(reconnection=False)
        sio.on("disconnect", lambda *a: gone.append(1))
        sio.on("news", lambda data: news.append(data))
        sio.connect(server.url, socketio_path="/ws/socket.io", transports=["websocket"], auth={"token": token}, wait_timeout=5)
        other, _ = client(server)
        sessions = requests.get(admin + "/sessions?user_id=u9", headers=headers, timeout=5).json()
        assert [s["user_id"] for s in sessions] == ["u9"] and sessions[0]["transport"] == "websocket"
        assert requests.post(admin + "/emit", json={"room": sessions[0]["sid"], "event": "news", "data": {"n": 1}},
                             headers=headers, timeout=5).json() == {"emitted": True}
        deadline = time.monotonic() + 5
        while not news and time.monotonic() < deadline:
            time.sleep(0.05)
        assert news == [{"n": 1}]
        revoked = requests.post(admin + "/revoke", json={"jti": "t-1"}, headers=headers, timeout=5).json()
        assert revoked == {"revoked": True, "disconnected": 1}
        while not gone and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gone == [1]
        assert other.call("count", timeout=5)[0] == 1  # the other client is untouched
        other_sid = requests.get(admin + "/sessions", headers=headers, timeout=5).json()[0]["sid"]
        assert requests.delete(admin + "/sessions/" + other_sid, headers=headers, timeout=5).status_code == 200
        assert requests.delete(admin + "/sessions/nope", headers=headers, timeout=5).status_code == 404
        assert requests.post(admin + "/reload", headers=headers, timeout=5).json()["generation"] >= 2
    finally:
        server.stop()


FIXTURES = Path(__file__).resolve().parent.parent / "PalisadeJWTTests" / "Fixtures"


def test_tokens_are_verified_against_a_jwks_file_by_kid(tmp_path):
    jwks = FIXTURES / "jwks.json"
    policy = """
local px = require "palisade"
return {
  authenticate = function(conn, auth)
    local claims, err = px.jwt.verify(auth.token or "", {algorithms = {"RS256", "ES256"}, jwks_file = "%s"})
    if not claims then return px.deny(err) end
    return {id = claims.id}
  end,
  authorize = function() return px.allow() end,
  events = { whoami = function(conn, ack) ack(conn.user.id) end },
}
""" % str(jwks)
    server = start(tmp_path, policy=policy)
    try:
        rsa = (FIXTURES / "keys" / "rsa.pem").read_text()
        ec = (FIXTURES / "keys" / "ec256.pem").read_text()
        other = (FIXTURES / "keys" / "rsa-other.pem").read_text()
        exp = int(time.time()) + 600
        for key, alg, kid, user in ((rsa, "RS256", "rsa-1", "r"), (ec, "ES256", "ec256-1", "e")):
            token = jwt.encode({"id": user, "exp": exp}, key, algorithm=alg, headers={"kid": kid})
            sio, _ = client(server, token=token)
            assert sio.call("whoami", timeout=5) == user
            sio.disconnect()
        for token in (jwt.encode({"id": "x", "exp": exp}, other, algorithm="RS256", headers={"kid": "rsa-1"}),
                      jwt.encode({"id": "x", "exp": exp}, rsa, algorithm="RS256", headers={"kid": "nope"})):
            refused = socketio.Client(reconnection=False)
            with pytest.raises(socketio.exceptions.ConnectionError):
                refused.connect(server.url, socketio_path="/ws/socket.io", transports=["websocket"], auth={"token": token}, wait_timeout=5)
    finally:
        server.stop()


CONN_FIELDS_POLICY = """
local px = require "palisade"
return {
  authenticate = function(conn, auth) return {id = "u1"} end,
  authorize = function() return px.allow() end,
  events = {
    whoami = function(conn, ack)
      ack({id = conn.id, ip = conn.ip, transport = conn.transport, user = conn.user.id,
           rooms = conn:rooms(), nothing = conn.nothing == nil, raw = rawget(conn, "transport") == nil})
    end,
  },
}
"""


@pytest.mark.parametrize("transports", [["websocket"], ["polling"], ["polling", "websocket"]])
def test_conn_fields_and_methods(tmp_path, transports):
    server = start(tmp_path, policy=CONN_FIELDS_POLICY)
    try:
        sio = socketio.Client(reconnection=False)
        sio.connect(server.url, socketio_path="/ws/socket.io", transports=transports, wait_timeout=5)
        deadline = time.monotonic() + 5
        while sio.transport() != transports[-1] and time.monotonic() < deadline:
            time.sleep(0.05)
        me = sio.call("whoami", timeout=5)
        assert me["id"] == sio.get_sid() and me["ip"] == "127.0.0.1" and me["user"] == "u1"
        assert me["transport"] == transports[-1], "conn.transport follows an upgrade"
        assert me["rooms"] == [sio.get_sid()]
        assert me["nothing"] is True and me["raw"] is True
        sio.disconnect()
    finally:
        server.stop()


# The hooks and then the handler run as one call (EventChain.swift): the handler gets the
# arguments the hooks saw, its ack last, and runs only when every hook let the event through
# and the socket is still open.
HANDLER_AFTER_HOOKS_POLICY = """
local px = require "palisade"
-- What the handlers saw goes to px.store: the two clients of a test may sit on different loops.
local function ran(name) px.store.set("ran:" .. name, "yes") end
return {
  authenticate = function(conn, auth) return {id = "u1"} end,
  authorize = function() return px.allow() end,
  event = function(conn, name, args)
    if name == "refused" then return px.deny("refused by the hook") end
    if name == "dropped" then return px.drop() end
    if name == "closing" then conn:disconnect() end
    if name == "marked" then args[1].marked_by_hook = true end
  end,
  events = {
    shape = function(conn, ...)
      local n = select("#", ...)
      local last = select(n, ...)
      local meta = type(last) == "table" and getmetatable(last) or nil
      local ack = (meta and rawget(meta, "__call")) and last or nil -- only the ack is callable
      local values = px.array()
      for i = 1, (ack and n - 1 or n) do values[i] = (select(i, ...)) end
      local report = {count = ack and n - 1 or n, values = values}
      if ack then ack(report) else px.store.set("ran:shape", px.json.encode(report)) end
    end,
    marked = function(conn, data, ack) ack(data.marked_by_hook == true) end,
    refused = function() ran("refused") end,
    dropped = function() ran("dropped") end,
    closing = function() ran("closing") end,
    broken = function() error("the handler failed on purpose") end,
    ran = function(conn, ack)
      local shape = px.store.get("ran:shape")
      ack({shape = shape and px.json.decode(shape) or nil, refused = px.store.get("ran:refused") ~= nil,
           dropped = px.store.get("ran:dropped") ~= nil, closing = px.store.get("ran:closing") ~= nil})
    end,
  },
}
"""


@pytest.fixture
def handler_client(tmp_path):
    """A server with HANDLER_AFTER_HOOKS_POLICY, and a client: (server, sio, errors)."""
    server = start(tmp_path, policy=HANDLER_AFTER_HOOKS_POLICY)
    try:
        sio, errors = client(server)
        yield server, sio, errors
        sio.disconnect()
    finally:
        server.stop()


def test_a_handler_after_the_hooks_gets_every_argument_and_its_ack_last(handler_client):
    _, sio, errors = handler_client
    assert sio.call("shape", timeout=5) == {"count": 0, "values": []}
    assert sio.call("shape", {"a": 1}, timeout=5) == {"count": 1, "values": [{"a": 1}]}
    assert sio.call("shape", (1, "two", [3]), timeout=5) == {"count": 3, "values": [1, "two", [3]]}
    sio.emit("shape", (4, 5))  # no ack asked: nothing after the arguments
    deadline = time.monotonic() + 5
    while (ran := sio.call("ran", timeout=5))["shape"] is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ran["shape"] == {"count": 2, "values": [4, 5]}
    assert errors == []


def test_a_handler_gets_the_tables_the_hooks_saw(handler_client):
    # One call, one conversion of the arguments: what a hook wrote is there (README: hooks
    # should not rely on it, but two conversions would lose it).
    _, sio, _ = handler_client
    assert sio.call("marked", {"n": 1}, timeout=5) is True


def test_a_handler_does_not_run_after_a_deny_a_drop_or_a_close(handler_client):
    server, sio, errors = handler_client
    sio.emit("refused")
    sio.emit("dropped")
    deadline = time.monotonic() + 5
    while not errors and time.monotonic() < deadline:
        time.sleep(0.05)
    assert errors == [{"message": "refused by the hook", "event": "refused"}]
    closed = threading.Event()
    other = socketio.Client(reconnection=False)
    other.on("disconnect", closed.set)
    other.connect(server.url, socketio_path="/ws/socket.io", transports=["websocket"], wait_timeout=5)
    other.emit("closing")  # the hook closes the socket and lets the event through
    assert closed.wait(5)
    ran = sio.call("ran", timeout=5)
    assert ran["refused"] is False and ran["dropped"] is False and ran["closing"] is False


def test_a_failing_handler_is_counted_and_answers_no_error(handler_client):
    server, sio, errors = handler_client
    sio.emit("broken")
    deadline = time.monotonic() + 5
    while "palisade_hook_failures_total 1" not in requests.get(server.url + "/metrics", timeout=5).text:
        assert time.monotonic() < deadline, "the handler's failure was not counted"
        time.sleep(0.05)
    assert sio.call("ran", timeout=5)["closing"] is False  # still connected, still served
    assert errors == [], "an allowed event whose handler fails gets no error event"


def held_sockets(server) -> int:
    metrics = requests.get(server.url + "/metrics", timeout=5).text
    line = next(line for line in metrics.splitlines() if line.startswith("palisade_policy_sockets "))
    return int(line.split()[1])


def wait_for_held_sockets(server, expected: int) -> int:
    deadline = time.monotonic() + 5
    while (held := held_sockets(server)) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return held


def test_the_policy_forgets_refused_and_disconnected_sockets(tmp_path):
    server = start(tmp_path)
    try:
        secret = (tmp_path / "data" / "jwt-secret").read_text().strip()
        bad = jwt.encode({"id": "x"}, "not-the-secret", algorithm="HS256")
        for _ in range(20):  # each refused CONNECT made a conn table that nothing released
            sio = socketio.Client(reconnection=False)
            with pytest.raises(socketio.exceptions.ConnectionError):
                sio.connect(server.url, socketio_path="/ws/socket.io", transports=["websocket"], auth={"token": bad}, wait_timeout=5)
            sio.disconnect()
        assert wait_for_held_sockets(server, 0) == 0
        good = [client(server, token=jwt.encode({"id": f"u{n}"}, secret, algorithm="HS256"))[0] for n in range(5)]
        for sio in good:
            assert sio.call("count", timeout=5)[0] == 1
        assert held_sockets(server) == 5
        for sio in good:
            sio.disconnect()
        assert wait_for_held_sockets(server, 0) == 0
    finally:
        server.stop()


def test_a_handler_that_fails_still_answers_the_clients_ack(tmp_path):
    """A plugin handler that errors or overruns its deadline before calling `ack` leaves no
    client waiting: the ack is answered with nothing. One that acked first is not answered twice."""
    (tmp_path / "plugins").mkdir(exist_ok=True)
    write(tmp_path / "plugins" / "50-failing.lua",
          "return { events = {\n"
          "  fails = function(conn, payload, ack) error('handler bug') end,\n"
          "  spins = function(conn, payload, ack) while true do end end,\n"
          "  acks_then_fails = function(conn, payload, ack) ack('first'); error('after') end,\n"
          "} }\n")
    server = start(tmp_path)
    try:
        sio, _ = client(server)
        assert sio.call("fails", {}, timeout=5) is None
        assert sio.call("spins", {}, timeout=5) is None
        assert sio.call("acks_then_fails", {}, timeout=5) == "first"
        assert sio.connected
        sio.disconnect()
    finally:
        server.stop()
