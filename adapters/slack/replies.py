"""Posting an answer exactly once. Slack has no idempotency key, so each answer carries the event id in its
message metadata; when a post times out or fails on Slack's side, the thread is searched for a message with
that id before the answer is posted again."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.slack.webapi import API_RETRIES, SlackConnectionError, SlackUnreachable, api_failure

log = logging.getLogger("qa.slack")
EVENT_TYPE = "qa_answer"  # the metadata type of the bot's answers


def metadata_for(event_id: str) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE, "event_payload": {"event_id": event_id}}


def _carries(message: dict[str, Any], event_id: str) -> bool:
    meta = message.get("metadata") or {}
    return meta.get("event_type") == EVENT_TYPE and (meta.get("event_payload") or {}).get("event_id") == event_id


def already_posted(client: WebClient, channel: str, thread_ts: str | None, after_ts: str, event_id: str) -> bool:
    """Whether the thread (or, outside a thread, the channel since `after_ts`) holds the answer to `event_id`."""
    if thread_ts:
        found = client.conversations_replies(channel=channel, ts=thread_ts, include_all_metadata=True, limit=200)
    else:
        found = client.conversations_history(channel=channel, oldest=after_ts, include_all_metadata=True,
                                             inclusive=False, limit=100)
    return any(_carries(m, event_id) for m in found.get("messages") or [])


def post_once(poster: WebClient, checker: WebClient, event_id: str, *, channel: str, thread_ts: str | None,
              after_ts: str, retries: int = API_RETRIES, **message: Any) -> None:
    """chat.postMessage, tagged with `event_id`, retried only when the thread shows it was not posted.

    `poster` must not retry a timed-out post by itself (that is what would post it twice); `checker`
    makes the lookups. When a lookup fails too, the answer is posted again: a lost answer is worse.
    """
    for attempt in range(retries + 1):
        try:
            poster.chat_postMessage(channel=channel, thread_ts=thread_ts, metadata=metadata_for(event_id), **message)
            return
        except (SlackUnreachable, SlackApiError) as exc:
            if isinstance(exc, SlackApiError) and int(getattr(exc.response, "status_code", 0) or 0) < 500:
                raise  # Slack answered and refused: posting again would not help
            if attempt == retries:
                raise
            try:
                if already_posted(checker, channel, thread_ts, after_ts, event_id):
                    log.info("chat.postMessage got no answer but the reply is in the thread: not posted again")
                    return
            except (SlackApiError, SlackConnectionError) as lookup:
                log.info("cannot look for the reply (%s): posting again", api_failure(lookup))
