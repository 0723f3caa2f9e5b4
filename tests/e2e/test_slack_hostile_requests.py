"""The Slack endpoint under hostile or broken clients, over loopback HTTP with the real Bolt app: malformed
timestamp headers are refused with 401 before anything else; payloads that are not well-formed events are
acknowledged or refused in one log line, never a 500; silent clients are cut off by the read timeout, so they
cannot hold the server's threads; clients that hang up are not errors. Real questions keep being answered."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.slack import http as slack_http
from adapters.slack.handlers import SlackQA
from adapters.slack.webapi import web_client
from qa.bot import Bot
from qa.config import resolve
from qa.index.local import ingest_paths
from tests.support.paths import SEEDS
from tests.support.slack_fake.signer import Slack
from tests.support.slack_fake.webapi import SlackAPIServer
from tests.support.slack_harness import serving
from tests.support.tiny_embedder import TinyEmbedder

pytestmark = pytest.mark.e2e
SECRET = "7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SlackQA, Slack, SlackAPIServer]]:
    index = tmp_path_factory.mktemp("slack") / "idx"
    ingest_paths([SEEDS], index, TinyEmbedder())
    bot = Bot(resolve(index=index, reader="none"), embedder=TinyEmbedder())
    with SlackAPIServer() as api, serving(bot, web_client("xoxb-1-hostile", api.url), SECRET) as (app, slack):
        yield app, slack, api


@pytest.fixture
def slack(served: tuple[SlackQA, Slack, SlackAPIServer], caplog: pytest.LogCaptureFixture) -> Slack:
    caplog.set_level(logging.DEBUG)
    served[2].reset()
    return served[1]


def port(slack: Slack) -> int:
    return int(slack.url.split(":")[2].split("/")[0])


def assert_quiet(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    """No traceback anywhere: neither in a log record nor on stderr (where socketserver prints its own)."""
    assert not [r for r in caplog.records if r.exc_info and r.levelno > logging.DEBUG]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("timestamp", ["abc", "1e3", "", " 17", "-5", "9" * 40])
def test_a_malformed_timestamp_header_is_refused_with_401(
        slack: Slack, timestamp: str, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    body = slack.envelope(slack.mention_event("How much was pledged?"))
    status, _, _ = slack.post(body, "application/json", headers={"X-Slack-Request-Timestamp": timestamp})
    assert status == 401
    assert_quiet(caplog, capfd)


@pytest.mark.parametrize("payload", [{"event": None}, {"event": []}, {"event": "x"}, {"event": {"type": 5}},
                                     {"type": "event_callback"}, {"type": "block_actions", "event": None},
                                     {"type": "url_verification", "event": [1]}])
def test_a_signed_payload_that_is_not_a_well_formed_event_is_acknowledged_in_one_log_line(
        slack: Slack, payload: dict, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    body = json.dumps({"type": "event_callback", "team_id": "T0TEAM", "event_id": "Ev0BAD", **payload})
    status, _, _ = slack.post(body, "application/json")
    assert status == 200
    said = [r.getMessage() for r in caplog.records if r.name == "qa.slack" and r.levelno >= logging.WARNING]
    assert len(said) == 1 and said[0].startswith("ignored a malformed request") and "\n" not in said[0]
    assert_quiet(caplog, capfd)


_LEAF = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
_VALUE = st.recursive(_LEAF, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["type", "channel", "user", "ts", "text", "thread_ts", "bot_id", "subtype", "channel_type"]),
    inner, max_size=4), max_leaves=8)
_PAYLOADS = st.dictionaries(st.sampled_from(["type", "event", "event_id", "team_id", "authorizations", "command",
                                             "channel_id", "user_id", "text", "actions", "user", "channel"]),
                            _VALUE, max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(payload=_PAYLOADS, form=st.booleans())
def test_no_signed_payload_gets_a_500_or_a_traceback(
        served: tuple[SlackQA, Slack, SlackAPIServer], payload: dict, form: bool) -> None:
    slack = served[1]
    if form:  # slash commands and button clicks come form-encoded, the clicks as a JSON `payload` field
        from urllib.parse import urlencode

        status, _, _ = slack.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
    else:
        status, _, _ = slack.post(json.dumps(payload), "application/json")
    assert status < 500


def test_silent_clients_are_cut_off_and_hang_ups_are_not_errors(
        served: tuple[SlackQA, Slack, SlackAPIServer], slack: Slack, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(slack_http._Handler, "timeout", 0.5)
    before = threading.active_count()
    silent = []
    for i in range(30):  # half a request each, then nothing: each holds a server thread until the timeout
        s = socket.create_connection(("127.0.0.1", port(slack)))
        s.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n" + (b"Content-Length: 500\r\n\r\n{" if i % 2 else b""))
        silent.append(s)
    deadline = time.monotonic() + 10
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert threading.active_count() <= before, "silent clients still hold threads"
    for s in silent:
        s.close()
    body = slack.envelope(slack.mention_event("x"))
    for _ in range(20):  # a whole request, then gone before the answer
        s = socket.create_connection(("127.0.0.1", port(slack)))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # reset on close
        s.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body.encode()[:-5])
        s.close()
    ts, (status, _, _) = slack.mention("How much did the Biden administration pledge to the Haiti mission?")
    assert status == 200
    served[2].wait_for("chat.postMessage", lambda c: c.params.get("thread_ts") == ts, timeout=20)
    assert_quiet(caplog, capfd)
