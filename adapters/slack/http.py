"""Serving the Events API over HTTP: the Bolt app behind a small threading HTTP server.

What reaches the app is only what Slack can have sent: a request with a malformed timestamp or signature is
refused (401) before anything else, an event payload that is not a well-formed event is acknowledged or
refused in one log line, and a connection that sends nothing for `READ_TIMEOUT_S` is closed, so slow or
idle clients cannot hold the server's threads. A client that goes away is not an error.
"""

from __future__ import annotations

import json
import logging
import re
import sys
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
# Slack sends a whole request at once and expects the acknowledgement within 3 s: a connection silent for
# longer (mid-request, or idle between keep-alive requests) is a slow or stuck client, and is closed.
READ_TIMEOUT_S = 10.0
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # seconds since 1970, as Slack sends them
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")

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

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One log line, not socketserver's traceback on stderr: a client that hung up or went silent is no
        error at all; anything else is a bug, with its traceback at DEBUG."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            log.debug("a client at %s went away: %s", client_address[0], type(exc).__name__)
            return
        log.error("serving a request from %s failed: %s: %s", client_address[0], type(exc).__name__, one_line(exc))
        log.debug("the failure in full", exc_info=exc)

    @property
    def url(self) -> str:
        host = self.server_address[0]
        host = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{host}:{self.port}{self.path}"


class _Handler(BaseHTTPRequestHandler):
    server: SlackHTTPServer
    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT_S  # socketserver sets it on the connection: every read waits at most this long

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
        if self.server.signing_secret and not self._well_formed_signature():
            log.info("refused a request with a malformed signature or timestamp header")
            self._send(401, {}, "invalid request")
            return
        raw = self.rfile.read(length)
        if len(raw) < length:  # the client went away, or stopped sending: nobody to answer
            log.debug("a client sent %d of %d bytes and stopped", len(raw), length)
            self.close_connection = True
            return
        body = raw.decode("utf-8", errors="replace")
        headers: dict[str, str | Sequence[str]] = {}
        for k, v in self.headers.items():
            headers[k.lower()] = [*headers.get(k.lower(), []), v]
        try:
            request = BoltRequest(body=body, query=query, headers=headers)
            problem = _event_problem(request.body)
            if problem is not None:
                raise ValueError(problem)
            resp = self.server.app.dispatch(request)
        except Exception as exc:  # Bolt reads the payload's fields as it builds the request: wrong types fail it
            self._malformed(body, headers, exc)
            return
        self._send(resp.status, resp.headers, resp.body)

    def _well_formed_signature(self) -> bool:
        """Whether the timestamp and signature headers have Slack's form (whether they are right is Bolt's to
        check): a timestamp Bolt cannot read as a number would make it fail with a 500."""
        timestamp = self.headers.get("X-Slack-Request-Timestamp") or ""
        signature = self.headers.get("X-Slack-Signature") or ""
        return bool(_TIMESTAMP.fullmatch(timestamp) and _SIGNATURE.fullmatch(signature))

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


def _event_problem(body: Any) -> str | None:
    """What is wrong with a payload that Bolt's middleware would stumble over (a 500), or None. Bolt reads
    `event` as an object in every request that has one, whatever the request's type."""
    if not isinstance(body, dict):
        return None
    if "event" in body or body.get("type") == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict):
            return f"its event is {type(event).__name__}, not an object"
        if not isinstance(event.get("type"), str):
            return "its event has no type"
    for name in ("authorizations", "authed_users"):
        if body.get(name) is not None and not isinstance(body.get(name), list):
            return f"its {name} is not a list"
    return None


def serve_http(app: App, host: str = "127.0.0.1", port: int = 0,
               signing_secret: str | None = None) -> SlackHTTPServer:
    """A server bound to (host, port), not yet serving: call `serve_forever()` (in a thread for tests)."""
    try:
        return SlackHTTPServer(app, host, port, signing_secret=signing_secret)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
