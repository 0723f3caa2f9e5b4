"""The Slack bot: a Bolt app that answers mentions, direct messages and `/ask`, in Socket Mode or over HTTP.

Every event is acknowledged at once and answered from a thread pool, so Slack never waits on the model
and concurrent questions are answered in parallel. Retried events are acknowledged without answering.

Calls to the Web API have a timeout and are retried a bounded number of times when Slack rate-limits
them (after its Retry-After), answers 500/503, or does not answer; a call that still fails is logged
as one line and the bot carries on. Log output never shows the tokens or the signing secret.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import threading
import urllib.error
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from http.client import RemoteDisconnected
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.context import BoltContext
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.web import SlackResponse
from slack_sdk.webhook import WebhookClient

from adapters import slack_blocks as sb
from qa.answering.answer import Answer
from qa.bot import Bot
from qa.config import Settings
from qa.errors import ConfigError, QAError

log = logging.getLogger("qa.slack")

DEFAULT_API_URL = "https://slack.com/api/"
EVENTS_PATH = "/slack/events"
MAX_BODY = 1 << 20  # Slack's payloads are far smaller
HISTORY_TURNS = 10  # turns remembered per thread
MAX_THREADS = 2000  # threads remembered
MAX_ANSWERS = 2000  # answers remembered for their buttons
MAX_SEEN = 10000  # event ids remembered against double delivery
API_TIMEOUT = 10  # seconds a Web API call may take before it counts as failed (and is retried)
API_RETRIES = 2  # retries of one call, whatever went wrong: at most 3 attempts
MAX_RETRY_AFTER = 10  # the longest Retry-After a worker sleeps; Slack asking for more means giving up
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
LOG_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR}

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SlackConnectionError(QAError):
    """Slack (or the configured SLACK_API_URL) cannot be reached or refused the credentials."""


class SlackUnreachable(SlackConnectionError):
    """A Web API call got no answer (after the retries): the connection failed or timed out."""

    def __init__(self, method: str, base_url: str, cause: BaseException, timeout: float | None) -> None:
        self.method = method
        if isinstance(cause, TimeoutError) or isinstance(getattr(cause, "reason", None), TimeoutError):
            self.reason = f"no answer within {timeout:g} s" if timeout else "timed out"
        else:
            self.reason = _one_line(getattr(cause, "reason", None) or cause)
        super().__init__(f"{method}: cannot reach the Slack API at {base_url}: {self.reason}")


# --------------------------------------------------------------------------- the Web API client


def _retry_after(response: HttpResponse | None) -> float | None:
    """The Retry-After of a 429, in seconds, or None when it is missing or not a number."""
    if response is None:
        return None
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return float(values[0])
            except (TypeError, ValueError):
                return None
    return None


class _BoundedRateLimitRetry(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, which sleeps the whole Retry-After: here only when that is short.

    A worker asleep for minutes would hold up the questions queued behind it; a missing or unreadable
    Retry-After is not retried either (the stock handler would fail on one that is not an integer).
    """

    def __init__(self, max_retry_count: int, max_wait: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        wait_s = _retry_after(response)
        return wait_s is not None and wait_s == int(wait_s) and 0 <= wait_s <= self.max_wait


def retry_handlers(retries: int = API_RETRIES, max_wait: float = MAX_RETRY_AFTER) -> list[RetryHandler]:
    """slack_sdk's retry handlers, as the bot's clients use them: at most `retries` retries per call.

    Retried: a 429 after its Retry-After (when that is at most `max_wait` s), a 500 or 503, and a
    connection that failed, was reset or timed out, these two with backoff (0.5 s, then 1 s, plus up
    to 1 s of jitter). The handlers share one count per call, so a call is tried 1 + `retries` times.
    A timed-out chat.postMessage that Slack did carry out is posted twice on retry: Slack offers no
    idempotency key, and a lost answer is worse than a repeated one.
    """
    return [
        _BoundedRateLimitRetry(retries, max_wait),
        ServerErrorRetryHandler(max_retry_count=retries),
        ConnectionErrorRetryHandler(max_retry_count=retries,
                                    error_types=[urllib.error.URLError, ConnectionResetError, RemoteDisconnected,
                                                 TimeoutError]),
    ]


class SlackClient(WebClient):
    """A WebClient whose network failures say which API method failed (for the one-line log)."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        """`WebClient.api_call`; a call that got no answer raises SlackUnreachable instead of an OSError."""
        try:
            return super().api_call(api_method, **kwargs)
        except (urllib.error.URLError, OSError) as exc:  # TimeoutError is an OSError
            raise SlackUnreachable(api_method, self.base_url, exc, self.timeout) from exc


def web_client(token: str, base_url: str = DEFAULT_API_URL, *, timeout: int = API_TIMEOUT,
               retries: int = API_RETRIES, max_wait: float = MAX_RETRY_AFTER) -> SlackClient:
    """The Web API client the bot uses: a timeout on every call and slack_sdk's retry handlers, bounded."""
    return SlackClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=retry_handlers(retries, max_wait),
                       logger=_api_logger())


def api_failure(exc: BaseException) -> str:
    """One line saying how a Web API call failed: the method and Slack's answer, never the request itself."""
    if isinstance(exc, SlackApiError):
        resp = exc.response
        method = str(getattr(resp, "api_url", "") or "").rstrip("/").rsplit("/", 1)[-1] or "the Slack API"
        status = int(getattr(resp, "status_code", 0) or 0)
        data = resp.data if isinstance(getattr(resp, "data", None), dict) else {}
        if status == 429:
            headers = {str(k).lower(): v for k, v in (getattr(resp, "headers", None) or {}).items()}
            after = headers.get("retry-after")
            return f"{method}: rate limited (HTTP 429" + (f", Retry-After {after} s)" if after else ")")
        if status != 200:
            return f"{method}: HTTP {status}"
        return f"{method}: {data.get('error') or 'not ok'}"
    if isinstance(exc, SlackUnreachable):
        return f"{exc.method}: {exc.reason}"
    return _one_line(exc)


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class SlackConfig:
    """The credentials and endpoint of one run, read from the environment."""

    bot_token: str
    app_token: str | None
    signing_secret: str | None
    api_url: str
    log_level: int = logging.WARNING


_TOKEN = re.compile(r"^[A-Za-z0-9-]+$")
_SECRET = re.compile(r"^[0-9a-fA-F]{16,}$")


def _token(env: Mapping[str, str], name: str, prefix: str, what: str, where: str) -> str:
    value = (env.get(name) or "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: export your Slack app's {what} ({prefix}…), from {where}")
    if not value.startswith(prefix) or len(value) <= len(prefix) or not _TOKEN.match(value):
        raise ConfigError(f"{name} is malformed: the {what} starts with {prefix} (from {where})")
    return value


def read_config(env: Mapping[str, str] | None = None, http: bool = False) -> SlackConfig:
    """The Slack settings from the environment, or ConfigError naming the variable that is missing or wrong."""
    env = os.environ if env is None else env
    bot_token = _token(env, "SLACK_BOT_TOKEN", "xoxb-", "Bot User OAuth Token", "OAuth & Permissions")
    app_token = secret = None
    if http:
        secret = (env.get("SLACK_SIGNING_SECRET") or "").strip()
        if not secret:
            raise ConfigError("SLACK_SIGNING_SECRET is not set: export your Slack app's Signing Secret, "
                              "from Basic Information > App Credentials (needed with --http)")
        if not _SECRET.match(secret):
            raise ConfigError("SLACK_SIGNING_SECRET is malformed: the Signing Secret is hexadecimal "
                              "(from Basic Information > App Credentials)")
    else:
        app_token = _token(env, "SLACK_APP_TOKEN", "xapp-", "App-Level Token",
                           "Basic Information > App-Level Tokens, with scope connections:write; or run with --http")
    api_url = (env.get("SLACK_API_URL") or "").strip() or DEFAULT_API_URL
    parts = urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"SLACK_API_URL is malformed: expected an http(s) URL such as {DEFAULT_API_URL}, got {api_url!r}")
    level = (env.get("QA_SLACK_LOG_LEVEL") or "").strip().upper() or "WARNING"
    if level not in LOG_LEVELS:
        raise ConfigError(f"QA_SLACK_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    return SlackConfig(bot_token, app_token, secret, api_url.rstrip("/") + "/", LOG_LEVELS[level])


# --------------------------------------------------------------------------- bounded memory


class LRU(Generic[K, V]):
    """A thread-safe mapping that forgets its least recently used entries beyond `size`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def pop(self, key: K) -> V | None:
        with self._lock:
            return self._data.pop(key, None)

    def update(self, key: K, default: Callable[[], V], change: Callable[[V], V]) -> V:
        """Atomically replace the value at `key` (or `default()`) by `change(value)`; returns the new value."""
        with self._lock:
            value = change(self._data[key] if key in self._data else default())
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)
            return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)


class Seen(LRU[Hashable, bool]):
    """The most recent keys seen (event ids, clicks), to act on each only once."""

    def add_new(self, *keys: Hashable) -> bool:
        """Remember `keys`; True only when none of them was seen before."""
        with self._lock:
            fresh = not any(k in self._data for k in keys)
            for k in keys:
                self._data[k] = True
                self._data.move_to_end(k)
            while len(self._data) > self.size:
                self._data.popitem(last=False)
            return fresh


Turn = tuple[str, str | None]


# --------------------------------------------------------------------------- the app


class SlackQA:
    """The Bolt app and what it remembers: thread histories, answers posted, events already seen."""

    def __init__(self, bot: Bot, client: WebClient, *, signing_secret: str | None = None,
                 token_verification: bool = True, workers: int = 4) -> None:
        self.bot = bot
        self.settings: Settings = bot.settings
        self.history: LRU[tuple[str, str | None], tuple[Turn, ...]] = LRU(MAX_THREADS)
        self.answers: LRU[str, Answer] = LRU(MAX_ANSWERS)  # answers posted, for their buttons
        self.seen = Seen(MAX_SEEN)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qa-slack")
        self._jobs: set[Future[None]] = set()
        self._jobs_lock = threading.Lock()
        self._feedback_lock = threading.Lock()
        try:
            self.app = App(
                client=client,
                signing_secret=signing_secret,
                request_verification_enabled=signing_secret is not None,
                # auth.test now rather than on the first event, so that no event waits on it or is lost to it
                token_verification_enabled=token_verification,
                logger=_bolt_logger(),
                name="qa",
            )
        except BoltError as exc:
            cause = exc.__context__  # Bolt raises BoltError while handling auth.test's SlackApiError
            if isinstance(cause, SlackApiError):
                raise SlackConnectionError(f"SLACK_BOT_TOKEN was rejected by Slack: {api_failure(cause)}") from None
            raise SlackConnectionError(f"Slack did not accept the bot: {_one_line(exc)}") from None
        except SlackUnreachable as exc:
            raise SlackConnectionError(f"cannot reach the Slack API at {client.base_url}: {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:  # a plain WebClient
            raise SlackConnectionError(f"cannot reach the Slack API at {client.base_url}: {_one_line(exc)}") from None
        self._register()

    # ----------------------------------------------------------------- plumbing

    def _register(self) -> None:
        app = self.app
        app.middleware(self._skip_retries)
        app.event("app_mention")(self._on_mention)
        app.event("message")(self._on_message)
        app.command(re.compile(r"^/"))(self._on_command)
        app.action(sb.ACTION_HELPFUL)(self._on_feedback)
        app.action(sb.ACTION_NOT_HELPFUL)(self._on_feedback)
        app.action(sb.ACTION_MORE)(self._on_more)
        app.action(sb.ACTION_SHARE)(self._on_share)

    def submit(self, fn: Callable[..., None], *args: Any, what: str = "answering") -> None:
        """Run `fn(*args)` in the pool, logging (not raising) what goes wrong; `what` names the job in the log."""

        def job() -> None:
            try:
                fn(*args)
            except (SlackApiError, SlackConnectionError) as exc:
                # Slack refused the call or never answered, after the client's retries: one line, and carry on
                log.error("%s failed: %s", what, api_failure(exc))
            except Exception:  # a bug: its traceback, but the bot stays up
                log.exception("%s failed", what)

        fut = self._pool.submit(job)
        with self._jobs_lock:
            self._jobs.add(fut)
        fut.add_done_callback(self._done)

    def _done(self, fut: Future[None]) -> None:
        with self._jobs_lock:
            self._jobs.discard(fut)

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every job submitted so far has finished; False if some are still running after `timeout`."""
        with self._jobs_lock:
            jobs = set(self._jobs)
        if not jobs:
            return True
        _, pending = wait(jobs, timeout=timeout)
        return not pending

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)

    @property
    def client(self) -> WebClient:
        return self.app.client

    @staticmethod
    def _skip_retries(req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        """Slack resends an event it thinks was missed; the first delivery is already being answered."""
        values = req.headers.get("x-slack-retry-num") or []
        try:
            attempt = int(values[0]) if values else 0
        except ValueError:
            attempt = 0
        # Socket Mode passes the first delivery as attempt 0
        if attempt > 0:
            return BoltResponse(status=200, body="")
        return next()

    def _from_a_bot(self, event: dict[str, Any], context: BoltContext) -> bool:
        return bool(event.get("bot_id") or event.get("bot_profile") or event.get("subtype") == "bot_message"
                    or (event.get("user") and event.get("user") == context.bot_user_id))

    def _first_delivery(self, body: dict[str, Any], event: dict[str, Any]) -> bool:
        keys: list[Hashable] = []
        if body.get("event_id"):
            keys.append(("event", body["event_id"]))
        if event.get("channel") and event.get("ts"):
            keys.append(("message", event["channel"], event["ts"]))
        return self.seen.add_new(*keys) if keys else True

    # ----------------------------------------------------------------- events

    def _on_mention(self, body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        if self._from_a_bot(event, context) or not self._first_delivery(body, event):
            return
        question = sb.clean_question(event.get("text", ""), context.bot_user_id)
        thread = event.get("thread_ts") or event["ts"]
        self.submit(self.answer_in_conversation, event["channel"], thread, event["ts"], question,
                    what=f"answering a mention in {event['channel']}")

    def _on_message(self, body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or self._from_a_bot(event, context):
            return
        if not self._first_delivery(body, event):
            return
        question = sb.clean_question(event.get("text", ""), context.bot_user_id)
        # a direct message is one conversation; a thread inside it is its own
        self.submit(self.answer_in_conversation, event["channel"], event.get("thread_ts"), event["ts"], question,
                    what=f"answering a direct message in {event['channel']}")

    def _on_command(self, ack: Callable[..., None], command: dict[str, Any]) -> None:
        question = sb.clean_question(command.get("text", ""))
        if not question:
            ack(text=f"Usage: {sb.escape(command.get('command') or '/ask')} QUESTION — {sb.escape(sb.HELP_TEXT)}")
            return
        ack()
        self.submit(self.answer_privately, command["channel_id"], command["user_id"], question,
                    command.get("response_url"), what=f"answering /ask in {command['channel_id']}")

    # ----------------------------------------------------------------- answering

    def _react(self, channel: str, ts: str) -> None:
        try:
            self.client.reactions_add(channel=channel, timestamp=ts, name="eyes")
        except (SlackApiError, SlackConnectionError) as exc:  # the reaction is a courtesy: answer anyway
            log.debug("no reaction: %s", api_failure(exc))

    def _respond(self, url: str, payload: dict[str, Any]) -> None:
        """POST `payload` to a response URL, with the Web API client's timeout and retries;
        SlackConnectionError when it cannot be delivered."""
        client = self.client
        host = urlsplit(url).netloc or "the response URL"  # the path is a credential of sorts: not logged
        try:
            resp = WebhookClient(url, timeout=client.timeout, retry_handlers=client.retry_handlers,
                                 logger=client.logger).send_dict(payload)
        except (urllib.error.URLError, OSError) as exc:
            cause = "no answer" if isinstance(exc, TimeoutError) else _one_line(getattr(exc, "reason", None) or exc)
            raise SlackConnectionError(f"response URL at {host}: {cause}") from None
        if resp.status_code != 200:
            raise SlackConnectionError(f"response URL at {host}: HTTP {resp.status_code}")

    def _remember(self, answer: Answer) -> str:
        answer_id = uuid.uuid4().hex[:16]
        self.answers.put(answer_id, answer)
        return answer_id

    def _ask(self, question: str, history: list[Turn] | None = None) -> Answer | str:
        """The answer, or what to tell the user instead (escaped mrkdwn) when there is none."""
        try:
            return self.bot.ask(question, history=history)
        except QAError as exc:
            return sb.escape(f"Sorry: {exc}")
        except Exception:
            log.exception("answering %r failed", question)
            return "Sorry, something went wrong while answering; the details are in the bot's log."

    def answer_in_conversation(self, channel: str, thread_ts: str | None, msg_ts: str, question: str) -> None:
        """Answer a mention or a direct message, in the context of its thread, in that thread."""
        self._react(channel, msg_ts)
        if not question:
            blocks, text = sb.notice(sb.escape(sb.HELP_TEXT))
            self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, blocks=blocks, text=text)
            return
        key = (channel, thread_ts)
        answer = self._ask(question, list(self.history.get(key) or ()))
        if isinstance(answer, str):
            blocks, text = sb.notice(answer)
            self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, blocks=blocks, text=text)
            return
        turn: Turn = (answer.asked_as or answer.question, answer.answer)
        self.history.update(key, lambda: (), lambda turns: (turns + (turn,))[-HISTORY_TURNS:])
        blocks, text = sb.answer_blocks(answer, self._remember(answer))
        self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, blocks=blocks, text=text,
                                     unfurl_links=False, unfurl_media=False)

    def _tell(self, channel: str, user: str, blocks: list[dict[str, Any]], text: str,
              thread_ts: str | None = None, response_url: str | None = None) -> None:
        """Show a message to one user: chat.postEphemeral, or the response URL where the bot cannot post."""
        try:
            self.client.chat_postEphemeral(channel=channel, user=user, blocks=blocks, text=text, thread_ts=thread_ts)
            return
        except SlackApiError as exc:
            if not response_url:
                raise
            log.info("%s; answering through the response URL", api_failure(exc))
        self._respond(response_url, {"text": text, "blocks": blocks, "response_type": "ephemeral",
                                     "replace_original": False})

    def answer_privately(self, channel: str, user: str, question: str, response_url: str | None) -> None:
        """Answer `/ask`: only the asker sees it, with a button to share it in the channel."""
        answer = self._ask(question)
        if isinstance(answer, str):
            blocks, text = sb.notice(answer)
            self._tell(channel, user, blocks, text, response_url=response_url)
            return
        header = "*/ask* " + sb.escape(question)
        blocks, text = sb.answer_blocks(answer, self._remember(answer), header=header, shareable=True)
        self._tell(channel, user, blocks, text, response_url=response_url)

    # ----------------------------------------------------------------- buttons

    @staticmethod
    def _where(body: dict[str, Any]) -> tuple[str, str, str | None, bool, str | None]:
        """(channel, user, thread_ts, ephemeral, response_url) of a button click."""
        container = body.get("container") or {}
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id") or ""
        thread = container.get("thread_ts") or message.get("thread_ts")
        return (channel, (body.get("user") or {}).get("id", ""), thread, bool(container.get("is_ephemeral")),
                body.get("response_url"))

    def _on_feedback(self, ack: Callable[..., None], body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        self.submit(self.record_feedback, body, action, what=f"recording feedback in {self._where(body)[0]}")

    def record_feedback(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Append the click to the feedback log (once per user and answer) and thank the user."""
        channel, user, thread, _, response_url = self._where(body)
        value = sb.parse_value(action.get("value", ""))
        answer_id = str(value.get("id", ""))
        answer = self.answers.get(answer_id)
        helpful = action.get("action_id") == sb.ACTION_HELPFUL
        if not self.seen.add_new(("feedback", answer_id, user)):
            blocks, text = sb.notice("You have already rated this answer; thank you.")
            self._tell(channel, user, blocks, text, thread, response_url)
            return
        try:
            self.write_feedback(sb.feedback_record(answer, value, helpful, user, channel))
        except OSError as exc:
            log.error("cannot write the feedback log %s: %s", self.settings.feedback_log, exc)
            blocks, text = sb.notice("Sorry, I could not record that; the details are in the bot's log.")
        else:
            blocks, text = sb.notice("Thanks, noted as " + ("helpful." if helpful else "not helpful."))
        self._tell(channel, user, blocks, text, thread, response_url)

    def write_feedback(self, record: dict[str, Any]) -> None:
        path = Path(self.settings.feedback_log)
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._feedback_lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as f:
                f.write(line)

    def _recall(self, body: dict[str, Any], action: dict[str, Any]) -> tuple[str, Answer | None]:
        """The answer a button belongs to; when it is no longer remembered, the clicker is told so."""
        answer_id = str(sb.parse_value(action.get("value", "")).get("id", ""))
        answer = self.answers.get(answer_id)
        if answer is None:
            channel, user, thread, _, response_url = self._where(body)
            blocks, text = sb.notice("I no longer remember that answer (I was restarted or it is old): please ask again.")
            self._tell(channel, user, blocks, text, thread, response_url)
        return answer_id, answer

    def _on_more(self, ack: Callable[..., None], body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        self.submit(self.post_more_sources, body, action, what=f"posting more sources in {self._where(body)[0]}")

    def post_more_sources(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Post the citations not shown under the answer, in its thread (or privately for a private answer)."""
        channel, user, thread, ephemeral, response_url = self._where(body)
        answer_id, answer = self._recall(body, action)
        if answer is None:
            return
        if ephemeral:
            for blocks, text in sb.more_sources_messages(answer):
                self._tell(channel, user, blocks, text, thread, response_url)
            return
        if not self.seen.add_new(("more", answer_id)):
            blocks, text = sb.notice("The other sources are already in the thread.")
            self._tell(channel, user, blocks, text, thread, response_url)
            return
        thread = thread or (body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts")
        for blocks, text in sb.more_sources_messages(answer):
            self.client.chat_postMessage(channel=channel, thread_ts=thread, blocks=blocks, text=text,
                                         unfurl_links=False, unfurl_media=False)

    def _on_share(self, ack: Callable[..., None], body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        self.submit(self.share_in_channel, body, action, what=f"sharing an answer in {self._where(body)[0]}")

    def share_in_channel(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Post a private `/ask` answer to the channel, for everyone, and remove the private copy."""
        channel, user, thread, _, response_url = self._where(body)
        answer_id, answer = self._recall(body, action)
        if answer is None:
            return
        if not self.seen.add_new(("share", answer_id)):
            return  # a second click while the first is being shared
        header = f"{sb.user_mention(user)} asked: " + sb.escape(answer.question)
        blocks, text = sb.answer_blocks(answer, self._remember(answer), header=header)
        try:
            self.client.chat_postMessage(channel=channel, blocks=blocks, text=text, unfurl_links=False, unfurl_media=False)
        except SlackApiError as exc:
            if exc.response.status_code != 200:
                raise  # Slack failed, not the channel: logged as such
            blocks, text = sb.notice(sb.escape(f"I cannot post in this channel ({exc.response.get('error')}): "
                                               "invite me to it first."))
            self._tell(channel, user, blocks, text, thread, response_url)
            return
        if response_url:
            try:
                self._respond(response_url, {"delete_original": True})
            except SlackConnectionError as exc:
                log.info("could not remove the private answer: %s", exc)


class _NoClientTokenWarning(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN in the environment is unused when a client is given: it is the client's."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("As you gave `client` as well")


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("slack_bolt.qa")
    if not any(isinstance(f, _NoClientTokenWarning) for f in logger.filters):
        logger.addFilter(_NoClientTokenWarning())
    return logger


class _OutcomeOnly(logging.Filter):
    """slack_sdk logs an error for each failed attempt of a call; the bot logs the call's outcome once instead."""

    NOISE = ("Failed to send a request to Slack API server", "Failed to decode Slack API response")

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno >= logging.WARNING and str(record.msg).startswith(self.NOISE))


def _api_logger() -> logging.Logger:
    logger = logging.getLogger("qa.slack.api")
    if not any(isinstance(f, _OutcomeOnly) for f in logger.filters):
        logger.addFilter(_OutcomeOnly())
    return logger


_TOKEN_LIKE = re.compile(r"\b(xox[a-z]|xapp)-[A-Za-z0-9-]+")


class RedactingFormatter(logging.Formatter):
    """A formatter that blanks the given secrets, and anything shaped like a Slack token, out of every line.

    The bot's own messages never hold them; this is for what libraries log, at DEBUG especially.
    """

    def __init__(self, secrets: Iterable[str], fmt: str = LOG_FORMAT) -> None:
        super().__init__(fmt)
        self.secrets = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """`text` with each secret replaced by [redacted]."""
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return _TOKEN_LIKE.sub(lambda m: m.group(1) + "-[redacted]", text)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


def configure_logging(cfg: SlackConfig) -> None:
    """How `qa slack` logs: to stderr, from `cfg.log_level` up (the bot's own INFO lines too), secrets redacted."""
    logging.basicConfig(level=cfg.log_level, format=LOG_FORMAT)
    secrets = [s for s in (cfg.bot_token, cfg.app_token, cfg.signing_secret) if s]
    for handler in logging.getLogger().handlers:
        handler.setFormatter(RedactingFormatter(secrets, LOG_FORMAT))
    log.setLevel(min(cfg.log_level, logging.INFO))
    # slack_sdk's notes on each retry are INFO: shown when asked for, not among the bot's own INFO lines
    _api_logger().setLevel(cfg.log_level)


def _one_line(exc: object) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# --------------------------------------------------------------------------- HTTP


class SlackHTTPServer(ThreadingHTTPServer):
    """Serves a Bolt app's Events API endpoint (events, slash commands and interactivity) over HTTP."""

    daemon_threads = True

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0, path: str = EVENTS_PATH) -> None:
        self.app = app
        self.path = path
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
        resp = self.server.app.dispatch(BoltRequest(body=body, query=query, headers=headers))
        self._send(resp.status, resp.headers, resp.body)

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


def serve_http(app: App, host: str = "127.0.0.1", port: int = 0) -> SlackHTTPServer:
    """A server bound to (host, port), not yet serving: call `serve_forever()` (in a thread for tests)."""
    try:
        return SlackHTTPServer(app, host, port)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------- entry point


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
        raise SlackConnectionError(f"cannot reach the Slack API at {cfg.api_url}: {_one_line(exc)}") from None
    console.print("Connected to Slack in Socket Mode; Ctrl+C to stop")
    try:
        threading.Event().wait()
    finally:
        handler.close()


def run_slack(settings: Settings, http: bool = False, port: int = 3000, env: Mapping[str, str] | None = None) -> int:
    """`qa slack`: check the credentials, load the index, then serve until interrupted; returns the exit code."""
    from rich.console import Console

    from adapters.cli import load_bot

    cfg = read_config(env, http=http)
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, got {port}")
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    configure_logging(cfg)
    bot = Bot(settings)
    bot.check_index()  # a missing, damaged or mismatched index fails now, not at the first question
    # the credentials and the port are checked before the slow part: loading the model and the index
    qa_app = SlackQA(bot, web_client(cfg.bot_token, cfg.api_url), signing_secret=cfg.signing_secret)
    server = serve_http(qa_app.app, "0.0.0.0", port) if http else None
    try:
        load_bot(bot, console)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _interrupt)
        if server is not None:
            console.print(f"Answering Slack at http://0.0.0.0:{server.port}{EVENTS_PATH} (the Request URL for "
                          "events, slash commands and interactivity); Ctrl+C to stop")
            server.serve_forever(poll_interval=0.2)
        else:
            _serve_socket_mode(qa_app, cfg, console)
    except KeyboardInterrupt:
        console.print("stopping…")
    finally:
        if server is not None:
            server.server_close()
        qa_app.close()
    return 0
