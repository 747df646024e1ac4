"""SIGTERM: stop accepting, tell connected clients goodbye, exit 0 within the drain timeout."""

import socket
import threading
import time

from wire import SIO_PATH

DRAIN_TIMEOUT_S = 2


def _connect_refused(srv) -> bool:
    """True once nothing accepts on the port any more.

    A connection that reached the kernel's accept queue just before the listener
    closed is reset rather than refused; both mean the server no longer takes it.
    """
    try:
        socket.create_connection((srv.host, srv.port), timeout=1).close()
    except (ConnectionRefusedError, ConnectionResetError):
        return True
    return False


def test_sigterm_disconnects_clients_refuses_new_connections_and_exits_0(server_factory, sio_client):
    srv = server_factory("--drain-timeout", str(DRAIN_TIMEOUT_S))
    clients = {"polling": sio_client(), "websocket-1": sio_client(), "websocket-2": sio_client()}
    gone = {name: threading.Event() for name in clients}
    reasons = {}
    for name, sio in clients.items():
        def on_disconnect(*args, name=name):
            reasons[name] = args
            gone[name].set()
        sio.on("disconnect", on_disconnect)
        transports = ["polling"] if name == "polling" else ["websocket"]
        sio.connect(srv.url, socketio_path=SIO_PATH, transports=transports, wait_timeout=5)
        assert sio.call("message-with-ack", name, timeout=5) == name

    result = {}

    def stop():  # ServerProcess.stop sends SIGTERM and waits (SIGKILL after 10 s)
        started = time.monotonic()
        result["code"] = srv.stop()
        result["elapsed"] = time.monotonic() - started

    stopper = threading.Thread(target=stop)
    stopper.start()

    # the listener goes away promptly, while sessions are still being drained
    deadline = time.monotonic() + 1.0
    while not _connect_refused(srv):
        assert time.monotonic() < deadline, "new connections still accepted 1 s after SIGTERM"
        time.sleep(0.02)

    for name in ("websocket-1", "websocket-2"):
        assert gone[name].wait(DRAIN_TIMEOUT_S + 3), f"{name}: no disconnect handler call"
        # not a "server disconnect" (a 41 packet): that tells a client not to reconnect, and
        # after a shutdown it should reconnect (to another instance, or this one restarted)
        assert reasons[name] != (clients[name].reason.SERVER_DISCONNECT,), (name, reasons[name])

    stopper.join(DRAIN_TIMEOUT_S + 10)
    assert result.get("code") == 0, f"exit code {result.get('code')}; stderr:\n{srv.stderr_tail()}"
    assert result["elapsed"] < DRAIN_TIMEOUT_S + 3, f"exit took {result['elapsed']:.1f} s"
    assert _connect_refused(srv)
    # the polling client learns it too (from the close packet or the failed poll)
    assert gone["polling"].wait(5), "polling client: no disconnect handler call"


def test_sigterm_with_no_clients_exits_at_once(server_factory):
    srv = server_factory("--drain-timeout", "10")
    started = time.monotonic()
    assert srv.stop() == 0
    assert time.monotonic() - started < 2, "an idle server waited for the drain timeout"


def test_a_sigterm_right_after_listening_is_never_lost(server_factory):
    # The handler used to be armed asynchronously (a dispatch signal source), with the signal
    # ignored meanwhile: a SIGTERM in that window left the server running until SIGKILL.
    for _ in range(20):
        srv = server_factory("--drain-timeout", "10")
        started = time.monotonic()
        assert srv.stop() == 0
        assert time.monotonic() - started < 2
