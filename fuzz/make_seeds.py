#!/usr/bin/env python3
"""Writes the committed seed corpus, fuzz/corpus/<target>/: a handful of small valid inputs per
target, in the framing each target of fuzz/Sources expects. Run again after changing a framing."""

import base64
import hashlib
import hmac
import json
import os
import shutil
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent
CORPUS = FUZZ / "corpus"
SECRET = b"fuzz-secret-of-32-bytes-at-least!!"  # JWTTarget.key


def ws_frame(opcode, payload, fin=True, mask=b"\x01\x02\x03\x04"):
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def hs256_token(claims, header=None):
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = b64url(json.dumps(header).encode()) + b"." + b64url(json.dumps(claims).encode())
    return signing_input + b"." + b64url(hmac.new(SECRET, signing_input, hashlib.sha256).digest())


def seeds():
    ws_key = "dGhlIHNhbXBsZSBub25jZQ=="
    yield "http-head", [
        b"GET /ws/socket.io/?EIO=4&transport=polling&t=abc HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nOrigin: http://127.0.0.1:8080\r\n\r\n",
        ("GET /ws/socket.io/?EIO=4&transport=websocket&sid=s1 HTTP/1.1\r\nHost: a.example\r\nUpgrade: websocket\r\n"
         f"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: {ws_key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode(),
        b"POST /ws/socket.io/?EIO=4&transport=polling&sid=s1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n4ping",
        b"GET /healthz HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 203.0.113.9, 10.0.0.2\r\nForwarded: for=\"[2001:db8::1]:80\";proto=https\r\n\r\n",
        b"OPTIONS /ws/socket.io/?EIO=4 HTTP/1.1\r\nHost: h\r\nOrigin: https://a.example\r\nX-Forwarded-Proto: https\r\n"
        b"Access-Control-Request-Method: POST\r\n\r\nGET /metrics HTTP/1.0\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    ]
    yield "websocket-frames", [
        b"\x00" + ws_frame(0x1, b"4hello"),
        b"\x07" + ws_frame(0x1, b"2probe") + ws_frame(0x9, b"p") + ws_frame(0x2, bytes(range(10))),
        b"\x03" + ws_frame(0x1, b"42[\"a\",", fin=False) + ws_frame(0x0, b"1]"),
        b"\x10" + ws_frame(0x8, (1000).to_bytes(2, "big") + b"bye"),
        b"\x1f" + ws_frame(0x2, bytes(300)),
        b"\x01" + ws_frame(0xA, b"") + ws_frame(0x8, b""),
    ]
    yield "engineio", [
        b"4hello",
        b'0{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}',
        b"2probe",
        b"bAQID",
        b"4a\x1e4b\x1ebAAE=\x1e3",
        b"6",
    ]
    yield "socketio", [
        b'0{"token":"abc"}',
        b'2["message",{"text":"hi"},1,true,null]',
        b'/admin,21["ev",{"a":[1,2]}]',
        b'51-["up",{"_placeholder":true,"num":0}]\x1e\x00\x01\x02\x03',
        b'62-/ns,7[{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]\x1e\x00ab\x1e\x00cd',
        b'3/ns,9[]',
        b"1",
    ]
    yield "json", [
        b'{"a":[1,-2.5e10,true,false,null],"b":{"c":"\\u00e9\\n"}}',
        b"[]",
        b'"\\ud83d\\ude00"',
        b"  -0.0e+1 ",
        b'[[[[{"":{}}]]]]',
        b'{"id":"u1","role":"admin","groups":["g1"],"n":12345678901234567890}',
    ]
    sequences = json.loads((ROOT / "Tests/PalisadeYjsTests/Fixtures/sequences.json").read_text())
    updates = [bytes.fromhex(u) for s in sequences[:3] for u in s["updates"][:4]]
    yjs = [bytes([0x80]) + updates[0] + updates[1], bytes([0x00]) + updates[2]]
    for fixture in json.loads((ROOT / "Tests/PalisadeYjsTests/Fixtures/updates.json").read_text())[:4]:
        yjs.append(bytes([0xFF]) + bytes(fixture["update"]))
    yield "yjs", yjs
    jwks = (ROOT / "Tests/PalisadeJWTTests/Fixtures/jwks.json").read_bytes()
    yield "jwt", [
        b"\x00" + hs256_token({"sub": "u1", "id": "u1", "exp": 1700003600, "iat": 1699999940, "jti": "j1"}),
        b"\x00" + hs256_token({"id": "u1", "aud": ["a"], "iss": "i"}, {"alg": "HS256", "kid": "k1"}),
        b"\x01" + jwks,
        b'\x01{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA","alg":"HS256"}',
        b'\x02{"id":"u1","exp":1700003600,"nbf":1699999000,"aud":"a"}',
        b'\x02{"sub":"x","iat":1.5e9,"roles":["a","b"],"n":null}',
    ]
    yield "lua-bridge", [
        b'\x00{"a":[1,2,3],"b":{"c":null,"d":1.5},"e":[],"f":{}}',
        b'\x00[true,false,"x",-9223372036854775808,1e300]',
        b'\x00{"1":"a","2":"b"}',
        b'\x00[[[[[[[[["deep"]]]]]]]]]',
        b'\x01"\\u0000 \\u00e9"',
        b'\x01{"user":{"id":"u1","groups":["g"]},"bytes":["ab","ab",""],"n":2.0}',
    ]


def main():
    for target, inputs in seeds():
        folder = CORPUS / target
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for index, data in enumerate(inputs):
            (folder / f"seed-{index}").write_bytes(data)
        print(f"{target}: {len(inputs)} seeds")


if __name__ == "__main__":
    main()
