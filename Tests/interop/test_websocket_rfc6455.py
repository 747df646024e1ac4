"""RFC 6455 details that the Autobahn Testsuite (`make autobahn`, AUTOBAHN.md) found or checks,
kept here so `make test` guards them: a message may come in many small fragments, and the test
server's raw echo route (what Autobahn runs against) echoes through the product's WebSocket code."""

import struct

import websocket

from wire import ws_connect, ws_recv, ws_socketio_connect


def _send_fragments(ws, message: bytes, size: int, opcode=websocket.ABNF.OPCODE_TEXT):
    parts = [message[i:i + size] for i in range(0, len(message), size)]
    for index, part in enumerate(parts):
        frame_opcode = opcode if index == 0 else websocket.ABNF.OPCODE_CONT
        ws.send_frame(websocket.ABNF.create_frame(part, frame_opcode, fin=int(index == len(parts) - 1)))
    return len(parts)


def _close_code(ws):
    ws.settimeout(5)
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None


def test_a_message_in_thousands_of_64_byte_fragments_is_joined(server):
    # Autobahn 9.3.1 sends 4 MiB in 64-byte fragments; 1024 fragments used to be the most a message could have.
    ws = ws_socketio_connect(server)
    try:
        text = "x" * 200_000
        count = _send_fragments(ws, f'421["message-with-ack","{text}"]'.encode(), 64)
        assert count > 3000
        assert ws_recv(ws) == f'431["{text}"]'
    finally:
        ws.close()


def test_the_raw_echo_route_echoes_messages_and_closes_on_bad_utf8(server):
    ws = ws_connect(f"ws://{server.host}:{server.port}/autobahn")
    try:
        ws.send("héllo")  # no Engine.IO open packet first: the route is plain WebSocket
        assert ws_recv(ws) == "héllo"
        ws.send_binary(b"\x00\xff")
        assert ws.recv() == b"\x00\xff"
        _send_fragments(ws, "fragmented ✓".encode(), 3)
        assert ws_recv(ws) == "fragmented ✓"
        ws.send_frame(websocket.ABNF.create_frame(b"\xff\xfe", websocket.ABNF.OPCODE_TEXT))
        assert _close_code(ws) == 1007
    finally:
        ws.close()

