"""A tiny OpenAI-compatible model server for the end-to-end suite (standard library only).

`GET /v1/models` lists one model, `fake-model`. `POST /v1/chat/completions` answers with a known reply:
streamed token by token as server-sent events when `stream` is true (one token every
`token_delay` seconds, so a browser can be seen showing part of the reply before the whole), or as
one JSON body otherwise (Open WebUI's background tasks: titles, tags, tool selection).

Replies:
- a request whose messages contain TOOL_RESULT_MARKER (the tool's result, put into the context by
  Open WebUI) gets TOOL_REPLY if the browser confirmed (`confirmed=True`), else "The tool got no answer.";
- a streamed request that offers the tool TOOL_NAME (Open WebUI 0.12's native function calling
  sends `tools`) gets one streamed `tool_calls` delta calling it with no arguments;
- a non-streamed request whose prompt says "Available Tools" (legacy function calling) gets
  `{"tool_calls": [{"name": TOOL_NAME, "parameters": {}}]}`;
- everything else gets REPLY.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL_ID = "fake-model"
REPLY_TOKENS = ["Alpha ", "Bravo ", "Charlie ", "Delta ", "Echo ", "Foxtrot ", "Golf ", "Hotel"]
REPLY = "".join(REPLY_TOKENS)
TOOL_NAME = "e2e_confirm"
TOOL_RESULT_MARKER = "E2E-TOOL-RESULT"
TOOL_REPLY_TOKENS = ["The ", "tool ", "said: ", "confirmed ", "by ", "the ", "browser."]
TOOL_REPLY = "".join(TOOL_REPLY_TOKENS)
TOOL_FAILED_TOKENS = ["The ", "tool ", "got ", "no ", "answer."]


class FakeOpenAI:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, token_delay: float = 0.35):
        self.token_delay = token_delay
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):  # quiet
                pass

            def _json(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [
                        {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "e2e"}]})
                else:
                    self._json(404, {"error": "not found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    body = {}
                outer.requests.append(body)
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, {"error": "not found"})
                    return
                tokens = outer.reply_for(body)
                if tokens is None:  # native tool call
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    for delta, finish in (({"role": "assistant", "content": None, "tool_calls": [
                            {"index": 0, "id": "call_e2e", "type": "function",
                             "function": {"name": TOOL_NAME, "arguments": "{}"}}]}, None), ({}, "tool_calls")):
                        chunk = {"id": "chatcmpl-e2e", "object": "chat.completion.chunk", "created": int(time.time()),
                                 "model": MODEL_ID, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                        self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                    return
                if body.get("stream"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Cache-Control", "no-cache")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    try:
                        for i, tok in enumerate(tokens):
                            chunk = {"id": "chatcmpl-e2e", "object": "chat.completion.chunk",
                                     "created": int(time.time()), "model": MODEL_ID,
                                     "choices": [{"index": 0, "delta": ({"role": "assistant", "content": tok} if i == 0 else {"content": tok}),
                                                  "finish_reason": None}]}
                            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                            self.wfile.flush()
                            time.sleep(outer.token_delay)
                        end = {"id": "chatcmpl-e2e", "object": "chat.completion.chunk", "created": int(time.time()),
                               "model": MODEL_ID, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                        self.wfile.write(b"data: " + json.dumps(end).encode() + b"\n\n")
                        self.wfile.write(b"data: [DONE]\n\n")
                        self.wfile.flush()
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                else:
                    self._json(200, {"id": "chatcmpl-e2e", "object": "chat.completion", "created": int(time.time()),
                                     "model": MODEL_ID,
                                     "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(tokens)},
                                                  "finish_reason": "stop"}],
                                     "usage": {"prompt_tokens": 1, "completion_tokens": len(tokens), "total_tokens": 1 + len(tokens)}})

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-openai", daemon=True)

    @staticmethod
    def _text(body: dict) -> str:
        parts = []
        for m in body.get("messages") or []:
            c = m.get("content")
            if isinstance(c, str):
                parts.append(c)
            elif isinstance(c, list):
                parts.extend(str(p.get("text", "")) for p in c if isinstance(p, dict))
        return "\n".join(parts)

    def reply_for(self, body: dict) -> list[str] | None:
        text = self._text(body)
        offered = [((t or {}).get("function") or {}).get("name") for t in body.get("tools") or []]
        if TOOL_RESULT_MARKER + " confirmed=True" in text:
            return TOOL_REPLY_TOKENS
        if TOOL_RESULT_MARKER in text:
            return TOOL_FAILED_TOKENS
        if body.get("stream") and TOOL_NAME in offered:
            return None
        if not body.get("stream") and "Available Tools" in text and TOOL_NAME in text:
            return [json.dumps({"tool_calls": [{"name": TOOL_NAME, "parameters": {}}]})]
        if not body.get("stream"):
            return ["{}"]  # background tasks (title, tags, follow-ups): an empty JSON object
        return REPLY_TOKENS

    def start(self) -> "FakeOpenAI":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    import sys

    srv = FakeOpenAI(port=int(sys.argv[1]) if len(sys.argv) > 1 else 0).start()
    print(f"http://127.0.0.1:{srv.port}/v1", flush=True)
    try:
        srv.thread.join()
    except KeyboardInterrupt:
        srv.stop()
