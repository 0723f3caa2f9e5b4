"""A small Slack Web API server for tests: it answers on loopback like slack.com/api and records every call.

Point the bot at it with `web_client(token, server.url)` (or SLACK_API_URL). Each call is kept as a
`Call` (method name, parsed params, the bearer token, the HTTP status it got); `wait_for` polls for
calls with a deadline. Paths under /response/ stand in for Slack's response URLs and are recorded as
method "response_url". Faults are scripted per method: `fail` answers the next calls with an HTTP
error (429 with Retry-After, 500 …), `stall` holds them past the client's timeout without answering.
apps.connections.open hands out a `tests.support.slack_fake.socket_mode.SocketModeServer` when one is set.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from tests.support.slack_fake.socket_mode import SocketModeServer


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
