"""`Slack`: sends the bot what Slack would, signed as Slack signs it: Events API, slash command and
interactivity requests."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

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
