"""Serving the Events API over HTTP: the Bolt app behind a small threading HTTP server."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_bolt import App, BoltRequest
from slack_sdk.signature import SignatureVerifier

from adapters.slack.webapi import one_line
from qa.errors import ConfigError

log = logging.getLogger("qa.slack")


EVENTS_PATH = "/slack/events"
MAX_BODY = 1 << 20  # Slack's payloads are far smaller

class SlackHTTPServer(ThreadingHTTPServer):
    """Serves a Bolt app's Events API endpoint (events, slash commands and interactivity) over HTTP."""

    daemon_threads = True

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0, path: str = EVENTS_PATH,
                 signing_secret: str | None = None) -> None:
        self.app = app
        self.path = path
        self.signing_secret = signing_secret  # checks what Bolt cannot read (see _Handler._malformed)
        super().__init__((host, port), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        host = self.server_address[0]
        host = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{host}:{self.port}{self.path}"


class _Handler(BaseHTTPRequestHandler):
    server: SlackHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        path, _, query = self.path.partition("?")
        if path != self.server.path:
            self._send(404, {}, "not found")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self._send(413, {}, "payload too large")
            return
        body = self.rfile.read(length).decode("utf-8", errors="replace")
        headers: dict[str, str | Sequence[str]] = {}
        for k, v in self.headers.items():
            headers[k.lower()] = [*headers.get(k.lower(), []), v]
        try:
            request = BoltRequest(body=body, query=query, headers=headers)
        except Exception as exc:  # Bolt reads the payload's fields as it builds the request: wrong types fail it
            self._malformed(body, headers, exc)
            return
        resp = self.server.app.dispatch(request)
        self._send(resp.status, resp.headers, resp.body)

    def _malformed(self, body: str, headers: Mapping[str, Any], exc: Exception) -> None:
        """A payload Bolt cannot even read: acknowledged (so Slack does not resend it) when it is signed, and
        logged in one line; refused when it is not."""
        def first(name: str) -> str:
            value = headers.get(name) or [""]
            return str(value[0] if isinstance(value, list) else value)

        secret = self.server.signing_secret
        if secret and not SignatureVerifier(secret).is_valid(body, first("x-slack-request-timestamp"),
                                                              first("x-slack-signature")):
            self._send(401, {}, "invalid request")
            return
        log.warning("ignored a malformed request (%s: %s)", type(exc).__name__, one_line(exc))
        self._send(200, {}, "")

    def do_GET(self) -> None:  # noqa: N802
        self._send(200 if self.path == "/health" else 404, {}, "ok" if self.path == "/health" else "not found")

    def _send(self, status: int, headers: Mapping[str, Any], body: str | dict[str, Any]) -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
        self.send_response(status)
        for k, vs in headers.items():
            if k.lower() == "content-length":
                continue
            for v in ([vs] if isinstance(vs, str) else vs):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def serve_http(app: App, host: str = "127.0.0.1", port: int = 0,
               signing_secret: str | None = None) -> SlackHTTPServer:
    """A server bound to (host, port), not yet serving: call `serve_forever()` (in a thread for tests)."""
    try:
        return SlackHTTPServer(app, host, port, signing_secret=signing_secret)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
