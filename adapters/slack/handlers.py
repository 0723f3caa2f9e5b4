"""The Bolt app: mentions, direct messages, `/ask` and the buttons, each acknowledged at once and answered
from a thread pool, so Slack never waits on the model; retried events are acknowledged without answering."""

from __future__ import annotations

import json
import logging
import re
import threading
import urllib.error
import uuid
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.context import BoltContext
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from adapters.common.conversation import Turn, kept, remember
from adapters.slack import blocks as sb
from adapters.slack.claims import Claims
from adapters.slack.config import Access
from adapters.slack.logs import _bolt_logger
from adapters.slack.memory import LRU, MAX_ANSWERS, MAX_SEEN, MAX_THREADS, Seen
from adapters.slack.replies import post_once
from adapters.slack.webapi import SlackConnectionError, SlackUnreachable, api_failure, one_line, posting_client
from qa.answering.answer import Answer
from qa.bot import Bot
from qa.config import Settings
from qa.errors import QAError

log = logging.getLogger("qa.slack")
NOT_ENABLED = "I am not enabled here. Ask the people who run me where I answer."


def _already_set() -> threading.Event:
    done = threading.Event()
    done.set()
    return done


def question_key(channel: str, ts: str) -> str:
    """What identifies a question across its events and redeliveries: its message."""
    return f"message:{channel}:{ts}"


class SlackQA:
    """The Bolt app and what it remembers: thread histories, answers posted, events already seen."""

    def __init__(self, bot: Bot, client: WebClient, *, signing_secret: str | None = None,
                 token_verification: bool = True, workers: int = 4, claims: Claims | None = None,
                 access: Access | None = None, loaded: threading.Event | None = None) -> None:
        self.bot = bot
        # set once the model and the index are loaded: events are acknowledged before, and answered after
        self.loaded = loaded if loaded is not None else _already_set()
        self.load_failed = False
        self.claims = claims  # shared with the other replicas: the first to claim an event answers it
        self.access = access or Access()
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
            raise SlackConnectionError(f"Slack did not accept the bot: {one_line(exc)}") from None
        except SlackUnreachable as exc:
            raise SlackConnectionError(f"cannot reach the Slack API at {client.base_url}: {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:  # a plain WebClient
            raise SlackConnectionError(f"cannot reach the Slack API at {client.base_url}: {one_line(exc)}") from None
        self.poster = posting_client(client)
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
        app.event(re.compile(".*"))(self._on_other_event)  # after the rest: any event nobody else handles
        app.error(self._on_error)

    @staticmethod
    def _on_error(error: Exception, response: BoltResponse) -> None:
        """A signed request that Bolt's own middleware or matchers could not read (a field of a type Slack never
        sends): acknowledged, so Slack does not resend it, and one log line; the traceback only at DEBUG."""
        log.warning("ignored a request that could not be read (%s: %s)", type(error).__name__, one_line(error))
        log.debug("the failure in full", exc_info=error)
        response.status, response.body = 200, ""

    @staticmethod
    def _on_other_event(event: dict[str, Any]) -> None:
        """An event type the bot does not answer (Bolt would log a many-line suggestion): one debug line."""
        log.debug("ignored a %r event", event.get("type") if isinstance(event, dict) else type(event).__name__)

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

    def _skip_retries(self, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        """Slack resends an event it thinks was missed. With claims, the redelivery is handled like the first
        one and answered only if nobody claimed the event (the first delivery may have reached a replica
        that died); without them, the first delivery is taken to be answered already."""
        if self.claims is not None:
            return next()
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

    def _first_delivery(self, body: dict[str, Any], event: dict[str, Any]) -> str | None:
        """The key of this question (its message) when this process is the first to see it, else None.

        A message can come as several events (a mention in a DM is also a message) and each event can be
        delivered several times; the message is the unit answered once, claimed in `claims` when shared."""
        keys: list[Hashable] = []
        if body.get("event_id"):
            keys.append(("event", body["event_id"]))
        keys.append(("message", event["channel"], event["ts"]))
        if not self.seen.add_new(*keys):
            return None
        key = question_key(event["channel"], event["ts"])
        if self.claims is not None:
            try:
                if not self.claims.claim(key):
                    return None
            except QAError as exc:  # the shared claims are down: answer rather than lose the question
                log.error("cannot claim %s (%s): answering anyway", key, exc)
        return key

    def _malformed(self, event: dict[str, Any], what: str) -> bool:
        """True (and one log line) for an event this bot cannot answer: no channel, user or timestamp, or
        fields of the wrong type."""
        problems = [name for name in ("channel", "user", "ts") if not isinstance(event.get(name), str) or not event[name]]
        if not isinstance(event.get("text", ""), str):
            problems.append("text")
        if event.get("thread_ts") is not None and not isinstance(event.get("thread_ts"), str):
            problems.append("thread_ts")
        if problems:
            log.warning("ignored a malformed %s event (bad or missing %s)", what, ", ".join(problems))
        return bool(problems)

    def _refuse(self, channel: str, user: str, thread_ts: str | None) -> None:
        """Tell the asker, once and privately, that the bot does not answer here; no article text is sent."""
        log.info("not enabled in %s for %s: refused", channel, user)
        blocks, text = sb.notice(NOT_ENABLED)
        self.client.chat_postEphemeral(channel=channel, user=user, blocks=blocks, text=text, thread_ts=thread_ts)

    # ----------------------------------------------------------------- events

    def _on_mention(self, body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        if self._from_a_bot(event, context) or self._malformed(event, "app_mention"):
            return
        key = self._first_delivery(body, event)
        if key is None:
            return
        thread = event.get("thread_ts") or event["ts"]
        direct = event.get("channel_type") == "im" or event["channel"].startswith("D")
        if not self.access.allows(event["channel"], event["user"], direct):
            self.submit(self._refuse, event["channel"], event["user"], thread,
                        what=f"refusing a mention in {event['channel']}")
            return
        question = sb.clean_question(event.get("text", ""), context.bot_user_id)
        self.submit(self.answer_in_conversation, event["channel"], thread, event["ts"], question, key,
                    what=f"answering a mention in {event['channel']}")

    def _on_message(self, body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or self._from_a_bot(event, context):
            return
        if self._malformed(event, "message"):
            return
        key = self._first_delivery(body, event)
        if key is None:
            return
        if not self.access.allows(event["channel"], event["user"], True):
            self.submit(self._refuse, event["channel"], event["user"], event.get("thread_ts"),
                        what=f"refusing a direct message in {event['channel']}")
            return
        question = sb.clean_question(event.get("text", ""), context.bot_user_id)
        # a direct message is one conversation; a thread inside it is its own
        self.submit(self.answer_in_conversation, event["channel"], event.get("thread_ts"), event["ts"], question,
                    key, what=f"answering a direct message in {event['channel']}")

    def _on_command(self, ack: Callable[..., None], command: dict[str, Any]) -> None:
        channel, user = command.get("channel_id"), command.get("user_id")
        if not isinstance(channel, str) or not isinstance(user, str) or not channel or not user:
            log.warning("ignored a malformed slash command (bad or missing channel_id or user_id)")
            ack()
            return
        if not self.access.allows(channel, user, channel.startswith("D")):
            log.info("not enabled in %s for %s: refused /ask", channel, user)
            ack(text=NOT_ENABLED)
            return
        text = command.get("text")
        question = sb.clean_question(text if isinstance(text, str) else "")
        if not question:
            ack(text=f"Usage: {sb.escape(command.get('command') or '/ask')} QUESTION — {sb.escape(sb.HELP_TEXT)}")
            return
        ack()
        url = command.get("response_url")
        self.submit(self.answer_privately, channel, user, question, url if isinstance(url, str) else None,
                    what=f"answering /ask in {channel}")

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
            cause = "no answer" if isinstance(exc, TimeoutError) else one_line(getattr(exc, "reason", None) or exc)
            raise SlackConnectionError(f"response URL at {host}: {cause}") from None
        if resp.status_code != 200:
            raise SlackConnectionError(f"response URL at {host}: HTTP {resp.status_code}")

    def _remember(self, answer: Answer) -> str:
        answer_id = uuid.uuid4().hex[:16]
        self.answers.put(answer_id, answer)
        return answer_id

    def _ask(self, question: str, history: list[Turn] | None = None) -> Answer | str:
        """The answer, or what to tell the user instead (escaped mrkdwn) when there is none. A question that
        arrived while the bot was starting waits here until its model and index are loaded."""
        self.loaded.wait()
        if self.load_failed:
            return "Sorry, I could not start; the details are in the bot's log."
        try:
            return self.bot.ask(question, history=history)
        except QAError as exc:
            return sb.escape(f"Sorry: {exc}")
        except Exception:
            log.exception("answering %r failed", question)
            return "Sorry, something went wrong while answering; the details are in the bot's log."

    def answer_in_conversation(self, channel: str, thread_ts: str | None, msg_ts: str, question: str,
                               event_key: str | None = None) -> None:
        """Answer a mention or a direct message, in the context of its thread, in that thread, once: the reply
        carries `event_key` (the question's message) in its metadata (see `adapters.slack.replies`)."""
        self._react(channel, msg_ts)
        event_key = event_key or question_key(channel, msg_ts)

        def post(blocks: list[dict[str, Any]], text: str, **extra: Any) -> None:
            post_once(self.poster, self.client, event_key, channel=channel, thread_ts=thread_ts, after_ts=msg_ts,
                      blocks=blocks, text=text, **extra)

        if not question:
            post(*sb.notice(sb.escape(sb.HELP_TEXT)))
            return
        key = (channel, thread_ts)
        answer = self._ask(question, kept(self.history.get(key) or ()))
        if isinstance(answer, str):
            post(*sb.notice(answer))
            return
        self.history.update(key, lambda: (), lambda turns: tuple(remember(turns, answer)))
        blocks, text = sb.answer_blocks(answer, self._remember(answer))
        post(blocks, text, unfurl_links=False, unfurl_media=False)

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
