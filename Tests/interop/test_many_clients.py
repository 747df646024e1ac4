"""1000 python-socketio AsyncClients connected at once, each gets its own ack."""

import asyncio
import resource

import pytest
import socketio

from wire import SIO_PATH


N_CLIENTS = 1000
CONNECT_CONCURRENCY = 100  # bounds the SYN/handshake burst, not how many stay connected


def _raise_nofile(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2 * N_CLIENTS + 200:
        pytest.skip(f"RLIMIT_NOFILE {soft} too low for {N_CLIENTS} clients")


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_thousand_websocket_clients_each_get_their_ack(server_factory):
    # raise the limit before starting the server: the child inherits it
    _raise_nofile(8192)
    srv = server_factory()

    async def scenario():
        clients = [socketio.AsyncClient(reconnection=False) for _ in range(N_CLIENTS)]
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def connect(c):
            async with gate:
                await c.connect(srv.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=30)

        try:
            results = await asyncio.gather(*(connect(c) for c in clients), return_exceptions=True)
            failures = [r for r in results if isinstance(r, BaseException)]
            assert not failures, f"{len(failures)} of {N_CLIENTS} failed to connect; first: {failures[0]!r}"
            assert all(c.connected for c in clients)
            assert len({c.get_sid() for c in clients}) == N_CLIENTS

            async def ask(i, c):
                return await c.call("message-with-ack", ("client", i, {"i": i}), timeout=60)

            acks = await asyncio.gather(*(ask(i, c) for i, c in enumerate(clients)), return_exceptions=True)
            bad = [(i, a) for i, a in enumerate(acks) if a != ("client", i, {"i": i})]
            assert not bad, f"{len(bad)} wrong or missing acks; first: {bad[:3]!r}"
        finally:
            await asyncio.gather(*(c.disconnect() for c in clients if c.connected), return_exceptions=True)
            await asyncio.gather(*(c.shutdown() for c in clients), return_exceptions=True)

    asyncio.run(scenario())
    assert srv.alive()
