"""The Slack bot under load, on loopback: 100 signed events in 10 s to the real Bolt HTTP server.

Most are questions about the seeds, each in its own channel so that its reply can be told apart; the
rest are Slack's retries of some of them (same event id, X-Slack-Retry-Num 1 or 2), and requests with
a forged signature or a stale timestamp. Every question must be answered exactly once, correctly;
retries must add no reply; forged and stale requests must be refused. The latency from sending an
event to its reply reaching the Web API is printed, not asserted: speed is measured, not tested.
"""

from __future__ import annotations

import json
import math
import random
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.slack import blocks as sb
from adapters.slack.handlers import SlackQA
from adapters.slack.webapi import web_client
from qa.bot import Bot
from qa.config import resolve
from qa.embedding import SentenceTransformerEmbedder
from tests.support.slack_fake.signer import Slack
from tests.support.slack_fake.webapi import SlackAPIServer
from tests.support.slack_harness import serving

SECRET = "c0ffee00c0ffee00c0ffee00c0ffee00"
BOT_TOKEN = "xoxb-5150-load-test"
EVENTS = 100  # requests sent in all
WINDOW = 10.0  # seconds they are spread over
QUESTIONS = 80  # of which distinct questions; the rest are retries, forged and stale requests
RETRIES, FORGED, STALE = 12, 4, 4
ASKED = [  # (question, what its answer says)
    ("How much did the Biden administration pledge to the Haiti mission?", "38.5 billion"),
    ("How much money did the Biden administration pledge for the Haiti mission?", "38.5 billion"),
    ("How much has the Biden administration pledged to the Haiti mission?", "38.5 billion"),
    ("Who did Ruto call in January 2025?", "Rubio"),
    ("Who did President Ruto speak with by phone in January 2025?", "Rubio"),
    ("When did Ruto first speak with Trump?", "Trump"),
    ("What is the recipe for chocolate cake?", sb.ABSTAIN_TEXT),
]


@dataclass
class Send:
    """One request of the run."""

    kind: str  # "question", "retry", "forged" or "stale"
    channel: str
    body: str
    expect: str = ""  # for a question: what its reply must say
    retry: int = 0  # X-Slack-Retry-Num
    at: float = 0.0  # when it was sent (monotonic)
    status: int = 0
    ack: float = 0.0  # seconds until the HTTP response


def plan(rng: random.Random) -> list[Send]:
    """The requests in the order they are sent: a few questions first, then everything mixed."""
    kinds = ["question"] * (QUESTIONS - 5) + ["retry"] * RETRIES + ["forged"] * FORGED + ["stale"] * STALE
    rng.shuffle(kinds)
    kinds = ["question"] * 5 + kinds
    sends: list[Send] = []
    retried: Counter[int] = Counter()
    for i, kind in enumerate(kinds):
        if kind == "retry":  # Slack's redelivery of an event already sent, retried at most twice
            j = rng.choice([k for k, s in enumerate(sends) if s.kind == "question" and retried[k] < 2])
            retried[j] += 1
            sends.append(Send("retry", sends[j].channel, sends[j].body, sends[j].expect, retry=retried[j]))
            continue
        question, expect = ASKED[i % len(ASKED)]
        channel = f"{'D' if kind == 'question' and i % 8 == 0 else 'C'}0LOAD{i:03d}"
        ts = f"1713000{i:03d}.000100"
        if channel.startswith("D"):  # a direct message now and then
            event = {"type": "message", "channel_type": "im", "user": "U0ANN", "text": question}
        else:
            event = {"type": "app_mention", "user": "U0ANN", "text": f"<@U0BOT> {question}"}
        body = Slack.envelope({**event, "ts": ts, "channel": channel}, event_id=f"EvLOAD{i:03d}")
        sends.append(Send(kind, channel, body, expect))
    return sends


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
    with serving(bot, web_client(BOT_TOKEN, api.url), SECRET) as served_app:
        yield served_app


def percentile(values: list[float], q: float) -> float:
    """The `q`-th percentile (0–100) of `values`, by the nearest-rank method."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def test_100_signed_events_in_10_s_are_each_answered_exactly_once(
        served: tuple[SlackQA, Slack], api: SlackAPIServer, capsys: pytest.CaptureFixture[str]) -> None:
    qa_app, slack = served
    api.reset()
    sends = plan(random.Random(20))
    assert len(sends) == EVENTS and sum(s.kind == "question" for s in sends) == QUESTIONS
    forger = Slack(slack.url, "0badc0de0badc0de0badc0de0badc0de")
    start = time.monotonic() + 0.2

    def send(i: int, s: Send) -> None:
        time.sleep(max(0.0, start + i * WINDOW / EVENTS - time.monotonic()))
        headers = {"X-Slack-Retry-Num": str(s.retry), "X-Slack-Retry-Reason": "http_timeout"} if s.retry else None
        sender = forger if s.kind == "forged" else slack
        stamp = int(time.time()) - 6 * 60 if s.kind == "stale" else None
        s.at = time.monotonic()
        s.status, _, s.ack = sender.post(s.body, "application/json", headers, timestamp=stamp)

    with ThreadPoolExecutor(max_workers=24) as pool:
        for future in [pool.submit(send, i, s) for i, s in enumerate(sends)]:
            future.result()
    sent_in = time.monotonic() - start

    questions = {s.channel: s for s in sends if s.kind == "question"}
    replies = api.wait_for("chat.postMessage", lambda c: c.params["channel"] in questions, count=QUESTIONS,
                           timeout=30)
    time.sleep(1.0)  # room for a wrong second reply to a retry to show up
    assert qa_app.drain(20)

    assert [s.status for s in sends if s.kind in ("question", "retry")] == [200] * (QUESTIONS + RETRIES)
    assert [s.status for s in sends if s.kind in ("forged", "stale")] == [401] * (FORGED + STALE)
    posted = Counter(c.params["channel"] for c in api.calls_to("chat.postMessage"))
    assert set(posted) == set(questions)  # nothing for a forged or stale request
    assert [ch for ch, n in posted.items() if n != 1] == []  # one reply per question: retries added none
    for reply in replies:
        asked = questions[reply.params["channel"]]
        assert asked.expect in reply.params["text"], (json.loads(asked.body)["event"]["text"], reply.params["text"])
        if reply.params["channel"].startswith("C"):
            assert reply.params["thread_ts"] == json.loads(asked.body)["event"]["ts"]

    latency = [r.at - questions[r.params["channel"]].at for r in replies]
    acks = [s.ack for s in sends if s.kind == "question"]
    with capsys.disabled():
        print(f"\nSlack load: {EVENTS} signed requests in {sent_in:.1f} s ({QUESTIONS} questions, {RETRIES} retries, "
              f"{FORGED} forged, {STALE} stale); event sent -> reply at the Web API: "
              f"p50 {statistics.median(latency) * 1000:.0f} ms, p95 {percentile(latency, 95) * 1000:.0f} ms, "
              f"max {max(latency) * 1000:.0f} ms; acknowledgement p95 {percentile(acks, 95) * 1000:.0f} ms")
