"""Acknowledgements in both directions, over WebSocket and polling."""

import pytest

from wire import SIO_PATH, EventRecorder

TRANSPORTS = [["websocket"], ["polling"]]


@pytest.mark.parametrize("transports", TRANSPORTS, ids=["websocket", "polling"])
def test_client_call_gets_all_args_back(server, sio_client, transports):
    sio = sio_client()
    sio.connect(server.url, socketio_path=SIO_PATH, transports=transports, wait_timeout=5)

    assert sio.call("message-with-ack", (1, "2", {"3": [False]}), timeout=5) == (1, "2", {"3": [False]})
    assert sio.call("message-with-ack", "only", timeout=5) == "only"
    assert sio.call("message-with-ack", timeout=5) is None  # ack with no args: 43<id>[]
    # non-ASCII text survives the round trip (python escapes it as \\uXXXX)
    assert sio.call("message-with-ack", "héllo ✓ 日本", timeout=5) == "héllo ✓ 日本"


@pytest.mark.parametrize("transports", TRANSPORTS, ids=["websocket", "polling"])
def test_many_outstanding_acks_resolve_to_their_own_ids(server, sio_client, transports):
    sio = sio_client()
    sio.connect(server.url, socketio_path=SIO_PATH, transports=transports, wait_timeout=5)
    ev = EventRecorder()
    q = ev.q("ack")
    for i in range(20):
        sio.emit("message-with-ack", ("n", i), callback=lambda *a: q.put(a))
    got = sorted(q.get(timeout=5) for _ in range(20))
    assert got == [("n", i) for i in range(20)]


@pytest.mark.parametrize("transports", TRANSPORTS, ids=["websocket", "polling"])
def test_server_requested_ack_is_delivered_to_the_server(server, sio_client, transports):
    sio = sio_client()
    ev = EventRecorder()
    requests_seen = ev.q("server-ack-request")

    @sio.on("server-ack-request")
    def on_request(*args):
        requests_seen.put(args)
        return ("pong", 42, {"back": args[0]})  # a tuple = several ack args

    ev.record(sio, "server-ack-result")
    sio.connect(server.url, socketio_path=SIO_PATH, transports=transports, wait_timeout=5)

    sio.emit("server-ack", {"ping": 1})
    assert requests_seen.get(timeout=5) == ({"ping": 1},)
    # the server emits `server-ack-result` with the ack's args as one list
    assert ev.get("server-ack-result") == (["pong", 42, {"back": {"ping": 1}}],)
