"""The admin API against its OpenAPI document (docs/openapi.yaml, issue 20 item 5): schemathesis
generates requests for every operation from the document and checks that no answer is a 5xx,
that every status is one the document lists for that operation, that every body has the
listed content type and schema, and that a method the document does not list for a path is 405
with an `Allow` that names the listed ones. And every admin endpoint in the document answers 401, and does
nothing, without the token or with a wrong one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from conftest import REPO_ROOT
from stock import ADMIN_TOKEN, client, mint, stock  # noqa: F401 (fixtures)

SPEC = REPO_ROOT / "docs" / "openapi.yaml"
# Per operation: enough to reach every documented answer, short enough for `make test`
# (under a minute on the CI machine). SCHEMATHESIS_EXAMPLES raises it for a longer hunt.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "50"))
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
          "unsupported_method,allow_header_conformance")


def admin_operations() -> list[tuple[str, str]]:
    """(method, path template) of every operation under /admin/v1/ in the document."""
    spec = yaml.safe_load(SPEC.read_text())
    methods = {"get", "put", "post", "delete", "patch"}
    return [(method.upper(), path) for path, item in spec["paths"].items() if path.startswith("/admin/v1/")
            for method in item if method in methods]


def test_the_document_describes_every_admin_route_of_the_server():
    routes = {f"{m} {p}" for m, p in admin_operations()}
    for expected in ["GET /admin/v1/sessions", "DELETE /admin/v1/sessions/{sid}", "DELETE /admin/v1/users/{id}/sessions",
                     "POST /admin/v1/revoke", "POST /admin/v1/emit", "POST /admin/v1/reload",
                     "GET /admin/v1/directory/{kind}/{id}", "PUT /admin/v1/directory/{kind}/{id}",
                     "DELETE /admin/v1/directory/{kind}/{id}", "GET /admin/v1/settings", "PUT /admin/v1/settings",
                     "GET /admin/v1/bans", "POST /admin/v1/bans", "DELETE /admin/v1/bans/{kind}/{value}",
                     "GET /admin/v1/refusals", "GET /admin/v1/transports", "PUT /admin/v1/transports"]:
        assert expected in routes, f"{expected} is not in {SPEC}"


@pytest.mark.timeout(400)
def test_the_admin_api_conforms_to_its_openapi_document(stock, tmp_path):
    srv = stock()
    args = [sys.executable, "-m", "schemathesis.cli", "run", str(SPEC), "--url", srv.url,
            "--header", f"Authorization: Bearer {ADMIN_TOKEN}", "--checks", CHECKS,
            "--max-examples", str(MAX_EXAMPLES), "--seed", "20", "--workers", "1", "--request-timeout", "10",
            "--phases", "examples,coverage,fuzzing", "--suppress-health-check", "all", "--no-color"]
    # An endpoint being added on another branch is checked once the server has it.
    if srv.admin("GET", "transports").status_code == 404:
        args += ["--exclude-path", "/admin/v1/transports"]
    run = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=360)
    assert run.returncode == 0, f"schemathesis found problems:\n{run.stdout[-20000:]}\n{run.stderr[-3000:]}"
    assert srv.proc.poll() is None, "the server died under schemathesis"


def fill(path: str, sid: str) -> str:
    values = {"{sid}": sid, "{id}": "u1", "{kind}": "user", "{value}": "u1"}
    for name, value in values.items():
        path = path.replace(name, value)
    return path


BODIES = {
    "/admin/v1/revoke": {"user_id": "u1"},
    "/admin/v1/emit": {"room": "user:u1", "event": "hello", "data": {}},
    "/admin/v1/bans": {"kind": "user", "value": "u1", "duration_s": 60},
    "/admin/v1/settings": {"ratelimit": {"events": {"limit": 1}}},
    "/admin/v1/transports": {"polling": False, "websocket": True},
    "/admin/v1/directory/{kind}/{id}": {"id": "u1", "role": "admin"},
}


def test_every_admin_endpoint_answers_401_and_does_nothing_without_the_right_token(stock, client):
    srv = stock()
    c = client(srv, events=["hello"]).connect(mint("u1"))
    assert srv.admin("PUT", "directory/user/u1", {"id": "u1", "role": "user"}).status_code == 200
    operations = admin_operations()
    assert len(operations) >= 17
    wrong = [None, "Bearer wrong-token", f"Bearer {ADMIN_TOKEN}x", f"Bearer {ADMIN_TOKEN[:-1]}",
             f"Basic {ADMIN_TOKEN}", ADMIN_TOKEN, "Bearer ", f"Bearer  {ADMIN_TOKEN}"]
    for method, template in operations:
        url = srv.url + fill(template, c.sid)
        for header in wrong:
            headers = {"Authorization": header} if header is not None else {}
            r = requests.request(method, url, json=BODIES.get(template) if method in ("POST", "PUT") else None,
                                 headers=headers, timeout=5)
            assert r.status_code == 401, f"{method} {template} with {header!r}: HTTP {r.status_code} {r.text}"
            assert r.json() == {"error": "a valid bearer token is required"}, r.text
            assert r.headers["Content-Type"] == "application/json"
    # Nothing happened: the session is up, no ban, no revocation, no emit, same generation and settings.
    c.nothing("hello", wait=0.3)
    assert c.sio.connected and not c.disconnected.is_set()
    assert c.attempt("heartbeat", {}) == "ok"
    assert srv.admin("GET", "bans").json() == []
    assert srv.admin("GET", "directory/user/u1").json() == {"id": "u1", "role": "user"}
    assert srv.admin("GET", "settings").json()["overrides"] == {}
    assert srv.admin("GET", "transports").json() == {"polling": True, "websocket": True}
    assert requests.get(f"{srv.url}/healthz", timeout=5).json()["generation"] == 1
    assert [s["sid"] for s in srv.admin("GET", "sessions").json()] == [c.sid]


def test_a_revocation_with_a_bad_ttl_is_refused_not_a_server_error(stock):
    # Regression: ttl_s of 0, negative or past the store's longest TTL was a 500 from the store.
    srv = stock()
    for ttl in [0, -5, 10**12, "60", 1.5, None]:
        r = srv.admin("POST", "revoke", {"jti": "abc", "ttl_s": ttl})
        assert r.status_code == 400, f"ttl_s={ttl!r}: HTTP {r.status_code} {r.text}"
        assert "ttl_s" in r.json()["error"]
    assert srv.admin("POST", "revoke", {"jti": "abc", "ttl_s": 60}).json() == {"revoked": True, "disconnected": 0}


def test_the_document_is_a_valid_openapi_3_1_document():
    from schemathesis import openapi
    schema = openapi.from_path(str(SPEC))
    assert schema.specification.version.startswith("3.1")
    assert len(list(schema.get_all_operations())) >= 19


def test_a_known_path_with_another_method_is_405_with_allow_and_an_unknown_path_404(stock):
    srv = stock()
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    cases = {("POST", "sessions"): "GET", ("PUT", "bans"): "GET, POST", ("PATCH", "directory/user/u1"): "GET, PUT, DELETE",
             ("GET", "reload"): "POST", ("DELETE", "settings"): "GET, PUT"}
    for (method, path), allow in cases.items():
        answer = requests.request(method, f"{srv.url}/admin/v1/{path}", headers=headers, timeout=5)
        assert answer.status_code == 405, (method, path, answer.text)
        assert answer.headers["Allow"] == allow
        assert answer.json()["error"] == f"use {allow}"
    for method, path, allow in (("POST", "healthz", "GET, HEAD"), ("TRACE", "metrics", "GET")):
        answer = requests.request(method, f"{srv.url}/{path}", timeout=5)
        assert answer.status_code == 405 and answer.headers["Allow"] == allow, (method, path, answer.status_code)
    unknown = requests.get(f"{srv.url}/admin/v1/nothing-here", headers=headers, timeout=5)
    assert unknown.status_code == 404 and "Allow" not in unknown.headers
    assert requests.post(f"{srv.url}/admin/v1/sessions", timeout=5).status_code == 401, "the token comes first"
