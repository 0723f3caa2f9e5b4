"""`qa slack`: check the credentials, load the index, then serve in Socket Mode or over HTTP until stopped."""

from __future__ import annotations

import signal
import threading
import urllib.error
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError

from adapters.slack.claims import claims_for
from adapters.slack.config import SlackConfig, read_config
from adapters.slack.handlers import SlackQA
from adapters.slack.http import EVENTS_PATH, serve_http
from adapters.slack.logs import configure_logging
from adapters.slack.webapi import SlackConnectionError, SlackUnreachable, api_failure, one_line, web_client
from qa.bot import Bot
from qa.config import Settings
from qa.errors import ConfigError


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the bot like Ctrl+C: answers in progress are finished first


def _serve_socket_mode(qa_app: SlackQA, cfg: SlackConfig, console: Any) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    assert cfg.app_token is not None
    handler = SocketModeHandler(qa_app.app, cfg.app_token)
    try:
        handler.connect()
    except SlackApiError as exc:
        raise SlackConnectionError(f"SLACK_APP_TOKEN was rejected by Slack: {api_failure(exc)}") from None
    except SlackUnreachable as exc:
        raise SlackConnectionError(f"cannot reach the Slack API at {cfg.api_url}: {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise SlackConnectionError(f"cannot reach the Slack API at {cfg.api_url}: {one_line(exc)}") from None
    console.print("Connected to Slack in Socket Mode; Ctrl+C to stop")
    try:
        threading.Event().wait()
    finally:
        handler.close()


def run_slack(settings: Settings, http: bool = False, port: int = 3000, env: Mapping[str, str] | None = None) -> int:
    """`qa slack`: check the credentials, load the index, then serve until interrupted; returns the exit code."""
    from rich.console import Console

    from adapters.common.ingest_view import load_bot

    cfg = read_config(env, http=http)
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, got {port}")
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    configure_logging(cfg)
    bot = Bot(settings)
    bot.check_index()  # a missing, damaged or mismatched index fails now, not at the first question
    # the credentials and the port are checked before the slow part: loading the model and the index
    loaded = threading.Event()
    qa_app = SlackQA(bot, web_client(cfg.bot_token, cfg.api_url), signing_secret=cfg.signing_secret,
                     claims=claims_for(settings), access=cfg.access, loaded=loaded)
    server = serve_http(qa_app.app, "0.0.0.0", port, cfg.signing_secret) if http else None
    serving: threading.Thread | None = None
    try:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _interrupt)
        if server is not None:
            # Slack allows 3 s for an acknowledgement: events are acknowledged from the moment the port is
            # open, and those that arrive while the model loads are answered once it is loaded
            serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="qa-slack-http", daemon=True)
            serving.start()
            console.print(f"Listening at http://0.0.0.0:{server.port}{EVENTS_PATH}; loading the model and the "
                          "index (events are acknowledged now and answered once loaded)")
        try:
            load_bot(bot, console)
        except BaseException:
            qa_app.load_failed = True
            raise
        finally:
            loaded.set()
        if server is not None:
            console.print(f"Answering Slack at http://0.0.0.0:{server.port}{EVENTS_PATH} (the Request URL for "
                          "events, slash commands and interactivity); Ctrl+C to stop")
            threading.Event().wait()
        else:
            _serve_socket_mode(qa_app, cfg, console)
    except KeyboardInterrupt:
        console.print("stopping…")
    finally:
        if server is not None:
            if serving is not None:
                server.shutdown()
            server.server_close()
        qa_app.close()
    return 0
