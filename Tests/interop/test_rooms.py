"""Rooms: join, broadcast to the others in a room, membership after disconnect."""

import time

from wire import SIO_PATH, EventRecorder


def _connect_three(server, sio_client, event_name):
    clients, recorders = [], []
    for _ in range(3):
        sio = sio_client()
        ev = EventRecorder()
        ev.record(sio, event_name)
        sio.connect(server.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=5)
        clients.append(sio)
        recorders.append(ev)
    return clients, recorders


def test_broadcast_reaches_room_members_except_sender(server, sio_client):
    (a, b, c), (ea, eb, ec) = _connect_three(server, sio_client, "news")
    outsider = sio_client()
    eo = EventRecorder()
    eo.record(outsider, "news")
    outsider.connect(server.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=5)

    for sio in (a, b, c):
        assert sio.call("join", "r", timeout=5) is True

    assert a.call("broadcast", ("r", "news", {"headline": "hi", "n": [1, 2]}), timeout=5) is True
    assert eb.get("news") == ({"headline": "hi", "n": [1, 2]},)
    assert ec.get("news") == ({"headline": "hi", "n": [1, 2]},)
    # A broadcast to a would have been written before a's ack; wait a little more anyway.
    time.sleep(0.3)
    assert ea.empty("news"), "the sender must not receive its own broadcast"
    assert eo.empty("news"), "a socket outside the room must not receive the broadcast"


def test_rooms_lists_joined_rooms_and_own_sid(server, sio_client):
    sio = sio_client()
    sio.connect(server.url, socketio_path=SIO_PATH, transports=["websocket"], wait_timeout=5)
    sid = sio.get_sid()
    assert sid

    assert sio.call("join", "r", timeout=5) is True
    assert sio.call("join", "another", timeout=5) is True
    assert sio.call("rooms", timeout=5) == sorted(["r", "another", sid])

    assert sio.call("leave", "another", timeout=5) is True
    assert sio.call("rooms", timeout=5) == sorted(["r", sid])


def test_left_room_receives_no_broadcast(server, sio_client):
    (a, b, c), (ea, eb, ec) = _connect_three(server, sio_client, "news")
    for sio in (a, b, c):
        assert sio.call("join", "r", timeout=5) is True
    assert c.call("leave", "r", timeout=5) is True
    assert a.call("member-count", "r", timeout=5) == 2

    assert a.call("broadcast", ("r", "news", "x"), timeout=5) is True
    assert eb.get("news") == ("x",)
    time.sleep(0.3)
    assert ec.empty("news")


def test_broadcast_with_binary_data(server, sio_client):
    (a, b, c), (ea, eb, ec) = _connect_three(server, sio_client, "blob")
    for sio in (a, b, c):
        assert sio.call("join", "bin", timeout=5) is True
    data = {"bytes": b"\x00\x01\x02", "more": [b"\xff"]}
    assert a.call("broadcast", ("bin", "blob", data), timeout=5) is True
    assert eb.get("blob") == (data,)
    assert ec.get("blob") == (data,)


def test_disconnect_leaves_rooms(server, sio_client):
    (a, b, c), _ = _connect_three(server, sio_client, "unused")
    for sio in (a, b, c):
        assert sio.call("join", "r", timeout=5) is True
    assert a.call("member-count", "r", timeout=5) == 3

    b.disconnect()

    # b's disconnect travels on b's own connection: poll briefly until a sees it
    deadline = time.monotonic() + 5
    count = a.call("member-count", "r", timeout=5)
    while count != 2 and time.monotonic() < deadline:
        time.sleep(0.05)
        count = a.call("member-count", "r", timeout=5)
    assert count == 2
    assert a.call("member-count", "nobody-here", timeout=5) == 0


def test_a_sockets_own_room_reaches_it_and_anyone_who_joined_it(server, sio_client):
    """Every socket is in the room named by its id (implied, not stored: see RoomRegistry)."""
    (a, b, c), (ea, eb, ec) = _connect_three(server, sio_client, "news")
    b_sid = b.get_sid()
    assert a.call("member-count", b_sid, timeout=5) == 1
    assert a.call("broadcast", (b_sid, "news", "to b"), timeout=5) is True
    assert eb.get("news") == ("to b",)

    # Another socket may join that room too; both then get what is sent to it.
    assert c.call("join", b_sid, timeout=5) is True
    assert a.call("member-count", b_sid, timeout=5) == 2
    assert a.call("broadcast", (b_sid, "news", "to b's room"), timeout=5) is True
    assert eb.get("news") == ("to b's room",)
    assert ec.get("news") == ("to b's room",)

    # Once b is gone, its room holds only those who joined it.
    b.disconnect()
    deadline = time.monotonic() + 5
    while a.call("member-count", b_sid, timeout=5) != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert a.call("member-count", b_sid, timeout=5) == 1
    time.sleep(0.2)
    assert ea.empty("news")
