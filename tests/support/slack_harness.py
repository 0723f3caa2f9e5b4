"""The real Bolt app served over loopback HTTP for a test, and stopped after it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from slack_sdk import WebClient

from adapters.slack.handlers import SlackQA
from adapters.slack.http import serve_http
from qa.bot import Bot
from tests.support.slack_fake.signer import Slack


@contextmanager
def serving(bot: Bot, client: WebClient, secret: str, **options: Any) -> Iterator[tuple[SlackQA, Slack]]:
    """The app answering with `bot` through `client` (SlackQA `options` such as claims or access), and a
    sender of events signed with `secret`."""
    qa_app = SlackQA(bot, client, signing_secret=secret, **options)
    server = serve_http(qa_app.app, "127.0.0.1", 0, secret)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield qa_app, Slack(server.url, secret)
    finally:
        server.shutdown()
        server.server_close()
        qa_app.close()
