"""The Slack Web API client: a timeout on every call, bounded retries (slack_sdk's retry handlers) after
a rate limit, a 500/503 or a dropped connection, and one-line descriptions of what failed."""

from __future__ import annotations

import logging
import urllib.error
from http.client import RemoteDisconnected
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.web import SlackResponse

from qa.errors import QAError

DEFAULT_API_URL = "https://slack.com/api/"
API_TIMEOUT = 10  # seconds a Web API call may take before it counts as failed (and is retried)
API_RETRIES = 2  # retries of one call, whatever went wrong: at most 3 attempts
MAX_RETRY_AFTER = 10  # the longest Retry-After a worker sleeps; Slack asking for more means giving up

class SlackConnectionError(QAError):
    """Slack (or the configured SLACK_API_URL) cannot be reached or refused the credentials."""


class SlackUnreachable(SlackConnectionError):
    """A Web API call got no answer (after the retries): the connection failed or timed out."""

    def __init__(self, method: str, base_url: str, cause: BaseException, timeout: float | None) -> None:
        self.method = method
        if isinstance(cause, TimeoutError) or isinstance(getattr(cause, "reason", None), TimeoutError):
            self.reason = f"no answer within {timeout:g} s" if timeout else "timed out"
        else:
            self.reason = one_line(getattr(cause, "reason", None) or cause)
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
    Answers are not posted through these (a timed-out post may have been carried out): see
    `posting_client` and `adapters.slack.replies.post_once`.
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
                       logger=api_logger())


def posting_client(client: WebClient) -> SlackClient:
    """A client like `client` whose only retry is after a short rate limit: a post that timed out or failed
    on Slack's side may have been carried out, so whether to post again is decided by looking (post_once)."""
    keep: list[RetryHandler] = [h for h in client.retry_handlers if isinstance(h, RateLimitErrorRetryHandler)]
    return SlackClient(token=client.token, base_url=client.base_url, timeout=client.timeout, retry_handlers=keep,
                       logger=client.logger)


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
    return one_line(exc)


class _OutcomeOnly(logging.Filter):
    """slack_sdk logs an error for each failed attempt of a call; the bot logs the call's outcome once instead."""

    NOISE = ("Failed to send a request to Slack API server", "Failed to decode Slack API response")

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno >= logging.WARNING and str(record.msg).startswith(self.NOISE))


def api_logger() -> logging.Logger:
    logger = logging.getLogger("qa.slack.api")
    if not any(isinstance(f, _OutcomeOnly) for f in logger.filters):
        logger.addFilter(_OutcomeOnly())
    return logger


def one_line(exc: object) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
