"""Headless Chromium (Debian's chromium + chromium-driver) through selenium, with a WebSocket spy.

The spy is injected before any page script runs: it wraps `window.WebSocket` and records, per
socket, when it opened and closed and every frame in and out (`window.__e2e`). The Socket.IO
client of Open WebUI uses the WebSocket transport only, so every Socket.IO packet the page sends
or receives is there: `40{...}` is the CONNECT acknowledgement, `42[...]` an event, `43...` an ack.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import JavascriptException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from harness import wait_until

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("E2E_CHROMEDRIVER", "/usr/bin/chromedriver")

WS_SPY = r"""
(() => {
  if (window.__e2e) return;
  const log = window.__e2e = {sockets: [], frames: []};
  const raw = window.__e2e_ws = [];
  const Orig = window.WebSocket;
  const cut = (d) => typeof d === 'string' ? (d.length > 4000 ? d.slice(0, 4000) : d) : '[binary]';
  function Spy(url, protocols) {
    const ws = protocols === undefined ? new Orig(url) : new Orig(url, protocols);
    const rec = {id: log.sockets.length, url: String(url), opened: false, closed: false,
                 closeCode: null, t0: Date.now(), tClose: null, sid: null};
    log.sockets.push(rec);
    raw.push(ws);
    ws.addEventListener('open', () => { rec.opened = true; });
    ws.addEventListener('close', (e) => { rec.closed = true; rec.closeCode = e.code; rec.tClose = Date.now(); });
    ws.addEventListener('message', (e) => {
      const d = cut(e.data);
      if (typeof d === 'string' && d.startsWith('40')) { try { rec.sid = JSON.parse(d.slice(2)).sid || null; } catch (_) {} }
      log.frames.push({s: rec.id, dir: 'in', t: Date.now(), d});
    });
    const send = ws.send.bind(ws);
    ws.send = (d) => { log.frames.push({s: rec.id, dir: 'out', t: Date.now(), d: cut(d)}); return send(d); };
    return ws;
  }
  Spy.prototype = Orig.prototype;
  Spy.CONNECTING = 0; Spy.OPEN = 1; Spy.CLOSING = 2; Spy.CLOSED = 3;
  window.WebSocket = Spy;
})();
"""

_PACKET = re.compile(r"^4([23])(\d*)(\[.*)$", re.S)


def parse_event(frame: str):
    """`42["name", {...}]` (or with an ack id) → (name, args); anything else → None."""
    m = _PACKET.match(frame)
    if not m or m.group(1) != "2":
        return None
    try:
        arr = json.loads(m.group(3))
    except ValueError:
        return None
    if not arr or not isinstance(arr[0], str):
        return None
    return arr[0], arr[1:]


class Browser:
    def __init__(self, base: str, name: str, workdir: Path):
        self.base = base
        self.name = name
        self.workdir = workdir
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                  "--window-size=1400,1000", f"--user-data-dir={workdir / ('chrome-' + name)}",
                  "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                  "--disable-background-networking", "--disable-background-timer-throttling",
                  "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
                  "--disable-features=Translate,MediaRouter", "--lang=en-US"):
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(CHROMEDRIVER, log_output=str(workdir / f"chromedriver-{name}.log"))
        self.driver = webdriver.Chrome(options=opts, service=service)
        self.driver.set_page_load_timeout(60)
        self.driver.set_script_timeout(30)
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WS_SPY})

    def new_tab(self, path: str) -> str:
        """Opens `path` in a new tab of the same browser (same profile, same localStorage); returns its handle."""
        self.driver.switch_to.new_window("tab")
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WS_SPY})
        self.driver.get(self.base + path)
        return self.driver.current_window_handle

    def switch(self, handle: str) -> None:
        self.driver.switch_to.window(handle)

    # -- navigation --------------------------------------------------------------------------

    def open(self, path: str = "/") -> None:
        self.driver.get(self.base + path)

    def login(self, token: str, path: str = "/") -> None:
        """Puts the token where Open WebUI's frontend keeps it, then opens `path`."""
        self.driver.get(self.base + "/manifest.json")
        self.driver.execute_script("localStorage.setItem('token', arguments[0]); localStorage.setItem('locale', 'en-US');", token)
        self.driver.get(self.base + path)

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait_css(self, css: str, timeout: float = 30, visible: bool = True):
        def present():
            for el in self.finds(css):
                if not visible or el.is_displayed():
                    return el
            return None

        return wait_until(present, timeout, 0.2, f"[{self.name}] element {css}")

    def wait_text(self, text: str, timeout: float = 30, css: str = "body"):
        return wait_until(lambda: text in self.text(css), timeout, 0.2, f"[{self.name}] text {text!r}")

    def text(self, css: str = "body") -> str:
        try:
            return self.js("const e = document.querySelector(arguments[0]); return e ? e.innerText : '';", css) or ""
        except (JavascriptException, WebDriverException):
            return ""

    def click_text(self, text: str, css: str = "button", timeout: float = 15):
        """Clicks the first visible element matching `css` whose text is `text` (trimmed)."""

        def find():
            for el in self.finds(css):
                try:
                    if el.is_displayed() and el.text.strip() == text:
                        return el
                except WebDriverException:
                    continue
            return None

        el = wait_until(find, timeout, 0.2, f"[{self.name}] {css} with text {text!r}")
        self.js("arguments[0].scrollIntoView({block: 'center'});", el)
        el.click()
        return el

    # -- the WebSocket spy -------------------------------------------------------------------

    def spy(self) -> dict:
        try:
            return self.js("return window.__e2e || {sockets: [], frames: []};")
        except (JavascriptException, WebDriverException):
            return {"sockets": [], "frames": []}

    def connected_sockets(self) -> list[dict]:
        """Sockets that got the Socket.IO CONNECT acknowledgement and are not closed."""
        return [s for s in self.spy()["sockets"] if s.get("sid") and not s.get("closed")]

    def wait_connected(self, timeout: float = 30) -> dict:
        return wait_until(lambda: (self.connected_sockets() or [None])[-1], timeout, 0.2,
                          f"[{self.name}] a connected Socket.IO socket")

    def events(self, direction: str = "in", name: str | None = None, since: int = 0, socket_id: int | None = None):
        out = []
        for f in self.spy()["frames"]:
            if f["dir"] != direction or f["t"] < since or (socket_id is not None and f["s"] != socket_id):
                continue
            ev = parse_event(f["d"])
            if ev and (name is None or ev[0] == name):
                out.append({"socket": f["s"], "t": f["t"], "name": ev[0], "args": ev[1]})
        return out

    def emit_raw(self, event: str, payload, ack_id: int | None = None) -> dict:
        """Sends a Socket.IO event on the page's current socket, as the page's own client would
        (for what the UI will not send by itself, e.g. an edit from a read-only user)."""
        sock = self.connected_sockets()[-1]
        frame = "42" + ("" if ack_id is None else str(ack_id)) + json.dumps([event, payload], separators=(",", ":"))
        self.js("window.__e2e_ws[arguments[0]].send(arguments[1]);", sock["id"], frame)
        return sock

    def acks_out(self, socket_id: int | None = None) -> list[str]:
        return [f["d"] for f in self.spy()["frames"] if f["dir"] == "out" and f["d"].startswith("43")
                and (socket_id is None or f["s"] == socket_id)]

    def now_ms(self) -> int:
        return int(self.js("return Date.now();"))

    def console(self) -> list:
        try:
            return self.driver.get_log("browser")
        except WebDriverException:
            return []

    def screenshot(self, path: Path) -> None:
        try:
            self.driver.save_screenshot(str(path))
        except WebDriverException:
            pass

    def quit(self) -> None:
        try:
            self.driver.quit()
        except WebDriverException:
            pass


def wait_for(pred, timeout: float, what: str, interval: float = 0.2):
    return wait_until(pred, timeout, interval, what)


def sleep(s: float) -> None:
    time.sleep(s)
