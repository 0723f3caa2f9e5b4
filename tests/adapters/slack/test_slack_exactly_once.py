"""Nothing twice, nothing lost, nothing where it is not wanted: a post that timed out after Slack carried it out
is not repeated, replicas share their claims, malformed events are dropped in one log line, and the bot
answers only where it is enabled."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.slack.claims import SqliteClaims
from adapters.slack.config import Access, read_access
from adapters.slack.handlers import NOT_ENABLED, SlackQA
from adapters.slack.replies import EVENT_TYPE
from adapters.slack.webapi import web_client
from qa.bot import Bot
from qa.config import resolve
from qa.embedding import SentenceTransformerEmbedder
from qa.errors import ConfigError
from tests.support.slack_fake.signer import Slack, next_ts
from tests.support.slack_fake.webapi import SlackAPIServer
from tests.support.slack_harness import serving

BOT_TOKEN = "xoxb-0000-1111-exactlyonce"
SECRET = "0123456789abcdef0123456789abcdef"
HAITI = "How much did the Biden administration pledge to the Haiti mission?"
TIMEOUT = 1


def in_channel(channel: str) -> object:
    return lambda c: c.params.get("channel") == channel


@pytest.fixture(scope="module")
def api() -> Iterator[SlackAPIServer]:
    with SlackAPIServer() as server:
        yield server


@pytest.fixture(scope="module")
def bot(seeds_index: Path, embedder: SentenceTransformerEmbedder) -> Bot:
    b = Bot(resolve(index=seeds_index, reader="none"), embedder=embedder)
    b.load()
    return b


@pytest.fixture
def served(api: SlackAPIServer, bot: Bot, tmp_path: Path) -> Iterator[tuple[SlackQA, Slack]]:
    api.reset()
    claims = SqliteClaims(tmp_path / "claims.sqlite")
    access = Access(channels=frozenset({"C0OPEN", "C0TIMEOUT", "C0FUZZ"}), users=None, direct_messages=False)
    with serving(bot, web_client(BOT_TOKEN, api.url, timeout=TIMEOUT), SECRET, claims=claims,
                 access=access) as pair:
        yield pair
    claims.close()


def test_a_reply_slack_posted_before_the_timeout_is_not_posted_again(served: tuple[SlackQA, Slack],
                                                                    api: SlackAPIServer) -> None:
    qa_app, slack = served
    api.post_then_stall("chat.postMessage", 1, seconds=TIMEOUT + 1.0)
    ts, (status, _, _) = slack.mention(HAITI, channel="C0TIMEOUT")
    assert status == 200
    api.wait_for("conversations.replies", in_channel("C0TIMEOUT"), timeout=20)
    assert qa_app.drain(20)
    posts = api.attempts("chat.postMessage", in_channel("C0TIMEOUT"))
    assert len(posts) == 1, "the thread already held the answer: it is not posted twice"
    [reply] = [m for m in api.posted if m["channel"] == "C0TIMEOUT"]
    assert reply["thread_ts"] == ts and "38.5 billion" in reply["text"]
    assert reply["metadata"] == {"event_type": EVENT_TYPE, "event_payload": {"event_id": f"message:C0TIMEOUT:{ts}"}}


def test_a_post_that_failed_before_slack_carried_it_out_is_posted_again(served: tuple[SlackQA, Slack],
                                                                       api: SlackAPIServer) -> None:
    qa_app, slack = served
    api.stall("chat.postMessage", 1, seconds=TIMEOUT + 0.5)  # no answer, and nothing posted
    slack.mention(HAITI, channel="C0OPEN")
    api.wait_for("chat.postMessage", in_channel("C0OPEN"), timeout=20)
    assert qa_app.drain(20)
    assert [c.carried_out for c in api.attempts("chat.postMessage", in_channel("C0OPEN"))] == [False, True]
    assert len(api.calls_to("conversations.replies", in_channel("C0OPEN"))) == 1


def test_redeliveries_and_duplicates_are_answered_once_by_whoever_claims_first(
        served: tuple[SlackQA, Slack], api: SlackAPIServer, bot: Bot, tmp_path: Path) -> None:
    qa_app, slack = served
    ev = Slack.mention_event(HAITI, channel="C0OPEN")
    # a second replica sharing the claims receives Slack's redelivery of the same event
    claims = SqliteClaims(tmp_path / "claims.sqlite")
    with serving(bot, web_client(BOT_TOKEN, api.url, timeout=TIMEOUT), SECRET, claims=claims,
                 access=qa_app.access) as (other_app, other):
        threads = [threading.Thread(target=slack.event, args=(ev,), kwargs={"event_id": "Ev1"}),
                   threading.Thread(target=other.event, args=(ev,), kwargs={"event_id": "Ev1", "retry": 1}),
                   threading.Thread(target=other.event, args=(ev,), kwargs={"event_id": "Ev1", "retry": 2})]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        api.wait_for("chat.postMessage", in_channel("C0OPEN"), timeout=20)
        assert qa_app.drain(20) and other_app.drain(20)
    claims.close()
    assert len(api.calls_to("chat.postMessage", in_channel("C0OPEN"))) == 1


def test_a_redelivery_nobody_answered_is_answered(served: tuple[SlackQA, Slack], api: SlackAPIServer) -> None:
    qa_app, slack = served
    slack.event(Slack.mention_event(HAITI, channel="C0OPEN"), event_id="EvLost", retry=1)  # the first was lost
    [reply] = api.wait_for("chat.postMessage", in_channel("C0OPEN"), timeout=20)
    assert "38.5 billion" in reply.params["text"]


def test_the_bot_refuses_once_and_privately_where_it_is_not_enabled(served: tuple[SlackQA, Slack],
                                                                   api: SlackAPIServer) -> None:
    qa_app, slack = served
    slack.mention(HAITI, channel="C0CLOSED", user="U0OUT")
    slack.event(Slack.dm_event(HAITI, channel="D0OUT", user="U0OUT"))
    status, body, _ = slack.command(HAITI, api.response_url("closed"), channel="C0CLOSED", user="U0OUT")
    assert status == 200 and NOT_ENABLED in body
    refusals = api.wait_for("chat.postEphemeral", count=2, timeout=20)
    assert qa_app.drain(20)
    assert {(c.params["channel"], c.params["user"]) for c in refusals} == {("C0CLOSED", "U0OUT"), ("D0OUT", "U0OUT")}
    assert all(NOT_ENABLED in c.params["text"] and "38.5" not in c.blocks_json() for c in refusals)
    assert api.calls_to("chat.postMessage") == [] and api.calls_to("response_url") == []


def test_the_allow_list_is_read_from_the_environment() -> None:
    assert read_access({}) == Access(None, None, True)
    access = read_access({"QA_SLACK_CHANNELS": "C0A, C0B", "QA_SLACK_USERS": "U0X", "QA_SLACK_DMS": "no"})
    assert access.allows("C0A", "U0X", False) and not access.allows("C0C", "U0X", False)
    assert not access.allows("C0A", "U0Y", False) and not access.allows("D0A", "U0X", True)
    with pytest.raises(ConfigError, match="QA_SLACK_CHANNELS"):
        read_access({"QA_SLACK_CHANNELS": "general"})
    with pytest.raises(ConfigError, match="QA_SLACK_DMS"):
        read_access({"QA_SLACK_DMS": "maybe"})


_ANY = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20), st.lists(st.integers(), max_size=2),
                 st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))
_EVENTS = st.fixed_dictionaries(
    {"type": st.sampled_from(["app_mention", "message", "reaction_added", "", "app_home_opened"])},
    optional={"channel": st.one_of(st.just("C0FUZZ"), _ANY), "user": st.one_of(st.just("U0ANN"), _ANY),
              "text": st.one_of(st.just("<@U0BOT> what about Haiti?"), _ANY), "ts": st.one_of(st.just("1.2"), _ANY),
              "thread_ts": _ANY, "subtype": st.one_of(st.sampled_from(["message_changed", "bot_message", "weird"]), _ANY),
              "channel_type": st.one_of(st.sampled_from(["im", "channel"]), _ANY), "bot_id": _ANY})


def test_malformed_events_are_acknowledged_and_dropped_without_a_traceback(
        served: tuple[SlackQA, Slack], api: SlackAPIServer, caplog: pytest.LogCaptureFixture,
        capfd: pytest.CaptureFixture[str]) -> None:
    qa_app, slack = served
    caplog.set_level(logging.INFO)
    sent: list[int] = []

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(_EVENTS, st.one_of(st.none(), st.text(max_size=8)))
    def post(event: dict, event_id: str | None) -> None:
        if isinstance(event.get("ts"), str) and event.get("ts") == "1.2":
            event["ts"] = next_ts()  # a well-formed question is a new one each time
        status, _, _ = slack.post(json.dumps({"type": "event_callback", "event_id": event_id, "team_id": "T0TEAM",
                                              "event": event}), "application/json")
        sent.append(status)
        assert status in (200, 404)  # acknowledged (404: Bolt has no listener for this event type)

    post()
    assert qa_app.drain(30)
    out, err = capfd.readouterr()
    assert "Traceback" not in caplog.text and "Traceback" not in err, caplog.text[-3000:]
    assert not [r for r in caplog.records if r.exc_info], "no error with a traceback"
    assert len(sent) >= 10
    # and the workers are alive: a real question is still answered
    ts, _ = slack.mention(HAITI, channel="C0FUZZ")
    replies = api.wait_for("chat.postMessage", lambda c: c.params.get("thread_ts") == ts, timeout=20)
    assert "38.5 billion" in replies[0].params["text"]


def test_replicas_starting_together_share_one_claims_table(pg_database: str) -> None:
    """Several processes open the PostgreSQL claims at the same moment: none fails, and a key is claimed once."""
    from adapters.slack.claims import PostgresClaims

    opened: list[PostgresClaims] = []
    failures: list[BaseException] = []

    def start() -> None:
        try:
            opened.append(PostgresClaims(pg_database))
        except BaseException as exc:  # a race on CREATE TABLE would show here
            failures.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == [] and len(opened) == 6
    assert [c.claim("message:C1:1.2") for c in opened] == [True] + [False] * 5
    for c in opened:
        c.close()
