"""The Slack bot when the Web API misbehaves: rate limits, server errors and calls that get no answer.

The real Bolt app is served over loopback HTTP and answers signed events from the real index; the
recording Slack API server of the tests answers its calls, with faults scripted per method. The client's
timeout is 1 s and Slack's Retry-After 1 s, so that every retry here happens within seconds.
"""

from __future__ import annotations

import logging
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.slack.handlers import SlackQA
from adapters.slack.logs import RedactingFormatter
from adapters.slack.webapi import API_RETRIES, SlackConnectionError, web_client
from qa.bot import Bot
from qa.config import resolve
from qa.embedding import SentenceTransformerEmbedder
from tests.support.slack_fake.signer import Slack
from tests.support.slack_fake.webapi import Call, SlackAPIServer
from tests.support.slack_harness import serving

SECRET = "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f7"
BOT_TOKEN = "xoxb-4242-faults-Zq9TOKENzq9"
APP_TOKEN = "xapp-1-A0APP-7777-Yy8APPTOKEN"
SECRETS = (BOT_TOKEN, SECRET, APP_TOKEN)
HAITI = "How much did the Biden administration pledge to the Haiti mission?"
TIMEOUT = 1  # the client's timeout, in seconds


@pytest.fixture(scope="module")
def api() -> Iterator[SlackAPIServer]:
    with SlackAPIServer() as server:
        yield server


@pytest.fixture(scope="module")
def served(api: SlackAPIServer, seeds_index: Path, embedder: SentenceTransformerEmbedder,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SlackQA, Slack]]:
    log = tmp_path_factory.mktemp("state") / "feedback.jsonl"
    bot = Bot(resolve(index=seeds_index, k=5).with_(feedback_log=log), embedder=embedder)
    bot.load()
    with serving(bot, web_client(BOT_TOKEN, api.url, timeout=TIMEOUT), SECRET) as served_app:
        yield served_app


@pytest.fixture
def qa_app(served: tuple[SlackQA, Slack]) -> SlackQA:
    return served[0]


@pytest.fixture
def slack(served: tuple[SlackQA, Slack], api: SlackAPIServer, caplog: pytest.LogCaptureFixture) -> Iterator[Slack]:
    api.reset()
    caplog.set_level(logging.DEBUG)  # everything any library logs, for the secrets checks
    yield served[1]
    assert served[0].drain(30), "jobs still running 30 s after the test"


def in_channel(channel: str) -> Callable[[Call], bool]:
    return lambda c: c.params.get("channel") == channel


def problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The records an operator sees with the default log level."""
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def assert_no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


# --------------------------------------------------------------------------- retried, then answered once


@pytest.mark.parametrize(("fault", "times"), [("429", 1), ("500", 2), ("timeout", 1)])
def test_a_reply_lands_exactly_once_after_faults(slack: Slack, qa_app: SlackQA, api: SlackAPIServer,
                                                 caplog: pytest.LogCaptureFixture, fault: str, times: int) -> None:
    if fault == "429":
        api.fail("chat.postMessage", times, status=429, retry_after=1)
    elif fault == "500":
        api.fail("chat.postMessage", times, status=500)
    else:
        api.stall("chat.postMessage", times, seconds=TIMEOUT + 1.5)
    channel = f"CR{fault}"
    ts, (status, _, took) = slack.mention(HAITI, channel=channel)
    assert status == 200 and took < 1.5  # the acknowledgement does not wait for the retries
    [reply] = api.wait_for("chat.postMessage", in_channel(channel), timeout=20)
    assert reply.params["thread_ts"] == ts and "38.5 billion" in reply.params["text"]
    assert qa_app.drain(20)
    tries = api.attempts("chat.postMessage", in_channel(channel))
    assert [c.carried_out for c in tries] == [False] * times + [True]
    if fault == "429":
        assert tries[1].at - tries[0].at >= 1.0  # Slack's Retry-After was waited out
    assert problems(caplog) == []
    assert_no_secrets(caplog.text)


def test_a_failed_reaction_does_not_hold_back_the_answer(slack: Slack, qa_app: SlackQA, api: SlackAPIServer,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    api.fail("reactions.add", API_RETRIES + 1, status=500)
    slack.mention(HAITI, channel="CRX")
    [reply] = api.wait_for("chat.postMessage", in_channel("CRX"), timeout=20)
    assert "38.5 billion" in reply.params["text"]
    assert len(api.attempts("reactions.add", in_channel("CRX"))) == API_RETRIES + 1
    assert problems(caplog) == []  # a missing :eyes: is not worth an operator's attention


def test_ask_falls_back_to_the_response_url_when_ephemeral_messages_keep_failing(
        slack: Slack, qa_app: SlackQA, api: SlackAPIServer, caplog: pytest.LogCaptureFixture) -> None:
    api.fail("chat.postEphemeral", API_RETRIES + 1, status=503)
    status, _, _ = slack.command(HAITI, api.response_url("fallback"), channel="CRE")
    assert status == 200
    [reply] = api.wait_for("response_url", lambda c: c.path.endswith("/fallback"), timeout=20)
    assert "38.5 billion" in reply.params["text"] and reply.params["response_type"] == "ephemeral"
    assert qa_app.drain(20)
    assert len(api.attempts("chat.postEphemeral", in_channel("CRE"))) == API_RETRIES + 1
    assert len(api.calls_to("response_url")) == 1
    assert problems(caplog) == []


# --------------------------------------------------------------------------- given up: one line, and carry on


@pytest.mark.parametrize(("fault", "attempts", "logged"), [
    ("429", API_RETRIES + 1, "chat.postMessage: rate limited (HTTP 429, Retry-After 1 s)"),
    ("429-long", 1, "chat.postMessage: rate limited (HTTP 429, Retry-After 120 s)"),
    ("500", API_RETRIES + 1, "chat.postMessage: HTTP 500"),
    ("timeout", API_RETRIES + 1, f"chat.postMessage: no answer within {TIMEOUT} s"),
])
def test_a_call_that_keeps_failing_is_logged_once_and_the_bot_answers_the_next_event(
        slack: Slack, qa_app: SlackQA, api: SlackAPIServer, caplog: pytest.LogCaptureFixture,
        capfd: pytest.CaptureFixture[str], fault: str, attempts: int, logged: str) -> None:
    if fault == "429":
        api.fail("chat.postMessage", attempts, status=429, retry_after=1)
    elif fault == "429-long":  # longer than a worker may sleep: not retried at all
        api.fail("chat.postMessage", attempts, status=429, retry_after=120)
    elif fault == "500":
        api.fail("chat.postMessage", attempts, status=500)
    else:
        api.stall("chat.postMessage", attempts, seconds=TIMEOUT + 0.5)
    channel = f"CG{fault}"
    _, (status, _, _) = slack.mention(HAITI, channel=channel)
    assert status == 200
    deadline = time.monotonic() + 20
    while len(api.attempts("chat.postMessage", in_channel(channel))) < attempts and time.monotonic() < deadline:
        time.sleep(0.05)
    assert qa_app.drain(20)
    tries = api.attempts("chat.postMessage", in_channel(channel))
    assert len(tries) == attempts and not any(c.carried_out for c in tries)

    [line] = problems(caplog)
    assert (line.name, line.levelname) == ("qa.slack", "ERROR")
    assert line.getMessage() == f"answering a mention in {channel} failed: {logged}"
    assert line.exc_info is None and "Traceback" not in caplog.text
    out, err = capfd.readouterr()
    assert "Traceback" not in err
    assert_no_secrets(caplog.text, out, err)

    # the bot is still up: the next question is answered, once
    slack.mention(HAITI, channel=channel + "-next")
    [reply] = api.wait_for("chat.postMessage", in_channel(channel + "-next"), timeout=20)
    assert "38.5 billion" in reply.params["text"]
    assert qa_app.drain(20)
    assert len(api.attempts("chat.postMessage", in_channel(channel + "-next"))) == 1


# --------------------------------------------------------------------------- secrets


def test_no_error_path_shows_a_token_or_the_signing_secret(slack: Slack, qa_app: SlackQA, api: SlackAPIServer,
                                                           caplog: pytest.LogCaptureFixture,
                                                           capfd: pytest.CaptureFixture[str]) -> None:
    # Slack refusing the token for a call, a server error, a reply nobody can post
    api.errors["chat.postMessage"] = "invalid_auth"
    slack.mention(HAITI, channel="CS1")
    api.wait_for("chat.postMessage", in_channel("CS1"))
    assert qa_app.drain(20)
    api.errors.clear()
    api.fail("chat.postEphemeral", API_RETRIES + 1, status=500)
    slack.command(HAITI, "http://127.0.0.1:9/closed-port", channel="CS2")  # the fallback cannot connect
    assert qa_app.drain(20)
    # a malformed event: a mention without a channel
    assert slack.event({"type": "app_mention", "user": "U0ANN", "text": "<@U0BOT> hi", "ts": "1712000000.1"})[0] == 200
    # forged and stale requests
    forged = Slack(slack.url, "00112233445566778899aabbccddeeff")
    assert forged.mention(HAITI, channel="CS3")[1][0] == 401
    assert slack.mention(HAITI, channel="CS3", timestamp=int(time.time()) - 600)[1][0] == 401
    assert qa_app.drain(20)
    # a token Slack rejects, and an API nobody answers, when the bot starts
    api.errors["auth.test"] = "invalid_auth"
    with pytest.raises(SlackConnectionError) as rejected:
        SlackQA(qa_app.bot, web_client(BOT_TOKEN, api.url, timeout=TIMEOUT), signing_secret=SECRET)
    assert str(rejected.value) == "SLACK_BOT_TOKEN was rejected by Slack: auth.test: invalid_auth"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/api/"
    with pytest.raises(SlackConnectionError) as unreachable:
        SlackQA(qa_app.bot, web_client(BOT_TOKEN, closed, timeout=TIMEOUT, retries=0), signing_secret=SECRET)
    assert str(unreachable.value).startswith(f"cannot reach the Slack API at {closed}: ")

    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("chat.postMessage: invalid_auth" in r.getMessage() for r in records)
    assert any(r.getMessage() == "ignored a malformed app_mention event (bad or missing channel)" for r in records)
    assert not any("Failed to run listener function" in r.getMessage() for r in records)  # no traceback
    assert any(r.levelno == logging.DEBUG and "(redacted)" in r.getMessage() for r in caplog.records)
    out, err = capfd.readouterr()
    assert_no_secrets(caplog.text, out, err, str(rejected.value), str(unreachable.value))


def test_the_log_formatter_blanks_secrets_out_of_messages_and_tracebacks() -> None:
    formatter = RedactingFormatter([BOT_TOKEN, SECRET, ""])
    try:
        raise RuntimeError(f"signing with {SECRET}")
    except RuntimeError:
        record = logging.LogRecord("slack_sdk", logging.DEBUG, __file__, 1, "headers: %s, other: %s",
                                   ({"Authorization": f"Bearer {BOT_TOKEN}"}, "xoxp-1-2-someone-elses"),
                                   sys.exc_info())
    text = formatter.format(record)
    assert_no_secrets(text)
    assert "Bearer [redacted]" in text and "xoxp-[redacted]" in text
    assert "RuntimeError: signing with [redacted]" in text
