"""The Slack bot end to end: the real Bolt app served over HTTP on loopback, signed requests in,
Web API calls out to a recording Slack API server, answers from a real index and the real model."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.signature import SignatureVerifier

from adapters.slack import blocks as sb
from adapters.slack.handlers import SlackQA
from adapters.slack.webapi import web_client
from qa.bot import Bot
from qa.config import resolve
from qa.embedding import SentenceTransformerEmbedder
from qa.index.local import ingest_paths
from tests.support.slack_fake.signer import Slack, next_ts
from tests.support.slack_fake.webapi import Call, SlackAPIServer, texts
from tests.support.slack_harness import serving

SECRET = "8f742231b10e8888abcd99ee85a5e6f1"
BOT_TOKEN = "xoxb-1-test-token"
HAITI = "How much did the Biden administration pledge to the Haiti mission?"
HAITI_SOURCE = "002_55bcac6e1997eb79.txt"

@pytest.fixture(scope="module")
def api() -> Iterator[SlackAPIServer]:
    with SlackAPIServer() as server:
        yield server


@pytest.fixture(scope="module")
def served(api: SlackAPIServer, seeds_index: Path, embedder: SentenceTransformerEmbedder,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SlackQA, Slack]]:
    log = tmp_path_factory.mktemp("state") / "qa" / "feedback.jsonl"
    settings = resolve(index=seeds_index, k=5).with_(feedback_log=log)
    bot = Bot(settings, embedder=embedder)
    bot.load()
    with serving(bot, web_client(BOT_TOKEN, api.url), SECRET) as served_app:
        yield served_app


@pytest.fixture
def slack(served: tuple[SlackQA, Slack], api: SlackAPIServer) -> Iterator[Slack]:
    qa_app, sender = served
    api.reset()
    yield sender
    assert qa_app.drain(20), "answers still running 20 s after the test"


@pytest.fixture
def qa_app(served: tuple[SlackQA, Slack]) -> SlackQA:
    return served[0]


def in_channel(channel: str, thread_ts: str | None = None):  # type: ignore[no-untyped-def]
    def match(c: Call) -> bool:
        return c.params.get("channel") == channel and (thread_ts is None or c.params.get("thread_ts") == thread_ts)

    return match


def context_texts(call: Call) -> list[str]:
    return [e["text"] for b in call.params["blocks"] if b["type"] == "context" for e in b["elements"]]


def section_texts(call: Call) -> list[str]:
    return [b["text"]["text"] for b in call.params["blocks"] if b["type"] == "section"]


def buttons(call: Call) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for b in call.params["blocks"] if b["type"] == "actions" for e in b["elements"]}


def rendered(call: Call) -> list[str]:
    """The fallback text and every text object in the blocks."""
    return [call.params["text"], *texts(call.params["blocks"])]


def first_source(call: Call) -> str:
    meta = [t for t in context_texts(call) if t.startswith("*[1]*")]
    assert meta, call.params["blocks"]
    return meta[0].split()[1]


# --------------------------------------------------------------------------- answering


def test_mention_is_acknowledged_then_answered_in_its_thread(slack: Slack, api: SlackAPIServer) -> None:
    api.delays["reactions.add"] = 2.0  # the answer is slow to come: the acknowledgement must not wait for it
    ts, (status, _, took) = slack.mention(HAITI, channel="C1")
    assert status == 200 and took < 1.5
    [reply] = api.wait_for("chat.postMessage", in_channel("C1"))
    assert reply.params["thread_ts"] == ts
    assert reply.token == BOT_TOKEN
    assert first_source(reply) == HAITI_SOURCE
    answer = section_texts(reply)[0]
    assert "38.5 billion" in answer and "[1]" in answer
    assert HAITI_SOURCE in reply.params["text"] and "38.5 billion" in reply.params["text"]
    # the answering sentence is in bold inside a quoted excerpt
    quotes = [t for t in section_texts(reply) if t.startswith("> ")]
    assert any("*The Biden administration had supported this mission" in q for q in quotes)
    assert {sb.ACTION_HELPFUL, sb.ACTION_NOT_HELPFUL} <= set(buttons(reply))
    [reaction] = api.calls_to("reactions.add")
    assert reaction.params == {"channel": "C1", "timestamp": ts, "name": "eyes"}


def test_mention_inside_a_thread_is_answered_in_that_thread(slack: Slack, api: SlackAPIServer) -> None:
    _, (status, _, _) = slack.mention(HAITI, channel="C2", thread_ts="1700000000.000900")
    assert status == 200
    [reply] = api.wait_for("chat.postMessage", in_channel("C2"))
    assert reply.params["thread_ts"] == "1700000000.000900"


def test_follow_up_in_a_thread_uses_the_thread_s_earlier_question(slack: Slack, api: SlackAPIServer) -> None:
    ts, _ = slack.mention("Who did Ruto call in January 2025?", channel="C3")
    [first] = api.wait_for("chat.postMessage", in_channel("C3"))
    assert "Rubio" in section_texts(first)[0]
    slack.mention("What did they say about Haiti?", channel="C3", thread_ts=ts)
    [_, follow] = api.wait_for("chat.postMessage", in_channel("C3", ts), count=2)
    assert first_source(follow).startswith(("003_", "004_"))
    assert any("Taken as" in t and "Rubio" in t for t in context_texts(follow))
    # the same words in a fresh thread carry no context
    slack.mention("What did they say about Haiti?", channel="C4")
    [fresh] = api.wait_for("chat.postMessage", in_channel("C4"))
    assert not any("Taken as" in t for t in context_texts(fresh))


def test_direct_message_is_answered_in_the_conversation(slack: Slack, api: SlackAPIServer) -> None:
    ts, (status, _, _) = slack.dm(HAITI, channel="D1")
    assert status == 200
    [reply] = api.wait_for("chat.postMessage", in_channel("D1"))
    assert reply.params.get("thread_ts") is None
    assert first_source(reply) == HAITI_SOURCE


def test_a_question_the_articles_do_not_answer_says_so(slack: Slack, api: SlackAPIServer) -> None:
    slack.dm("What is the recipe for chocolate cake?", channel="D2")
    [reply] = api.wait_for("chat.postMessage", in_channel("D2"))
    assert sb.ABSTAIN_TEXT in section_texts(reply)[0]
    assert reply.params["text"] == sb.ABSTAIN_TEXT
    assert sb.ACTION_MORE not in buttons(reply)


def test_an_empty_mention_gets_help(slack: Slack, api: SlackAPIServer) -> None:
    ts, _ = slack.mention("", channel="C5")
    [reply] = api.wait_for("chat.postMessage", in_channel("C5"))
    assert reply.params["thread_ts"] == ts and "Ask me a question" in reply.params["text"]


def test_a_question_the_core_rejects_gets_its_reason(slack: Slack, api: SlackAPIServer) -> None:
    slack.dm("why " * 600, channel="D5")
    [reply] = api.wait_for("chat.postMessage", in_channel("D5"))
    assert reply.params["text"].startswith("Sorry: the question is too long")


def test_concurrent_questions_are_answered_in_parallel(slack: Slack, api: SlackAPIServer) -> None:
    api.delays["reactions.add"] = 1.5
    start = time.monotonic()
    for i in range(4):
        _, (status, _, took) = slack.mention(HAITI, channel=f"CP{i}")
        assert status == 200 and took < 1.0
    replies = api.wait_for("chat.postMessage", lambda c: c.params["channel"].startswith("CP"), count=4)
    assert {r.params["channel"] for r in replies} == {"CP0", "CP1", "CP2", "CP3"}
    assert time.monotonic() - start < 5.0  # one after the other would take at least 6 s


# --------------------------------------------------------------------------- what it must not answer


def test_ignores_its_own_and_other_bots_messages(slack: Slack, qa_app: SlackQA, api: SlackAPIServer) -> None:
    assert slack.dm(HAITI, channel="D3", user="U0BOT")[1][0] == 200  # its own user
    assert slack.dm(HAITI, channel="D3", user="U0BOT", bot_id="B0BOT")[1][0] == 200  # its own bot
    assert slack.dm(HAITI, channel="D3", user="U0OTHER", bot_id="B0OTHER")[1][0] == 200  # another bot
    assert slack.dm(HAITI, channel="D3", subtype="bot_message", bot_id="B0OTHER")[1][0] == 200
    assert slack.dm(HAITI, channel="D3", subtype="message_changed")[1][0] == 200
    assert slack.mention(HAITI, channel="C6", user="U0BOT")[1][0] == 200
    ts, _ = slack.dm("Who did Ruto call in January 2025?", channel="D3")
    api.wait_for("chat.postMessage", in_channel("D3"))
    assert qa_app.drain(20)
    assert len(api.calls_to("chat.postMessage")) == 1
    assert [c.params["timestamp"] for c in api.calls_to("reactions.add")] == [ts]


def test_a_retried_event_is_answered_once(slack: Slack, qa_app: SlackQA, api: SlackAPIServer) -> None:
    ts = next_ts()
    event = {"type": "app_mention", "user": "U0ANN", "text": f"<@U0BOT> {HAITI}", "ts": ts, "channel": "C7"}
    assert slack.event(event, event_id="EvRETRY1")[0] == 200
    assert slack.event(event, event_id="EvRETRY1", retry=1)[0] == 200
    assert slack.event(event, event_id="EvRETRY1", retry=2)[0] == 200
    assert slack.event(event, event_id="EvRETRY1")[0] == 200  # delivered again without the header
    api.wait_for("chat.postMessage", in_channel("C7"))
    assert qa_app.drain(20)
    assert len(api.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize("case", ["bad signature", "other secret", "stale", "future", "no signature"])
def test_unsigned_or_stale_requests_get_401(slack: Slack, qa_app: SlackQA, api: SlackAPIServer, case: str) -> None:
    body = json.dumps({"type": "event_callback", "event_id": "EvBAD", "team_id": "T0TEAM", "event": {
        "type": "app_mention", "user": "U0ANN", "text": f"<@U0BOT> {HAITI}", "ts": next_ts(), "channel": "C8"}})
    now = int(time.time())
    if case == "bad signature":
        status, _, _ = slack.post(body, "application/json", signature="v0=" + "0" * 64)
    elif case == "other secret":
        status, _, _ = Slack(slack.url, "0123456789abcdef0123").post(body, "application/json")
    elif case == "stale":
        status, _, _ = slack.post(body, "application/json", timestamp=now - 6 * 60)
    elif case == "future":
        status, _, _ = slack.post(body, "application/json", timestamp=now + 6 * 60)
    else:
        req = urllib.request.Request(slack.url, data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=10)
        status = err.value.code
    assert status == 401
    assert qa_app.drain(5)
    assert api.calls_to("chat.postMessage") == [] and api.calls_to("reactions.add") == []


def test_only_the_events_path_is_served(slack: Slack) -> None:
    base = slack.url.rsplit("/slack/", 1)[0]
    with urllib.request.urlopen(base + "/health", timeout=10) as resp:
        assert resp.status == 200
    status, _, _ = Slack(base + "/other", SECRET).post("{}", "application/json")
    assert status == 404


def test_our_signatures_are_what_slack_sdk_verifies(slack: Slack) -> None:
    ts = int(time.time())
    assert SignatureVerifier(SECRET).is_valid("body", ts, slack.sign("body", ts))


# --------------------------------------------------------------------------- /ask


def test_slash_command_answers_privately_and_shares_on_click(slack: Slack, qa_app: SlackQA,
                                                             api: SlackAPIServer) -> None:
    status, body, took = slack.command(HAITI, api.response_url("ask1"), channel="C9", user="U0BEN")
    assert status == 200 and took < 3
    [private] = api.wait_for("chat.postEphemeral", in_channel("C9"))
    assert private.params["user"] == "U0BEN"
    assert first_source(private) == HAITI_SOURCE
    assert any(HAITI in t for t in context_texts(private))  # the question, since the channel does not see it
    share = buttons(private)[sb.ACTION_SHARE]
    assert api.calls_to("chat.postMessage") == []
    for _ in range(2):  # a double click shares once
        status, _, _ = slack.click(share, user="U0BEN", channel="C9", ephemeral=True,
                                   response_url=api.response_url("act1"))
        assert status == 200
    [shared] = api.wait_for("chat.postMessage", in_channel("C9"))
    assert "<@U0BEN> asked:" in context_texts(shared)[0]
    assert first_source(shared) == HAITI_SOURCE
    assert sb.ACTION_SHARE not in buttons(shared)
    [gone] = api.wait_for("response_url", lambda c: c.path.endswith("/act1"))
    assert gone.params == {"delete_original": True}
    assert qa_app.drain(20) and len(api.calls_to("chat.postMessage")) == 1


def test_slash_command_without_a_question_shows_usage(slack: Slack, api: SlackAPIServer) -> None:
    status, body, _ = slack.command("   ", api.response_url("ask2"))
    assert status == 200 and "Usage: /ask QUESTION" in body


def test_slash_command_falls_back_to_the_response_url(slack: Slack, api: SlackAPIServer) -> None:
    api.errors["chat.postEphemeral"] = "channel_not_found"  # e.g. a channel the bot is not in
    slack.command(HAITI, api.response_url("ask3"), channel="C10")
    [reply] = api.wait_for("response_url", lambda c: c.path.endswith("/ask3"))
    assert reply.params["response_type"] == "ephemeral"
    assert HAITI_SOURCE in json.dumps(reply.params["blocks"])


# --------------------------------------------------------------------------- buttons


def test_feedback_click_appends_a_line_to_the_log(slack: Slack, qa_app: SlackQA, api: SlackAPIServer) -> None:
    ts, _ = slack.mention(HAITI, channel="C11")
    [reply] = api.wait_for("chat.postMessage", in_channel("C11"))
    log = qa_app.settings.feedback_log
    before = log.read_text().splitlines() if log.exists() else []
    helpful = buttons(reply)[sb.ACTION_HELPFUL]
    assert slack.click(helpful, user="U0CAT", channel="C11", thread_ts=ts)[0] == 200
    [thanks] = api.wait_for("chat.postEphemeral", in_channel("C11"))
    assert thanks.params["user"] == "U0CAT" and thanks.params["thread_ts"] == ts
    lines = log.read_text().splitlines()[len(before):]
    assert len(lines) == 1
    row = json.loads(lines[0])
    assert row["q"] == HAITI and row["key"] == [] and row["helpful"] is True and row["abstained"] is False
    assert row["src"][0] == HAITI_SOURCE and "38.5 billion" in row["answer"]
    assert row["user"] == "U0CAT" and row["ts"] and row["citations"][0]["n"] == 1
    # the same user again: not counted twice; another user: counted
    slack.click(helpful, user="U0CAT", channel="C11", thread_ts=ts)
    api.wait_for("chat.postEphemeral", in_channel("C11"), count=2)
    slack.click(buttons(reply)[sb.ACTION_NOT_HELPFUL], user="U0DAN", channel="C11", thread_ts=ts)
    api.wait_for("chat.postEphemeral", in_channel("C11"), count=3)
    rows = [json.loads(x) for x in log.read_text().splitlines()[len(before):]]
    assert [(r["user"], r["helpful"]) for r in rows] == [("U0CAT", True), ("U0DAN", False)]


def test_feedback_is_logged_from_the_button_after_a_restart(slack: Slack, qa_app: SlackQA,
                                                            api: SlackAPIServer) -> None:
    slack.dm(HAITI, channel="D4")
    [reply] = api.wait_for("chat.postMessage", in_channel("D4"))
    button = buttons(reply)[sb.ACTION_NOT_HELPFUL]
    value = json.loads(button["value"])
    qa_app.answers.pop(value["id"])  # as if the bot had restarted since
    log = qa_app.settings.feedback_log
    n = len(log.read_text().splitlines()) if log.exists() else 0
    slack.click(button, user="U0EVE", channel="D4")
    api.wait_for("chat.postEphemeral", in_channel("D4"))
    row = json.loads(log.read_text().splitlines()[n])
    assert row["q"] == HAITI and row["src"][0] == HAITI_SOURCE and row["helpful"] is False
    assert "38.5 billion" in row["answer"]


def test_more_sources_posts_the_rest_in_the_thread(slack: Slack, api: SlackAPIServer) -> None:
    ts, _ = slack.mention(HAITI, channel="C12")
    [reply] = api.wait_for("chat.postMessage", in_channel("C12"))
    shown = [t for t in context_texts(reply) if t.startswith("*[")]
    assert [t.split()[0] for t in shown] == ["*[1]*", "*[2]*", "*[3]*"]
    more = buttons(reply)[sb.ACTION_MORE]
    assert more["text"]["text"] == "More sources (2)"
    slack.click(more, channel="C12", message_ts="1700000000.000777", thread_ts=ts)
    [_, rest] = api.wait_for("chat.postMessage", in_channel("C12"), count=2)
    assert rest.params["thread_ts"] == ts
    assert [t.split()[0] for t in context_texts(rest) if t.startswith("*[")] == ["*[4]*", "*[5]*"]
    slack.click(more, channel="C12", message_ts="1700000000.000777", thread_ts=ts)  # a second click
    api.wait_for("chat.postEphemeral", in_channel("C12"))
    assert len(api.calls_to("chat.postMessage", in_channel("C12"))) == 2


# --------------------------------------------------------------------------- escaping


# what a user typed, as Slack sends it: their <, > and & escaped; a real @here is markup
TYPED = "&lt;!channel&gt; &lt;@U0EVIL&gt; &lt;https://evil.example|click&gt; &amp; <!here>"
ECHOED = "&lt;!channel&gt; &lt;@U0EVIL&gt; &lt;https://evil.example|click&gt; &amp; @here"


def assert_inert(call: Call, allowed: str = "") -> None:
    """No text Slack displays for `call` holds markup, but for `allowed`."""
    for t in rendered(call):
        for bad in ("<!channel>", "<!here>", "<@U0EVIL>", "<https://evil.example"):
            assert bad not in t, t
        body = "\n".join(line[2:] if line.startswith("> ") else line for line in t.split("\n"))
        body = body.replace(allowed, "") if allowed else body
        assert "<" not in body and ">" not in body, t


def test_user_text_echoed_back_cannot_ping_or_link(slack: Slack, qa_app: SlackQA, api: SlackAPIServer) -> None:
    # /ask shows the question above its answer, sharing shows it again, and so does More sources
    slack.command(f"{HAITI} {TYPED}", api.response_url("typed"), channel="C14", user="U0BEN")
    [private] = api.wait_for("chat.postEphemeral", in_channel("C14"))
    assert context_texts(private)[0] == f"*/ask* {HAITI} {ECHOED}"
    assert_inert(private)
    slack.click(buttons(private)[sb.ACTION_SHARE], user="U0BEN", channel="C14", ephemeral=True,
                response_url=api.response_url("typed-share"))
    [shared] = api.wait_for("chat.postMessage", in_channel("C14"))
    assert context_texts(shared)[0] == f"<@U0BEN> asked: {HAITI} {ECHOED}"
    assert_inert(shared, allowed="<@U0BEN>")
    slack.click(buttons(shared)[sb.ACTION_MORE], channel="C14", message_ts="1700000000.000888")
    [_, more] = api.wait_for("chat.postMessage", in_channel("C14"), count=2)
    assert context_texts(more)[0] == f"More sources for: {HAITI} {ECHOED}"
    assert_inert(more)
    # a follow-up is shown as the question it was taken as
    ts, _ = slack.mention("Who did Ruto call in January 2025?", channel="C15")
    api.wait_for("chat.postMessage", in_channel("C15"))
    slack.mention(f"What did they say about Haiti? {TYPED}", channel="C15", thread_ts=ts)
    [_, follow] = api.wait_for("chat.postMessage", in_channel("C15", ts), count=2)
    [taken] = [t for t in context_texts(follow) if t.startswith("_Taken as:_")]
    assert taken.startswith("_Taken as:_ What did ") and "Marco Rubio and Ruto say about Haiti?" in taken
    assert taken.endswith(ECHOED)
    assert_inert(follow)


ARTICLE = """Zorblax festival announced

The Zorblax festival in Kisumu was announced on March 3, 2024.

Organisers told <!channel> and <@U123> that the Zorblax festival budget is 40 million shillings & more <script> (see <https://evil.example/x|the official page>).

The festival will run for five days in the lakeside city.
"""


def test_article_markup_cannot_ping_anyone(api: SlackAPIServer, embedder: SentenceTransformerEmbedder,
                                           tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "zorblax.txt").write_text(ARTICLE, encoding="utf-8")
    report = ingest_paths([corpus], tmp_path / "index", embedder)
    assert not report.errors
    bot = Bot(resolve(index=tmp_path / "index"), embedder=embedder)
    with serving(bot, web_client(BOT_TOKEN, api.url), SECRET) as (qa_app, slack):
        api.reset()
        slack.mention("What is the budget of the Zorblax festival? <!here>", channel="C13")
        [reply] = api.wait_for("chat.postMessage", in_channel("C13"))
        slack.command("What is the budget of the Zorblax festival? <!channel>", api.response_url("z"), channel="C13")
        [private] = api.wait_for("chat.postEphemeral", in_channel("C13"))
        for call in (reply, private):
            shown = "\n".join(rendered(call))  # every text Slack displays (button values are data, not shown)
            assert "zorblax.txt" in shown
            assert "&lt;!channel&gt;" in shown and "&lt;@U123&gt;" in shown and "&amp; more &lt;script&gt;" in shown
            assert "&lt;https://evil.example/x|the official page&gt;" in shown
            for bad in ("<!channel>", "<!here>", "<@U123>", "<script>", "<https://evil.example"):
                assert bad not in shown
            for t in rendered(call):
                body = "\n".join(line[2:] if line.startswith("> ") else line for line in t.split("\n"))
                assert "<" not in body and ">" not in body, t
            assert all(b["text"]["verbatim"] for b in call.params["blocks"] if b["type"] == "section")
        assert qa_app.drain(20)
