"""End-to-end scenarios: the real Open WebUI 0.12.4 frontend in headless Chromium, its real backend,
and the Socket.IO server nginx routes /ws/socket.io/ to (E2E_SOCKET=openwebui or palisade).

Each scenario asserts what the user sees (text on the page, an editor that takes or refuses typing,
the sign-in page); the WebSocket spy (browser.py) is used to check the socket itself (connected,
closed, an event received). Users, groups, notes, channels and tools are set up through Open
WebUI's REST API with the admin token; the UI is driven only for what a scenario is about.

The tests run in file order: test_01 signs up the first user (the admin) in the browser.
"""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest
from selenium.webdriver.common.keys import Keys

from fake_openai import MODEL_ID, REPLY, REPLY_TOKENS, TOOL_NAME, TOOL_REPLY
from harness import ADMIN, HTTPError, wait_until

VERSION = "0.12.4"


def quiet_settings(stack, token: str) -> None:
    """No "What's New" dialog over the page (it shows to admins once per version)."""
    stack.api("POST", "/api/v1/users/user/settings/update", token, {"ui": {"version": VERSION, "showChangelog": False}})


def open_as(browsers, stack, name: str, account: dict, path: str):
    quiet_settings(stack, account["token"])
    b = browsers(name)
    b.login(account["token"], path)
    return b


def editor_text(b, css: str = ".ProseMirror:not(#chat-input)") -> str:
    """The editor's text without the other users' cursor labels (collaboration carets)."""
    return b.js("""const e = document.querySelector(arguments[0]); if (!e) return null;
        const c = e.cloneNode(true);
        c.querySelectorAll('[class*="caret"], [class*="cursor"]').forEach(x => x.remove());
        document.body.appendChild(c); const t = c.innerText; c.remove(); return t;""", css)


def note_editor(b, timeout: float = 30):
    """The note page's rich-text editor (the first ProseMirror that is not the chat input)."""
    return b.wait_css("#note-content-container .ProseMirror, .ProseMirror:not(#chat-input)", timeout)


def type_into(b, el, text: str) -> None:
    b.js("arguments[0].focus();", el)
    # Put the caret at the end of the document, then type.
    b.js("""const el = arguments[0]; const r = document.createRange(); r.selectNodeContents(el); r.collapse(false);
            const s = window.getSelection(); s.removeAllRanges(); s.addRange(r);""", el)
    el.send_keys(text)


class Steps:
    """Bounded waits that are all tried, failures collected: a scenario reports every step that
    failed (what the user did not see), not only the first; `done()` fails the test if any did."""

    def __init__(self):
        self.failed: list[str] = []

    def wait(self, pred, timeout: float, what: str) -> bool:
        try:
            wait_until(pred, timeout, 0.2, what)
            return True
        except TimeoutError as e:
            self.failed.append(str(e))
            return False

    def check(self, ok: bool, what: str) -> bool:
        if not ok:
            self.failed.append(what)
        return ok

    def done(self) -> None:
        assert not self.failed, "failed steps: " + " | ".join(self.failed)


# -- 1. sign-up ------------------------------------------------------------------------------------


def test_01_signup_first_user_is_admin_and_socket_connects(stack, browsers):
    b = browsers("ada")
    b.open("/auth")
    # 0.12.4 greets a new instance with an onboarding page first.
    wait_until(lambda: b.finds("#email") or "Get started" in b.text(), 30, what="the sign-up page")
    if not b.finds("#email"):
        b.click_text("Get started")
    b.wait_css("#email", 30)
    b.find("#name").send_keys(ADMIN["name"])
    b.find("#email").send_keys(ADMIN["email"])
    b.find("#password").send_keys(ADMIN["password"])
    b.click_text("Create Admin Account")
    # The admin lands on the chat page (the release notes may be shown over it once).
    b.wait_css("#chat-input", 45)
    sock = b.wait_connected(30)
    wait_until(lambda: b.events("out", "user-join", socket_id=sock["id"]), 15, what="user-join sent")
    account = stack.signin(ADMIN["email"], ADMIN["password"])
    assert account["role"] == "admin"
    assert b.js("return localStorage.token")  # the page holds a session
    assert b.driver.current_url.rstrip("/") == stack.base, b.driver.current_url


# -- 2. a chat reply streams ---------------------------------------------------------------------


def test_02_chat_reply_streams_token_by_token(stack, browsers, admin):
    b = open_as(browsers, stack, "ada", admin, "/")
    box = b.wait_css("#chat-input", 30)
    sock = b.wait_connected(30)
    type_into(b, box, "Say the alphabet")
    box.send_keys(Keys.ENTER)

    def reply_text():
        els = b.finds("#response-content-container")
        return els[-1].text if els else ""

    first, last = REPLY_TOKENS[0].strip(), REPLY_TOKENS[-1].strip()
    partial = wait_until(lambda: (t := reply_text()) and first in t and last not in t and t, 30, 0.05,
                         "part of the reply before the whole")
    wait_until(lambda: REPLY.strip() in reply_text(), 30, 0.1, "the whole reply")
    assert REPLY.startswith(partial.strip()) and len(partial.strip()) < len(REPLY.strip()), partial
    # The tokens came over this page's socket.
    completions = [e for e in b.events("in", "events", socket_id=sock["id"])
                   if isinstance(e["args"][0], dict) and (e["args"][0].get("data") or {}).get("type") in ("chat:completion", "response:completion")]
    assert len(completions) >= 2, completions


# -- 3. a tool call that needs the browser's answer (sio.call) -----------------------------------

TOOL_CODE = f'''
"""
title: E2E confirm
"""


class Tools:
    async def {TOOL_NAME}(self, __event_call__=None) -> str:
        """Ask the user in the browser to confirm, and report the answer."""
        answer = await __event_call__({{"type": "confirmation", "data": {{"title": "E2E confirmation", "message": "Allow the e2e tool?"}}}})
        return f"E2E-TOOL-RESULT confirmed={{answer}}"
'''


def test_03_tool_call_answered_by_the_browser(stack, browsers, admin):
    tool_id = "e2e_tool"
    try:
        stack.api("POST", "/api/v1/tools/create", admin["token"],
                  {"id": tool_id, "name": "E2E tool", "content": TOOL_CODE, "meta": {"description": "e2e"}})
    except HTTPError as e:
        if e.status != 400:
            raise
    model_id = "e2e-tools"
    try:
        stack.api("POST", "/api/v1/models/create", admin["token"],
                  {"id": model_id, "base_model_id": MODEL_ID, "name": "E2E tools", "params": {},
                   "meta": {"toolIds": [tool_id], "description": "e2e"}, "is_active": True})
    except HTTPError as e:
        if e.status != 400:
            raise
    b = open_as(browsers, stack, "ada", admin, f"/?models={model_id}")
    box = b.wait_css("#chat-input", 30)
    b.wait_connected(30)
    type_into(b, box, "Use the tool")
    box.send_keys(Keys.ENTER)
    # The backend's sio.call reaches this page: a confirmation dialog.
    b.wait_text("Allow the e2e tool?", 45)
    calls = [f for f in b.spy()["frames"] if f["dir"] == "in" and re.match(r'^42\d+\["events"', f["d"]) and "confirmation" in f["d"]]
    assert calls, "the confirmation came as an event with an ack id (sio.call)"
    ack_id = re.match(r"^42(\d+)", calls[-1]["d"]).group(1)
    b.click_text("Confirm")
    b.wait_text(TOOL_REPLY.strip(), 45)
    assert any(a.startswith("43" + ack_id + "[") for a in b.acks_out()), "the browser answered the call"


# -- 4. two browsers edit one note ---------------------------------------------------------------


def make_note(stack, owner: dict, title: str, grants: list[dict], md: str = "") -> dict:
    # A write grant does not imply read in 0.12.4's AccessGrants.has_access: the UI grants both.
    grants = grants + [{**g, "permission": "read"} for g in grants if g["permission"] == "write"]
    return stack.api("POST", "/api/v1/notes/create", owner["token"], {
        "title": title,
        "data": {"content": {"json": None, "html": f"<p>{md}</p>" if md else "", "md": md}},
        "access_grants": grants,
    })


def test_04_two_browsers_edit_one_note_and_converge(stack, browsers, admin, make_user):
    bob = make_user("Bob")
    note = make_note(stack, admin, "Shared note", [
        {"principal_type": "user", "principal_id": bob["id"], "permission": "write"}])
    a = open_as(browsers, stack, "ada", admin, f"/notes/{note['id']}")
    b = open_as(browsers, stack, "bob", bob, f"/notes/{note['id']}")
    ea, eb = note_editor(a), note_editor(b)
    a.wait_connected(30)
    b.wait_connected(30)
    wait_until(lambda: a.events("in", "ydoc:document:state") and b.events("in", "ydoc:document:state"), 20,
               what="both joined the document")
    time.sleep(1)
    type_into(a, ea, "from-ada ")
    wait_until(lambda: "from-ada" in (editor_text(b) or ""), 20, what="Bob sees Ada's text")
    type_into(b, eb, "from-bob")
    wait_until(lambda: "from-bob" in (editor_text(a) or ""), 20, what="Ada sees Bob's text")
    wait_until(lambda: editor_text(a).strip() == editor_text(b).strip(), 20, what="both editors converge")

    def saved():
        n = stack.api("GET", f"/api/v1/notes/{note['id']}", admin["token"])
        md = ((n.get("data") or {}).get("content") or {}).get("md") or ""
        return "from-ada" in md and "from-bob" in md and md

    wait_until(saved, 20, 0.5, "the note's text saved in Open WebUI")
    a.driver.refresh()
    wait_until(lambda: "from-ada" in (editor_text(a) or "") and "from-bob" in (editor_text(a) or ""), 30,
               what="the text after a reload")


# -- 5. a read-only user ---------------------------------------------------------------------------


def test_05_read_only_user_sees_but_cannot_change_the_note(stack, browsers, admin, make_user):
    carol = make_user("Carol")
    note = make_note(stack, admin, "Read-only note", [
        {"principal_type": "user", "principal_id": carol["id"], "permission": "read"}], md="shared-text")
    a = open_as(browsers, stack, "ada", admin, f"/notes/{note['id']}")
    note_editor(a)
    a.wait_connected(30)
    c = open_as(browsers, stack, "carol", carol, f"/notes/{note['id']}")
    ec = note_editor(c)
    c.wait_connected(30)
    wait_until(lambda: "shared-text" in (editor_text(c) or ""), 30, what="Carol sees the note's text")
    # A read-only viewer is not in the Yjs document (the 0.12.4 client does not join it without
    # write access); she is in the note's room (join-note), where a saved change is announced.
    wait_until(lambda: c.events("out", "join-note"), 20, what="Carol's join-note")
    time.sleep(1)
    stack.api("POST", f"/api/v1/notes/{note['id']}/update", admin["token"],
              {"data": {"content": {"json": None, "html": "<p>shared-text rest-edit</p>", "md": "shared-text rest-edit"}}})
    wait_until(lambda: c.events("in", "events:note"), 20, what="events:note on Carol's socket")
    wait_until(lambda: "rest-edit" in (editor_text(c) or ""), 20, what="Carol sees the saved change")
    assert c.js("return arguments[0].isContentEditable", ec) is False
    try:
        type_into(c, ec, "carol-was-here")
    except Exception:  # noqa: BLE001 - a non-editable element may refuse keys outright
        pass
    time.sleep(2)
    assert "carol-was-here" not in (editor_text(c) or "")
    assert "carol-was-here" not in (editor_text(a) or "")
    assert not [e for e in c.events("out", "ydoc:document:update") if "carol-was-here" in json.dumps(e["args"])]
    # What the UI will not send, the server must refuse too: an update with content, sent on
    # Carol's socket as her client would send it.
    from pycrdt import Doc, Text

    doc = Doc()
    doc["e2e"] = text = Text()
    text += "carol-forged"
    c.emit_raw("ydoc:document:update", {
        "document_id": f"note:{note['id']}", "user_id": carol["id"], "update": list(doc.get_update()),
        "data": {"content": {"md": "carol-forged", "html": "<p>carol-forged</p>", "json": None}}})
    time.sleep(3)  # longer than the 0.5 s save debounce
    n = stack.api("GET", f"/api/v1/notes/{note['id']}", admin["token"])
    assert "carol" not in str(n.get("data")), n.get("data")
    assert "carol" not in (editor_text(a) or "")
    assert not [e for e in a.events("in", "ydoc:document:update") if "carol" in str(e["args"])]


# -- 6. channels: a message and a typing indicator -------------------------------------------------


def test_06_channel_message_and_typing_reach_the_other_member(stack, browsers, admin, make_user):
    dan = make_user("Dan")
    channel = stack.api("POST", "/api/v1/channels/create", admin["token"],
                        {"name": f"e2e-{uuid.uuid4().hex[:6]}", "type": "group", "user_ids": [dan["id"]]})
    a = open_as(browsers, stack, "ada", admin, f"/channels/{channel['id']}")
    d = open_as(browsers, stack, "dan", dan, f"/channels/{channel['id']}")
    box = a.wait_css("#chat-input", 30)
    d.wait_css("#chat-input", 30)
    a.wait_connected(30)
    d.wait_connected(30)
    time.sleep(1)
    steps = Steps()
    type_into(a, box, "hello-")
    steps.wait(lambda: "is typing" in d.text(), 15, "Dan sees 'is typing'")
    message = f"channel-message-{uuid.uuid4().hex[:6]}"
    box.send_keys(message)
    box.send_keys(Keys.ENTER)
    steps.wait(lambda: message in d.text(), 20, "Dan sees the message")
    types = [((e["args"][0] or {}).get("data") or {}).get("type") for e in d.events("in", "events:channel")]
    steps.check("typing" in types and "message" in types, f"events:channel types on Dan's socket: {types}")
    steps.done()


# -- 7. sign-out closes the socket ---------------------------------------------------------------


def open_user_menu(b):
    for css in ("button[aria-label='User Menu']", "#sidebar button img[alt]", "button img.rounded-full"):
        els = [e for e in b.finds(css) if e.is_displayed()]
        if els:
            els[-1].click()
            return
    raise AssertionError("no user menu button")


def test_07_sign_out_closes_that_sessions_socket(stack, browsers, make_user):
    """Two tabs of one browser share the session (localStorage.token). Signing out in the first
    revokes it; the second tab's socket, authenticated with that session, is closed by the server."""
    eve = make_user("Eve")
    b = open_as(browsers, stack, "eve", eve, "/")
    b.wait_css("#chat-input", 30)
    b.wait_connected(30)
    tab1 = b.driver.current_window_handle
    tab2 = b.new_tab("/")
    b.wait_css("#chat-input", 30)
    sock2 = b.wait_connected(30)
    wait_until(lambda: b.events("out", "user-join", socket_id=sock2["id"]), 15, what="user-join in the second tab")
    b.switch(tab1)
    time.sleep(1)
    open_user_menu(b)
    b.click_text("Sign Out", css="button, a, div[role=menuitem]", timeout=10)
    b.wait_css("#email", 20)  # the sign-in page
    b.switch(tab2)
    wait_until(lambda: next(s for s in b.spy()["sockets"] if s["id"] == sock2["id"])["closed"], 15,
               what="the signed-out session's socket (second tab) closed by the server")
    # The session is gone: its token is refused, and the second tab's new socket never joins as Eve.
    with pytest.raises(HTTPError) as e:
        stack.api("GET", "/api/v1/auths/", eve["token"])
    assert e.value.status == 401
    time.sleep(2)
    later = [s for s in b.spy()["sockets"] if s["id"] > sock2["id"]]
    assert not any(b.events("out", "user-join", socket_id=s["id"]) for s in later)


# -- 8. removal from a group -----------------------------------------------------------------------


def test_08_removed_from_group_gets_access_updated_and_is_refused(stack, browsers, admin, make_user):
    fay = make_user("Fay")
    group = stack.api("POST", "/api/v1/groups/create", admin["token"], {"name": f"e2e-{uuid.uuid4().hex[:6]}", "description": "e2e"})
    stack.api("POST", f"/api/v1/groups/id/{group['id']}/users/add", admin["token"], {"user_ids": [fay["id"]]})
    note = make_note(stack, admin, "Group note", [
        {"principal_type": "group", "principal_id": group["id"], "permission": "read"}], md="group-text")
    f = open_as(browsers, stack, "fay", fay, f"/notes/{note['id']}")
    note_editor(f)
    sock = f.wait_connected(30)
    wait_until(lambda: "group-text" in (editor_text(f) or ""), 30, what="Fay sees the group's note")
    steps = Steps()
    # As a group member she may join the note's document (read access is enough for a join).
    wait_until(lambda: f.events("out", "user-join", socket_id=sock["id"]), 15, what="user-join")
    f.emit_raw("ydoc:document:join", {"document_id": f"note:{note['id']}", "user_id": fay["id"],
                                       "user_name": "Fay", "user_color": "#000000"})
    joined = steps.wait(lambda: f.events("in", "ydoc:document:state", socket_id=sock["id"]), 20,
                        "Fay's socket joined the note's document as a group member")
    stack.api("POST", f"/api/v1/groups/id/{group['id']}/users/remove", admin["token"], {"user_ids": [fay["id"]]})
    steps.wait(lambda: f.events("in", "access:updated", socket_id=sock["id"]), 15, "access:updated on Fay's socket")
    try:
        stack.api("GET", f"/api/v1/notes/{note['id']}", fay["token"])
        steps.check(False, "Open WebUI still serves the note to Fay")
    except HTTPError as e:
        steps.check(e.status in (401, 403, 404), f"GET note answered {e.status}")
    # The next access from the browser: the note does not open any more.
    f.driver.refresh()
    steps.wait(lambda: "group-text" not in (editor_text(f) or ""), 20, "the note no longer shown to Fay")
    # ... and the socket refuses her the document: a join as her client sends it gets no state.
    f.wait_connected(30)
    wait_until(lambda: f.events("out", "user-join"), 15, what="user-join after the reload")
    since = f.now_ms()
    f.emit_raw("ydoc:document:join", {"document_id": f"note:{note['id']}", "user_id": fay["id"],
                                       "user_name": "Fay", "user_color": "#000000"})
    time.sleep(3)
    states = f.events("in", "ydoc:document:state", since=since)
    steps.check(not states, f"the join after the removal got a state: {states}")
    if not joined:
        steps.check(False, "(the refusal after the removal proves nothing: the join was refused before it too)")
    steps.done()
