"""One conversation, kept the same way by every front end: the same dialogue, asked in the terminal chat, over
`POST /api/ask` with the history the page sends, and in a Slack thread, hands the core the same earlier turns
(never more than `HISTORY_TURNS`) and gets the same answers."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rich.console import Console

from adapters.common.conversation import kept, remember, turn_of
from adapters.http.app import create_app
from adapters.http.models import MAX_HISTORY_ANSWER_CHARS
from adapters.repl.chat import Chat
from adapters.repl.loader import Loader
from adapters.slack.webapi import web_client
from qa.answering.answer import Answer
from qa.bot import Bot
from qa.config import HISTORY_TURNS, resolve
from qa.embedding import SentenceTransformerEmbedder
from tests.support.slack_fake.webapi import SlackAPIServer
from tests.support.slack_harness import serving

SECRET = "8f742231b10e8888abcd99ee85a5e6f1"
DIALOGUE = [
    "Who did Ruto call in January 2025?",
    "What did they say about Haiti?",
    "What is the boiling point of mercury?",
    "How much did the Biden administration pledge to the Haiti mission?",
    "When was that?",
    "Who did Ruto speak with after the US election?",
    "What did they discuss?",
    "What did he say about trade?",
]


class Recorder:
    """Wraps `bot.ask`: every call's question, the earlier turns it was given, and the answer."""

    def __init__(self, bot: Bot) -> None:
        self.calls: list[tuple[str, list[Any], Answer]] = []
        self._ask = bot.ask
        bot.ask = self.ask  # type: ignore[method-assign, assignment]

    def ask(self, question: str, history: list[Any] | None = None, **options: Any) -> Answer:
        answer = self._ask(question, history=history, **options)
        self.calls.append((question, list(history or []), answer))
        return answer

    def take(self) -> list[tuple[str, list[Any], Answer]]:
        calls, self.calls = self.calls, []
        return calls


@pytest.fixture(scope="module")
def recorded(seeds_index: Path, embedder: SentenceTransformerEmbedder) -> Iterator[tuple[Bot, Recorder]]:
    bot = Bot(resolve(index=seeds_index), embedder=embedder)
    bot.load()
    yield bot, Recorder(bot)


def _repl(bot: Bot, capsys: pytest.CaptureFixture[str]) -> None:
    loader = Loader(bot)
    loader.start()
    loader.done.wait(60)
    quiet = Console(file=io.StringIO())
    chat = Chat(bot, loader, quiet, quiet, plain=True)
    try:
        for question in DIALOGUE:
            chat.handle(question)
    finally:
        chat.close()
    capsys.readouterr()


def _http(bot: Bot) -> None:
    client = TestClient(create_app(bot))
    history: list[list[Any]] = []
    for question in DIALOGUE:  # as the page does: each answer's turn, its text cut, the last HISTORY_TURNS
        answer = client.post("/api/ask", json={"question": question, "history": history, "view": "web"}).json()
        said = None if answer["answer"] is None else answer["answer"][:MAX_HISTORY_ANSWER_CHARS]
        history = (history + [[answer["question"], said, answer["asked_as"], answer["about"]]])[-HISTORY_TURNS:]


def _slack(bot: Bot) -> None:
    with SlackAPIServer() as api, serving(bot, web_client("xoxb-1-conversation", api.url), SECRET) as (_, slack):
        thread = None
        for n, question in enumerate(DIALOGUE, 1):
            ts, _ = slack.mention(question, channel="C0TALK", thread_ts=thread)
            thread = thread or ts
            api.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "C0TALK", count=n, timeout=60)


def test_the_same_dialogue_gets_the_same_turns_and_answers_in_every_front_end(
        recorded: tuple[Bot, Recorder], capsys: pytest.CaptureFixture[str]) -> None:
    bot, recorder = recorded
    runs = {}
    for name, run in (("repl", lambda: _repl(bot, capsys)), ("http", lambda: _http(bot)), ("slack", lambda: _slack(bot))):
        run()
        runs[name] = recorder.take()
    for name, calls in runs.items():
        assert [q for q, _, _ in calls] == DIALOGUE, name
        assert [len(h) for _, h, _ in calls] == [min(i, HISTORY_TURNS) for i in range(len(DIALOGUE))], name
        # each turn handed on is the one the previous answers make, as adapters.common.conversation makes it
        expected: list[Any] = []
        for _, history, answer in calls:
            assert list(history) == expected, name
            expected = remember(expected, answer)
    said = {name: [(a.answer, a.asked_as, a.abstained) for _, _, a in calls] for name, calls in runs.items()}
    assert said["repl"] == said["http"] == said["slack"]
    assert any(asked_as for _, asked_as, _ in said["repl"])  # the dialogue has follow-ups that were rewritten


def test_a_conversation_keeps_its_last_turns() -> None:
    answers = [Answer(question=f"q{i}", answer=None if i % 3 == 0 else f"a{i}", abstained=i % 3 == 0)
               for i in range(10)]
    turns: list[Any] = []
    for a in answers:
        turns = remember(turns, a)
    assert turns == [turn_of(a) for a in answers[-HISTORY_TURNS:]]
    assert kept(turns * 3) == turns
