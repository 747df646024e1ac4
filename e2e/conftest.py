"""Fixtures of the end-to-end suite: one stack for the whole run, browsers per test.

On a failure the test's browsers leave a screenshot, their console and their Socket.IO frames in
e2e/.artifacts/<test>/, with the tails of the server logs.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser import Browser  # noqa: E402
from harness import ADMIN, HTTPError, Stack  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent / ".artifacts"


def pytest_configure(config):
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium never downloads a browser or driver
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS, ignore_errors=True)


@pytest.fixture(scope="session")
def stack():
    s = Stack().start()
    print(f"\n[e2e] stack: {s.base}, socket server: {s.socket_target}, temp dir {s.tmp}", flush=True)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def admin(stack) -> dict:
    """The admin account (the first sign-up). test_01 signs it up in the browser; otherwise this does."""
    try:
        return stack.signin(ADMIN["email"], ADMIN["password"])
    except HTTPError:
        return stack.signup(ADMIN["name"], ADMIN["email"], ADMIN["password"])


@pytest.fixture(scope="session")
def make_user(stack, admin):
    counter = {"n": 0}

    def make(name: str) -> dict:
        counter["n"] += 1
        email = f"{name.lower().replace(' ', '.')}.{counter['n']}@e2e.test"
        return stack.add_user(admin["token"], name, email, "user-pass-123")

    return make


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def browsers(request, stack):
    opened: list[Browser] = []

    def new(name: str) -> Browser:
        b = Browser(stack.base, f"{request.node.name[:40]}-{name}", stack.tmp)
        opened.append(b)
        return b

    yield new
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        d = ARTIFACTS / request.node.name
        d.mkdir(parents=True, exist_ok=True)
        for b in opened:
            b.screenshot(d / f"{b.name}.png")
            (d / f"{b.name}.console.json").write_text(json.dumps(b.console(), indent=1))
            (d / f"{b.name}.frames.json").write_text(json.dumps(b.spy(), indent=1))
        for name in stack.logs:
            (d / f"{name}.log.tail").write_text(stack.log_tail(name, 200))
    for b in opened:
        b.quit()
