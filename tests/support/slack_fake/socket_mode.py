"""A minimal Socket Mode (WebSocket) endpoint for tests, handed out by the Web API server's
apps.connections.open."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import socketserver
import struct
import threading
import time
import uuid
from typing import Any

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _frame(opcode: int, payload: bytes) -> bytes:
    """A server-to-client WebSocket frame (unmasked)."""
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n <= 125:
        head += bytes([n])
    elif n < 1 << 16:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


class SocketModeServer:
    """A WebSocket endpoint that speaks enough of Slack's Socket Mode for tests.

    It says hello to each connection, answers pings, records every envelope acknowledgement the app
    sends back (`acks`), and `send()` pushes an envelope (events_api, slash_commands, interactive) to it.
    """

    def __init__(self) -> None:
        self.acks: list[dict[str, Any]] = []
        self._conns: list[socket.socket] = []
        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                server._serve(self.request)

        self._tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._tcp.daemon_threads = True
        self._thread = threading.Thread(target=self._tcp.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._tcp.server_address[1]}/link/?ticket=test"

    def start(self) -> SocketModeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            for c in self._conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._tcp.shutdown()
        self._tcp.server_close()

    def __enter__(self) -> SocketModeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, conn: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(1024)
            if not chunk:
                return
            request += chunk
        headers = {}
        for line in request.decode().split("\r\n")[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1((headers["sec-websocket-key"] + _WS_GUID).encode()).digest()).decode()
        conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0APP"}}
        conn.sendall(_frame(0x1, json.dumps(hello).encode()))
        with self._cond:
            self._conns.append(conn)
            self._cond.notify_all()
        try:
            while True:
                opcode, payload = self._read_frame(conn)
                if opcode == 0x9:  # ping
                    self._send(conn, _frame(0xA, payload))
                elif opcode == 0x1:
                    with self._cond:
                        self.acks.append(json.loads(payload))
                        self._cond.notify_all()
                elif opcode == 0x8:
                    self._send(conn, _frame(0x8, payload[:2]))
                    return
        except (ConnectionError, OSError):
            return
        finally:
            with self._cond:
                if conn in self._conns:
                    self._conns.remove(conn)

    def _send(self, conn: socket.socket, data: bytes) -> None:
        with self._send_lock:
            conn.sendall(data)

    @staticmethod
    def _read_frame(conn: socket.socket) -> tuple[int, bytes]:
        def exactly(n: int) -> bytes:
            data = b""
            while len(data) < n:
                chunk = conn.recv(n - len(data))
                if not chunk:
                    raise ConnectionError("closed")
                data += chunk
            return data

        b1, b2 = exactly(2)
        n = b2 & 0x7F
        if n == 126:
            n = struct.unpack("!H", exactly(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", exactly(8))[0]
        mask = exactly(4) if b2 & 0x80 else b"\0\0\0\0"
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(exactly(n)))
        return b1 & 0x0F, data

    def wait_connected(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._conns:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no Socket Mode connection within {timeout}s")
                self._cond.wait(left)

    def send(self, kind: str, payload: dict[str, Any], retry_attempt: int = 0) -> str:
        """Push one envelope to the connected app; returns its envelope id."""
        envelope_id = str(uuid.uuid4())
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api", "retry_attempt": retry_attempt,
                    "retry_reason": "timeout" if retry_attempt else ""}
        with self._cond:
            conn = self._conns[-1]
        self._send(conn, _frame(0x1, json.dumps(envelope).encode()))
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for ack in self.acks:
                    if ack.get("envelope_id") == envelope_id:
                        return ack
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"envelope {envelope_id} not acknowledged within {timeout}s")
                self._cond.wait(left)
