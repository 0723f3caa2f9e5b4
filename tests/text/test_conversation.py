"""Follow-up questions: the rewrite that carries names and dates of the last turn, and, with the real model
on the seeds, whether the second turn of each conversation in tests/data/followups.jsonl finds its article."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from qa.bot import Bot
from qa.config import Settings
from qa.text.conversation import needs_context, rewrite
from tests.support.paths import DATA

FOLLOWUPS = DATA / "followups.jsonl"
CONVERSATIONS = [json.loads(line) for line in FOLLOWUPS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_followups_file_is_well_formed() -> None:
    assert len(CONVERSATIONS) >= 6
    seeds = {p.name[:4] for p in (FOLLOWUPS.parents[2] / "seeds").glob("*.txt")}
    for c in CONVERSATIONS:
        assert set(c) == {"turns", "src"}
        assert len(c["turns"]) == 2 and all(isinstance(t, str) and t.strip() for t in c["turns"])
        assert c["src"] and set(c["src"]) <= seeds


@pytest.mark.parametrize(
    "question",
    ["What did they say about Haiti?", "When did it begin?", "What did he commit to?", "How long did the call last?",
     "And then?"],
)
def test_questions_that_lean_on_the_last_turn(question: str) -> None:
    assert needs_context(question)


@pytest.mark.parametrize(
    "question", ["Who did Ruto call in January 2025?", "What did Marco Rubio discuss with William Ruto?"]
)
def test_questions_that_stand_alone(question: str) -> None:
    assert not needs_context(question)
    assert rewrite(question, [("Which French president did Ruto speak with?", "Emmanuel Macron. [1]")]) is None


def test_rewrite_carries_names_and_dates_of_the_last_turn() -> None:
    history = [
        ("How much did the Biden administration pledge?", "Up to Ksh.38.5 billion. [1]"),
        ("Who did Ruto call in January 2025?", "President William Ruto spoke with Secretary of State Marco Rubio. [1]"),
    ]
    out = rewrite("What did they say about Haiti?", history)
    assert out is not None and out.startswith("What did they say about Haiti? (")
    assert "January 2025" in out and "Marco Rubio" in out
    assert "Biden" not in out  # only the last turn counts


def test_rewrite_without_history_or_without_anything_new() -> None:
    assert rewrite("What did they say about Haiti?", []) is None
    assert rewrite("What did Rubio say about it?", [("Who called Rubio?", "Rubio [1]")]) is None


def test_rewrite_uses_the_answer_when_the_question_named_nothing() -> None:
    out = rewrite("What did he commit to?", [("Which French president did Ruto speak with?",
                                             "He held discussions with French President Emmanuel Macron. [1]")])
    assert out is not None and "Emmanuel Macron" in out


@pytest.fixture(scope="module")
def bot(seeds_index: Path, embedder) -> Bot:  # type: ignore[no-untyped-def]
    from qa.config import resolve

    settings: Settings = resolve(index=seeds_index, env={})
    return Bot(settings, embedder=embedder)


def _first_source(answer) -> str:  # type: ignore[no-untyped-def]
    cited = answer.citations or answer.nearest
    return os.path.basename(cited[0].source)[:4] if cited else ""


def _params() -> list:  # type: ignore[type-arg]
    return [pytest.param(c, id=" / ".join(c["turns"])) for c in CONVERSATIONS]


@pytest.mark.parametrize("conversation", _params())
def test_second_turn_finds_the_article_of_the_conversation(bot: Bot, conversation: dict) -> None:
    first, second = conversation["turns"]
    a1 = bot.ask(first)
    a2 = bot.ask(second, history=[(first, a1.answer)])
    assert a2.asked_as is not None  # the follow-up was taken in context
    assert not a2.abstained
    assert _first_source(a2) in conversation["src"], (a2.asked_as, a2.answer)


def test_context_is_what_finds_the_article(bot: Bot) -> None:
    """Without the first turn, the same follow-ups find their article far less often."""
    with_context = without = 0
    for c in CONVERSATIONS:
        first, second = c["turns"]
        a1 = bot.ask(first)
        with_context += _first_source(bot.ask(second, history=[(first, a1.answer)])) in c["src"]
        alone = bot.ask(second)
        without += not alone.abstained and _first_source(alone) in c["src"]
    assert with_context >= len(CONVERSATIONS) - 1
    assert without <= with_context - 2
