"""Times one join of a Yjs document: a fresh Socket.IO connection over a raw WebSocket
sends `ydoc:document:join` and waits for `ydoc:document:state`. Prints one JSON line:
{join_ms, state_bytes, characters} (characters: the length of root Text "t" once the state
is applied to a fresh pycrdt document, i.e. the number of one-character updates stored).

usage: yjs-join-time.py URL TOKEN DOCUMENT_ID [--hold SECONDS]

--hold: join and stay joined for SECONDS instead (Open WebUI's relay, and so the python
peer, forgets a document when its last editor leaves; a holder keeps it for the timing).
"""
import json
import sys
import time
from urllib.parse import urlparse

import websocket
from pycrdt import Doc, Text


def main() -> None:
    url, token, document_id = sys.argv[1:4]
    parsed = urlparse(url)
    ws = websocket.create_connection(f"ws://{parsed.netloc}{parsed.path}?EIO=4&transport=websocket",
                                     timeout=120, suppress_origin=True)

    def receive() -> str:
        while True:
            frame = ws.recv()
            if frame == "2":
                ws.send("3")
                continue
            return frame

    assert receive().startswith("0")
    ws.send("40" + json.dumps({"token": token}))
    assert receive().startswith("40"), "CONNECT refused"
    if "--hold" in sys.argv:
        hold(ws, document_id, float(sys.argv[sys.argv.index("--hold") + 1]))
        return
    started = time.perf_counter()
    ws.send("42" + json.dumps(["ydoc:document:join", {"document_id": document_id, "user_name": "join-timer"}]))
    while True:
        frame = receive()
        if frame.startswith('42["ydoc:document:state"'):
            break
    elapsed = time.perf_counter() - started
    ws.close()
    state = bytes(json.loads(frame[2:])[1]["state"])
    doc = Doc()
    text = doc.get("t", type=Text)
    doc.apply_update(state)
    print(json.dumps({"join_ms": round(elapsed * 1000, 1), "state_bytes": len(state), "characters": len(str(text))}))


def hold(ws, document_id: str, seconds: float) -> None:
    ws.send("42" + json.dumps(["ydoc:document:join", {"document_id": document_id, "user_name": "holder"}]))
    deadline = time.monotonic() + seconds
    ws.settimeout(1)
    while time.monotonic() < deadline:
        try:
            if ws.recv() == "2":
                ws.send("3")
        except websocket.WebSocketTimeoutException:
            pass
    ws.close()


if __name__ == "__main__":
    main()
