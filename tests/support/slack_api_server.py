"""A small Slack Web API server for tests: it answers on loopback like slack.com/api and records every call.
With it, a minimal Socket Mode (WebSocket) endpoint, handed out by apps.connections.open, and `Slack`,
which sends the bot what Slack would: signed Events API, slash command and interactivity requests.

Point the bot at it with `web_client(token, server.url)` (or SLACK_API_URL). Each call is kept as a
`Call` (method name, parsed params, the bearer token, the HTTP status it got); `wait_for` polls for
calls with a deadline. Paths under /response/ stand in for Slack's response URLs and are recorded as
method "response_url". Faults are scripted per method: `fail` answers the next calls with an HTTP
error (429 with Retry-After, 500 …), `stall` holds them past the client's timeout without answering.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import socket
import socketserver
import struct
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode


@dataclass
class Call:
    """One request the bot made."""

    method: str  # e.g. "chat.postMessage", or "response_url"
    params: dict[str, Any]
    token: str | None = None
    path: str = ""
    at: float = field(default_factory=time.monotonic)  # when it was carried out (a fault: when it came in)
    status: int = 200  # the HTTP status it was answered with; 0: none (stalled past the client's timeout)

    @property
    def carried_out(self) -> bool:
        """The server acted on the call (it was not one of the scripted faults)."""
        return self.status == 200

    def blocks_json(self) -> str:
        """The call's blocks (and text) as one JSON string, for searching."""
        return json.dumps({"blocks": self.params.get("blocks"), "text": self.params.get("text")}, ensure_ascii=False)


@dataclass(frozen=True)
class Fault:
    """How the server answers one call instead of carrying it out."""

    status: int = 500  # the HTTP status; 0: no answer at all, the connection is closed after `hold`
    retry_after: int | None = None  # the Retry-After header, in seconds
    hold: float = 0.0  # seconds before answering (or closing)
    carry_out: bool = False  # do what was asked first (post the message), then fail to answer


class SlackAPIServer:
    """Answers auth.test, chat.postMessage, chat.postEphemeral, chat.update, reactions.add … with ok: true."""

    def __init__(self, bot_user_id: str = "U0BOT", bot_id: str = "B0BOT", team_id: str = "T0TEAM") -> None:
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.team_id = team_id
        self.calls: list[Call] = []
        self.errors: dict[str, str] = {}  # method -> Slack error code to answer with
        self.delays: dict[str, float] = {}  # method -> seconds to wait before answering
        self.faults: dict[str, deque[Fault]] = {}  # method -> how its next calls fail, one each
        self.socket_mode: SocketModeServer | None = None  # what apps.connections.open hands out
        self.posted: list[dict[str, Any]] = []  # messages chat.postMessage carried out, for conversations.*
        self._cond = threading.Condition()
        self._ts = itertools.count(1)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                self.do_POST()

            def do_POST(self) -> None:  # noqa: N802
                path, _, query = self.path.partition("?")
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                ctype = self.headers.get("Content-Type") or ""
                params: dict[str, Any] = dict(parse_qsl(query))
                if "json" in ctype and raw:
                    params.update(json.loads(raw))
                elif raw:
                    params.update(parse_qsl(raw, keep_blank_values=True))
                auth = self.headers.get("Authorization") or ""
                token = auth[len("Bearer "):] if auth.startswith("Bearer ") else params.get("token")
                if path.startswith("/response/"):
                    server._record(Call("response_url", params, token, path))
                    self._reply(200, "ok", "text/plain")
                    return
                method = path.rsplit("/", 1)[-1]
                fault = server._next_fault(method)
                if fault is not None and fault.carry_out:  # done, but the answer never reaches the client
                    server._record(Call(method, params, token, path))
                    server.answer(method, params)
                    time.sleep(fault.hold)
                    self.close_connection = True
                    return
                if fault is not None:
                    self._fail(fault, Call(method, params, token, path, status=fault.status))
                    return
                delay = server.delays.get(method)
                if delay:
                    time.sleep(delay)
                server._record(Call(method, params, token, path))
                self._reply(200, json.dumps(server.answer(method, params)), "application/json; charset=utf-8")

            def _fail(self, fault: Fault, call: Call) -> None:
                server._record(call)
                time.sleep(fault.hold)
                if fault.status == 0:
                    self.close_connection = True  # the client has given up by now: nothing to answer
                    return
                if fault.status == 429:
                    self._reply(429, json.dumps({"ok": False, "error": "ratelimited"}), "application/json",
                                {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)})
                else:  # what a load balancer in front of Slack answers: not JSON
                    self._reply(fault.status, f"<html><body>{fault.status} Server Error</body></html>", "text/html")

            def _reply(self, status: int, body: str, ctype: str, headers: dict[str, str] | None = None) -> None:
                data = body.encode("utf-8")
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # ------------------------------------------------------------------ life cycle

    def start(self) -> SlackAPIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> SlackAPIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def url(self) -> str:
        """The Web API base URL (what SLACK_API_URL is set to)."""
        return self.base + "/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base}/response/{name}"

    # ------------------------------------------------------------------ answers

    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method in self.errors:
            return {"ok": False, "error": self.errors[method]}
        ts = f"1700000{next(self._ts):03d}.000100"
        if method == "auth.test":
            return {"ok": True, "url": "https://qa-test.slack.com/", "team": "QA Test", "user": "qa",
                    "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id,
                    "is_enterprise_install": False}
        if method in ("conversations.replies", "conversations.history"):
            return {"ok": True, "has_more": False, "messages": self._posted(params)}
        if method == "chat.postMessage":
            with self._cond:
                self.posted.append({**params, "ts": ts})
            return {"ok": True, "channel": params.get("channel"), "ts": ts,
                    "message": {"type": "message", "text": params.get("text"), "ts": ts, "bot_id": self.bot_id,
                                "user": self.bot_user_id, "thread_ts": params.get("thread_ts")}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "apps.connections.open" and self.socket_mode is not None:
            return {"ok": True, "url": self.socket_mode.url}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        return {"ok": True}

    def _posted(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The messages posted in a channel (a thread's, for conversations.replies), as Slack lists them:
        with their metadata when include_all_metadata is asked for."""
        thread = params.get("ts")
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        with self._cond:
            found = [m for m in self.posted if m.get("channel") == params.get("channel")
                     and (thread is None or m.get("thread_ts") == thread or m["ts"] == thread)]
        out = []
        for m in found:
            message = {"type": "message", "ts": m["ts"], "text": m.get("text"), "bot_id": self.bot_id,
                       "user": self.bot_user_id, "thread_ts": m.get("thread_ts")}
            metadata = m.get("metadata")
            if with_metadata and metadata:
                message["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
            out.append(message)
        return out

    # ------------------------------------------------------------------ faults

    def post_then_stall(self, method: str, times: int, seconds: float) -> None:
        """The next `times` calls to `method` are carried out (a message is posted), but their answer never
        comes: the connection is held `seconds`, past the client's timeout, then closed."""
        self._script(method, [Fault(0, hold=seconds, carry_out=True)] * times)

    def fail(self, method: str, times: int, status: int = 500, retry_after: int | None = None) -> None:
        """The next `times` calls to `method` get HTTP `status` (429: with `retry_after`) and are not carried out."""
        self._script(method, [Fault(status, retry_after)] * times)

    def stall(self, method: str, times: int, seconds: float) -> None:
        """The next `times` calls to `method` get no answer: the connection is held `seconds`, then closed."""
        self._script(method, [Fault(0, hold=seconds)] * times)

    def _script(self, method: str, faults: list[Fault]) -> None:
        with self._cond:
            self.faults.setdefault(method, deque()).extend(faults)

    def _next_fault(self, method: str) -> Fault | None:
        with self._cond:
            queue = self.faults.get(method)
            return queue.popleft() if queue else None

    # ------------------------------------------------------------------ what was called

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    def reset(self) -> None:
        with self._cond:
            self.calls.clear()
            self.posted.clear()
            self.errors.clear()
            self.delays.clear()
            self.faults.clear()

    def attempts(self, method: str, where: Callable[[Call], bool] | None = None) -> list[Call]:
        """Every call to `method` matching `where`, the faulted ones included, in the order they came."""
        with self._cond:
            return [c for c in self.calls if c.method == method and (where is None or where(c))]

    def calls_to(self, method: str, where: Callable[[Call], bool] | None = None) -> list[Call]:
        """The calls to `method` matching `where` that the server carried out (not the scripted faults)."""
        return [c for c in self.attempts(method, where) if c.carried_out]

    def wait_for(self, method: str, where: Callable[[Call], bool] | None = None, count: int = 1,
                 timeout: float = 20.0) -> list[Call]:
        """The first `count` carried-out calls to `method` matching `where`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls
                         if c.method == method and c.carried_out and (where is None or where(c))]
                if len(found) >= count:
                    return found[:count]
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({c.method for c in self.calls})
                    raise AssertionError(f"no {count} call(s) to {method} within {timeout}s; calls made: {seen}")
                self._cond.wait(left)


# --------------------------------------------------------------------------- Socket Mode


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


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every displayed text object in the blocks."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text"):
                found.append(node["text"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(blocks)
    return found


# --------------------------------------------------------------------------- what Slack sends the bot


_ids = itertools.count(1)


def next_ts() -> str:
    """A fresh message timestamp, unique within the test session."""
    return f"1712345{next(_ids):03d}.000200"


class Slack:
    """Sends what Slack would send: signed Events API, slash command and interactivity requests."""

    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self.secret = secret

    def sign(self, body: str, timestamp: int) -> str:
        """The `X-Slack-Signature` of `body` sent at `timestamp`, as Slack computes it."""
        base = f"v0:{timestamp}:{body}".encode()
        return "v0=" + hmac.new(self.secret.encode(), base, hashlib.sha256).hexdigest()

    def post(self, body: str, content_type: str, headers: dict[str, str] | None = None,
             timestamp: int | None = None, signature: str | None = None) -> tuple[int, str, float]:
        """(status, body, seconds taken) of one signed POST."""
        ts = int(time.time()) if timestamp is None else timestamp
        sig = self.sign(body, ts) if signature is None else signature
        req = urllib.request.Request(self.url, data=body.encode(), method="POST", headers={
            "Content-Type": content_type, "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sig,
            **(headers or {})})
        start = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read().decode(), time.monotonic() - start
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode(), time.monotonic() - start

    @staticmethod
    def envelope(event: dict[str, Any], event_id: str | None = None) -> str:
        """The Events API body Slack posts for `event`."""
        return json.dumps({
            "token": "legacy", "team_id": "T0TEAM", "api_app_id": "A0APP", "type": "event_callback",
            "event": {"event_ts": event.get("ts"), **event}, "event_id": event_id or f"Ev{next(_ids):06d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T0TEAM", "user_id": "U0BOT", "is_bot": True}]})

    def event(self, event: dict[str, Any], event_id: str | None = None, retry: int | None = None,
              **kw: Any) -> tuple[int, str, float]:
        """Deliver an event; `retry` (1, 2 …) marks it as Slack's redelivery of an event it thinks was missed."""
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return self.post(self.envelope(event, event_id), "application/json", headers, **kw)

    @staticmethod
    def mention_event(text: str, channel: str = "C0CHAN", user: str = "U0ANN", thread_ts: str | None = None,
                      ts: str | None = None) -> dict[str, Any]:
        """An app_mention event: `text` after the bot's mention."""
        ev: dict[str, Any] = {"type": "app_mention", "user": user, "text": f"<@U0BOT> {text}", "ts": ts or next_ts(),
                              "channel": channel}
        if thread_ts:
            ev["thread_ts"] = thread_ts
        return ev

    def mention(self, text: str, channel: str = "C0CHAN", user: str = "U0ANN", thread_ts: str | None = None,
                ts: str | None = None, **kw: Any) -> tuple[str, tuple[int, str, float]]:
        """@mention the bot; (the message's ts, the response)."""
        ev = self.mention_event(text, channel, user, thread_ts, ts)
        return ev["ts"], self.event(ev, **kw)

    @staticmethod
    def dm_event(text: str, channel: str = "D0ANN", user: str = "U0ANN", **extra: Any) -> dict[str, Any]:
        """A message.im event."""
        ts = extra.pop("ts", None) or next_ts()
        return {"type": "message", "channel_type": "im", "user": user, "text": text, "ts": ts, "channel": channel,
                **extra}

    def dm(self, text: str, channel: str = "D0ANN", user: str = "U0ANN", **extra: Any) -> tuple[str, tuple[int, str, float]]:
        """Send the bot a direct message; (the message's ts, the response)."""
        ev = self.dm_event(text, channel, user, **extra)
        return ev["ts"], self.event(ev)

    def command(self, text: str, response_url: str, channel: str = "C0CHAN", user: str = "U0ANN") -> tuple[int, str, float]:
        """`/ask text`."""
        form = {"token": "legacy", "team_id": "T0TEAM", "channel_id": channel, "user_id": user, "command": "/ask",
                "text": text, "response_url": response_url, "trigger_id": "1.2.3", "api_app_id": "A0APP"}
        return self.post(urlencode(form), "application/x-www-form-urlencoded")

    def click(self, button: dict[str, Any], user: str = "U0ANN", channel: str = "C0CHAN",
              message_ts: str = "1700000000.000001", thread_ts: str | None = None, ephemeral: bool = False,
              response_url: str | None = None) -> tuple[int, str, float]:
        """Click `button` (as found in a message the bot posted)."""
        container: dict[str, Any] = {"type": "message", "message_ts": message_ts, "channel_id": channel,
                                     "is_ephemeral": ephemeral}
        payload: dict[str, Any] = {
            "type": "block_actions", "team": {"id": "T0TEAM"}, "user": {"id": user}, "api_app_id": "A0APP",
            "token": "legacy", "container": container, "trigger_id": "1.2.3", "channel": {"id": channel},
            "response_url": response_url or "", "actions": [{**button, "block_id": "qa_actions",
                                                             "action_ts": str(time.time())}]}
        if thread_ts:
            container["thread_ts"] = thread_ts
        if not ephemeral:
            payload["message"] = {"type": "message", "ts": message_ts, "thread_ts": thread_ts, "bot_id": "B0BOT"}
        return self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
