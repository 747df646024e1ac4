"""A Socket.IO client over TLS for tests, with a blocking interface.

Why not `socketio.Client`: over wss:// its reader thread sits in `SSLSocket.recv` while the test's
thread calls `SSLSocket.send` on the same socket. CPython 3.11's ssl module does not serialise the
two, and OpenSSL forbids one `SSL` being used by two threads at once: under load a message is
now and then lost on the client side (about 1 in 200 echoes under three CPU burners, while the
server had sent the answer). `socketio.AsyncClient` (aiohttp) keeps each connection on one thread,
its own event loop here, and showed no loss in 600 echoes under the same load.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from pathlib import Path

import aiohttp
import socketio


class TLSClient:
    """`socketio.AsyncClient` on an event loop thread of its own, driven from the test's thread.

    Events named `echoed` are collected in `echoed`.
    """

    def __init__(self, ca: Path):
        self.echoed: list = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._session: aiohttp.ClientSession | None = None
        self._client: socketio.AsyncClient | None = None
        self._run(self._make(ca))

    async def _make(self, ca: Path) -> None:
        context = ssl.create_default_context(cafile=str(ca))
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context), trust_env=False)
        self._client = socketio.AsyncClient(reconnection=False, http_session=self._session)

        async def echoed(data):
            self.echoed.append(data)

        self._client.on("echoed", echoed)

    def _run(self, coroutine, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def connect(self, url: str, socketio_path: str, transport: str, wait_timeout: float = 10) -> None:
        """Raises `socketio.exceptions.ConnectionError` when refused (a certificate not trusted, say)."""
        self._run(self._client.connect(url, socketio_path=socketio_path, transports=[transport], wait_timeout=wait_timeout))

    def call(self, event: str, data, timeout: float = 5):
        """The ack's data; `socketio.exceptions.TimeoutError` when none came within `timeout`."""
        return self._run(self._client.call(event, data, timeout=timeout), timeout + 5)

    @property
    def connected(self) -> bool:
        return self._client.connected

    def transport(self) -> str:
        return self._client.transport()

    def close(self) -> None:
        """Disconnects (best effort) and stops the loop thread."""
        async def shut():
            try:
                if self._client.connected:
                    await self._client.disconnect()
            finally:
                await self._session.close()

        try:
            self._run(shut(), 10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
