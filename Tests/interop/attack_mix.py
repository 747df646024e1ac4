"""The live attack mix (issue 19, item 6): well-behaved clients exchange events at a steady rate
while attackers open thousands of connections (half without a token), send oversized frames,
malformed packets and deeply nested JSON, flood events from one user, hold slowloris request
heads, and keep clients that never read while the server sends to them.

Run by `test_attack_mix.py` (short form, in `make test`) and `make attack-mix` (long form), as
`python attack_mix.py CONFIG.json RESULT.json`. Everything speaks raw Engine.IO/Socket.IO text over
a minimal asyncio WebSocket client, so one process drives thousands of connections."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import struct
import sys
import time

# ---------------------------------------------------------------------------------------------
# A minimal WebSocket client (RFC 6455, client side: masked frames out, unmasked frames in).


class RawWebSocket:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, host: str, port: int, path: str, ip: str, timeout: float = 10.0) -> "RawWebSocket":
        """`ip` is the client address a trusted proxy would forward (X-Forwarded-For)."""
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nX-Forwarded-For: {ip}\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        if not head.startswith(b"HTTP/1.1 101"):
            writer.close()
            raise ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
        return cls(reader, writer)

    def send_frame(self, payload: bytes, opcode: int = 1, fin: bool = True, claimed_length: int | None = None) -> None:
        length = len(payload) if claimed_length is None else claimed_length
        header = bytes([(0x80 if fin else 0) | opcode])
        if length < 126:
            header += bytes([0x80 | length])
        elif length < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", length)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", length)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if len(payload) < 4096 else _mask(payload, mask)
        self.writer.write(header + mask + masked)

    def send_text(self, text: str) -> None:
        self.send_frame(text.encode())

    async def recv(self) -> tuple[int, bytes]:
        first, second = await self.reader.readexactly(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return first & 0x0F, await self.reader.readexactly(length)

    def close(self) -> None:
        try:
            self.writer.close()
        except Exception:  # noqa: BLE001 - already gone
            pass


def _mask(payload: bytes, mask: bytes) -> bytes:
    repeated = (mask * (len(payload) // 4 + 1))[:len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(payload), "big")


# ---------------------------------------------------------------------------------------------
# Well-behaved clients: connect with a token, answer pings, send `heartbeat` with an ack at a
# steady rate and time each ack.


class Stats:
    def __init__(self):
        self.latencies: list[float] = []
        self.connected = 0
        self.lost: list[str] = []
        self.attack: dict[str, int] = {}

    def count(self, name: str, n: int = 1) -> None:
        self.attack[name] = self.attack.get(name, 0) + n


async def socketio_session(cfg: dict, token: str | None, ip: str) -> tuple[RawWebSocket, str]:
    ws = await RawWebSocket.connect(cfg["host"], cfg["port"], cfg["path"] + "/?EIO=4&transport=websocket", ip)
    opcode, data = await asyncio.wait_for(ws.recv(), 10)
    assert data.startswith(b"0{"), data
    ws.send_text("40" + json.dumps({"token": token} if token else {}))
    while True:
        opcode, data = await asyncio.wait_for(ws.recv(), 10)
        if data.startswith(b"40{"):
            return ws, json.loads(data[2:])["sid"]
        if data.startswith(b"44"):
            raise ConnectionError(data.decode())


async def good_client(cfg: dict, index: int, stats: Stats, stop: asyncio.Event) -> None:
    ws, _ = await socketio_session(cfg, cfg["good_tokens"][index], f"10.1.{index // 250}.{index % 250 + 1}")
    stats.connected += 1
    pending: dict[int, float] = {}
    next_id = 0

    async def reader():
        while True:
            opcode, data = await ws.recv()
            if opcode == 8:
                raise ConnectionError(f"closed by the server: {data[:2].hex()}")
            if data == b"2":
                ws.send_text("3")
            elif data.startswith(b"43"):
                ack = int(data[2:data.index(b"[")])
                sent = pending.pop(ack, None)
                if sent is not None and not stop.is_set():
                    stats.latencies.append(time.monotonic() - sent)

    task = asyncio.create_task(reader())
    try:
        await asyncio.sleep(random.random() * cfg["good_interval_s"])
        while not stop.is_set():
            if task.done():
                raise ConnectionError(str(task.exception()))
            pending[next_id] = time.monotonic()
            ws.send_text(f'42{next_id}["heartbeat",{{}}]')
            next_id += 1
            await asyncio.sleep(cfg["good_interval_s"])
        await asyncio.sleep(0.5)
        if task.done():
            raise ConnectionError(str(task.exception()))
        if len(pending) > 1:
            stats.lost.append(f"{len(pending)} acks never came")
    except Exception as error:  # noqa: BLE001 - recorded, the test fails on it
        stats.lost.append(str(error) or type(error).__name__)
    finally:
        task.cancel()
        ws.close()


# ---------------------------------------------------------------------------------------------
# Attackers.


async def connect_attempts(cfg: dict, tokens: list[str], stats: Stats) -> None:
    """`connects` attempts, half with a token, 50 at a time; each closes at once."""
    queue = list(range(cfg["connects"]))

    async def worker():
        while queue:
            index = queue.pop()
            token = tokens[index % len(tokens)] if index % 2 == 0 else None
            try:
                ws, _ = await socketio_session(cfg, token, f"10.2.0.{index % cfg['attacker_ips'] + 1}")
                stats.count("connects_accepted")
                ws.close()
            except Exception:  # noqa: BLE001 - refusals are the point
                stats.count("connects_refused")

    await asyncio.gather(*(worker() for _ in range(50)))


async def bad_frames(cfg: dict, stats: Stats) -> None:
    """Oversized frames, malformed packets and deep JSON, each on a connection of its own."""
    kinds = [
        ("oversized", lambda ws: ws.send_frame(b"x" * 16, claimed_length=cfg["max_payload"] * 4)),
        ("malformed", lambda ws: ws.send_text('42["heartbeat",{"a":')),
        ("garbage", lambda ws: ws.send_frame(os.urandom(64), opcode=1)),
        ("deep_json", lambda ws: ws.send_text("42" + "[" * 50_000 + "]" * 50_000)),
        ("binary_placeholders", lambda ws: ws.send_text('451-["x",{"_placeholder":true,"num":0}]')),
    ]
    for round_ in range(cfg["bad_rounds"]):
        for index, (name, send) in enumerate(kinds):
            try:
                ws, _ = await socketio_session(cfg, None, f"10.3.{round_ % 250}.{index + 1}")
                send(ws)
                await ws.writer.drain()
                try:
                    while True:
                        opcode, _ = await asyncio.wait_for(ws.recv(), 2)
                        if opcode == 8:
                            break
                except Exception:  # noqa: BLE001 - closed
                    pass
                ws.close()
                stats.count(name)
            except Exception:  # noqa: BLE001 - refused at connect (per-IP limits): counted too
                stats.count(name + "_refused")


async def flood(cfg: dict, token: str, stats: Stats) -> None:
    """One user sends `flood_events` events as fast as the socket takes them."""
    try:
        ws, _ = await socketio_session(cfg, token, "10.4.0.1")
    except Exception:  # noqa: BLE001
        stats.count("flood_refused")
        return
    try:
        for index in range(cfg["flood_events"]):
            ws.send_text('42["heartbeat",{}]')
            if index % 100 == 0:
                await ws.writer.drain()
        stats.count("flood_events", cfg["flood_events"])
        await asyncio.sleep(1)
    except Exception:  # noqa: BLE001 - disconnected as a repeat offender
        stats.count("flood_disconnected")
    ws.close()


async def slowloris(cfg: dict, stats: Stats, stop: asyncio.Event) -> None:
    """Request heads that never end: a header line every 2 s."""
    async def one():
        try:
            reader, writer = await asyncio.open_connection(cfg["host"], cfg["port"])
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            while not stop.is_set():
                await asyncio.sleep(2)
                writer.write(b"X-Slow: 1\r\n")
                await writer.drain()
            writer.close()
        except Exception:  # noqa: BLE001 - closed by the request deadline
            stats.count("slowloris_closed")

    await asyncio.gather(*(one() for _ in range(cfg["slowloris"])))


async def never_readers(cfg: dict, stats: Stats, stop: asyncio.Event) -> None:
    """Sockets that join channel `sinks` (`user-join`) and never read again, while the admin API
    sends to the channel."""
    sockets = []
    for index, token in enumerate(cfg["sink_tokens"]):
        try:
            ws, _ = await socketio_session(cfg, token, f"10.5.{index // 250}.{index % 250 + 1}")
            ws.send_text('42["user-join",' + json.dumps({"auth": {"token": token}}) + "]")
            sockets.append(ws)
        except Exception:  # noqa: BLE001
            stats.count("never_read_refused")
    stats.count("never_read_connected", len(sockets))
    await asyncio.sleep(1)  # their user-joins are handled
    body = json.dumps({"room": "channel:sinks", "event": "bulk", "data": "z" * cfg["bulk_bytes"]}).encode()
    request = (f"POST /admin/v1/emit HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {cfg['admin_token']}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    reader, writer = await asyncio.open_connection(cfg["host"], cfg["port"])
    while not stop.is_set():
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        stats.count("bulk_emits")
        await asyncio.sleep(cfg["bulk_interval_s"])
    writer.close()
    for ws in sockets:
        ws.close()


# ---------------------------------------------------------------------------------------------


async def run(cfg: dict) -> dict:
    stats, stop = Stats(), asyncio.Event()
    good = [asyncio.create_task(good_client(cfg, index, stats, stop)) for index in range(len(cfg["good_tokens"]))]
    await asyncio.sleep(cfg["warmup_s"])
    baseline = len(stats.latencies)
    started = time.monotonic()
    attacks = [
        asyncio.create_task(connect_attempts(cfg, cfg["attacker_tokens"], stats)),
        asyncio.create_task(bad_frames(cfg, stats)),
        asyncio.create_task(flood(cfg, cfg["flood_token"], stats)),
        asyncio.create_task(slowloris(cfg, stats, stop)),
        asyncio.create_task(never_readers(cfg, stats, stop)),
    ]
    await asyncio.sleep(cfg["attack_s"])
    stop.set()
    await asyncio.gather(*attacks, return_exceptions=True)
    await asyncio.gather(*good, return_exceptions=True)
    during = sorted(stats.latencies[baseline:])

    def quantile(q: float) -> float | None:
        return during[min(len(during) - 1, int(q * len(during)))] if during else None

    return {
        "good_clients": len(cfg["good_tokens"]), "good_connected": stats.connected, "good_lost": stats.lost,
        "acks_during_attack": len(during), "attack_seconds": round(time.monotonic() - started, 1),
        "p50_ms": quantile(0.5) and round(quantile(0.5) * 1000, 1), "p99_ms": quantile(0.99) and round(quantile(0.99) * 1000, 1),
        "max_ms": during and round(during[-1] * 1000, 1), "attack": stats.attack,
    }


def main() -> None:
    cfg = json.load(open(sys.argv[1]))
    result = asyncio.run(run(cfg))
    json.dump(result, open(sys.argv[2], "w"), indent=2)


if __name__ == "__main__":
    main()
