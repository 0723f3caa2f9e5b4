"""A small Slack Web API server for tests: it answers on loopback like slack.com/api and records every call.

Point the bot at it with `WebClient(base_url=server.url)` (or SLACK_API_URL). Each call is kept as a
`Call` (method name, parsed params, the bearer token); `wait_for` polls for calls with a deadline.
Paths under /response/ stand in for Slack's response URLs and are recorded as method "response_url".
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Call:
    """One request the bot made."""

    method: str  # e.g. "chat.postMessage", or "response_url"
    params: dict[str, Any]
    token: str | None = None
    path: str = ""
    at: float = field(default_factory=time.monotonic)

    def blocks_json(self) -> str:
        """The call's blocks (and text) as one JSON string, for searching."""
        return json.dumps({"blocks": self.params.get("blocks"), "text": self.params.get("text")}, ensure_ascii=False)


class SlackAPIServer:
    """Answers auth.test, chat.postMessage, chat.postEphemeral, chat.update, reactions.add … with ok: true."""

    def __init__(self, bot_user_id: str = "U0BOT", bot_id: str = "B0BOT", team_id: str = "T0TEAM") -> None:
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.team_id = team_id
        self.calls: list[Call] = []
        self.errors: dict[str, str] = {}  # method -> Slack error code to answer with
        self.delays: dict[str, float] = {}  # method -> seconds to wait before answering
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
                delay = server.delays.get(method)
                if delay:
                    time.sleep(delay)
                server._record(Call(method, params, token, path))
                self._reply(200, json.dumps(server.answer(method, params)), "application/json; charset=utf-8")

            def _reply(self, status: int, body: str, ctype: str) -> None:
                data = body.encode("utf-8")
                self.send_response(status)
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
        if method == "chat.postMessage":
            return {"ok": True, "channel": params.get("channel"), "ts": ts,
                    "message": {"type": "message", "text": params.get("text"), "ts": ts, "bot_id": self.bot_id,
                                "user": self.bot_user_id, "thread_ts": params.get("thread_ts")}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        return {"ok": True}

    # ------------------------------------------------------------------ what was called

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    def reset(self) -> None:
        with self._cond:
            self.calls.clear()
            self.errors.clear()
            self.delays.clear()

    def calls_to(self, method: str, where: Callable[[Call], bool] | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method and (where is None or where(c))]

    def wait_for(self, method: str, where: Callable[[Call], bool] | None = None, count: int = 1,
                 timeout: float = 20.0) -> list[Call]:
        """The first `count` calls to `method` matching `where`, waiting up to `timeout` seconds for them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls if c.method == method and (where is None or where(c))]
                if len(found) >= count:
                    return found[:count]
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({c.method for c in self.calls})
                    raise AssertionError(f"no {count} call(s) to {method} within {timeout}s; calls made: {seen}")
                self._cond.wait(left)
