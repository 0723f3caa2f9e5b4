"""Quotes that answer the question, on the real seeds with the real model and reader: the names and time the
question states constrain the answer, the kind of answer it asks for is in the quote (and marked in it), a
period or "latest" question is answered by the leads of its articles, and a follow-up is read in context but
never answers what the question alone could not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qa.answering.answer import Answer
from qa.bot import Bot
from qa.config import resolve
from qa.embedding import Embedder
from qa.evaluation.questions import Question as BenchQuestion
from qa.evaluation.scoring import run_traces


@pytest.fixture(scope="module")
def bot(seeds_index: Path, embedder: Embedder) -> Bot:
    return Bot(resolve(index=seeds_index, env={}), embedder=embedder)


def article(answer: Answer, n: int = 1) -> str:
    return os.path.basename(answer.citations[n - 1].source)[:4]


def spans(answer: Answer) -> list[str]:
    return [q.text[q.answer_span[0]:q.answer_span[1]] for q in answer.quotes if q.answer_span]


@pytest.mark.parametrize("question, source, span", [
    ("When did Ruto speak with Rubio?", "004_", "Monday, January 27"),
    ("Which State Department spokesperson commented on Rubio's call with Ruto?", "003_", "Tammy Bruce"),
    ("How much did the Biden administration pledge for the Haiti mission?", "002_", "Ksh.38.5 billion"),
])
def test_the_quote_holds_the_kind_of_answer_asked_for_and_marks_it(bot: Bot, question: str, source: str,
                                                                   span: str) -> None:
    a = bot.ask(question)
    assert not a.abstained and article(a) == source, a.answer
    assert span in spans(a)[0]
    quote = a.quotes[0]
    assert quote.text in a.citations[quote.n - 1].text  # verbatim


def test_a_question_about_rubio_is_not_answered_from_the_trump_article(bot: Bot) -> None:
    for question in ("When did Ruto speak with Rubio?", "What did Ruto discuss with Rubio?"):
        a = bot.ask(question)
        assert not a.abstained and {article(a, q.n) for q in a.quotes} <= {"003_", "004_"}, a.answer


def test_what_happened_in_a_period_is_the_lead_of_its_article(bot: Bot) -> None:
    a = bot.ask("What happened in January 2025?")
    assert not a.abstained and article(a) == "003_"
    assert a.citations[0].line_start == 1 and a.citations[0].date == "2025-01-28"
    assert bot.ask("What happened in March 2023?").abstained  # no article of that time


def test_the_latest_news_is_the_lead_of_the_newest_article(bot: Bot) -> None:
    a = bot.ask("What is the latest news about Kenya and the US?")
    assert not a.abstained and article(a) == "003_" and a.citations[0].line_start == 1


def test_without_the_reader_the_bot_still_answers_and_abstains(bot: Bot) -> None:
    a = bot.ask("How much did the Biden administration pledge for the Haiti mission?", reader="none")
    assert not a.abstained and "38.5 billion" in (a.answer or "")
    assert bot.ask("What is the capital of Peru?", reader="none").abstained


def test_qa_eval_and_the_bot_give_the_same_answer(bot: Bot) -> None:
    """One pipeline: what `qa eval` scores is what the bot says."""
    questions = ["When did Ruto speak with Rubio?", "What topics did Ruto and Trump discuss?",
                 "What is the capital of Peru?"]
    traces = run_traces([BenchQuestion(q, [], qid=str(n)) for n, q in enumerate(questions)], bot.load(), "hybrid",
                        k=bot.settings.k)
    for question, trace in zip(questions, traces, strict=True):
        assert trace.answer.to_json() == bot.ask(question).to_json()


# ---- in a conversation ------------------------------------------------------------------------------------

ON_TOPIC = ["What topics did Ruto and Trump discuss?", "Who did Ruto speak with on Friday?",
            "What did Ruto say about Haiti?"]


@pytest.mark.parametrize("question", ["What is the boiling point of mercury?", "How do I bake bread?"])
def test_an_off_topic_question_after_on_topic_turns_abstains_as_it_does_alone(bot: Bot, question: str) -> None:
    history = [bot.ask(q).turn() for q in ON_TOPIC]
    alone, in_context = bot.ask(question), bot.ask(question, history=history)
    assert alone.abstained and in_context.abstained and in_context.asked_as is None


def test_a_turn_after_an_abstention_inherits_nothing_from_it(bot: Bot) -> None:
    everest = bot.ask("How tall is Mount Everest?")
    assert everest.abstained
    a = bot.ask("What did he say about Haiti?", history=[bot.ask("Who did Ruto speak with on Friday?").turn(),
                                                           everest.turn()])
    assert a.asked_as is not None and "Everest" not in a.asked_as and "Trump" in a.asked_as


def test_a_reference_to_the_call_is_the_call_of_the_previous_turn(bot: Bot) -> None:
    first = bot.ask("What did Ruto and Rubio talk about?")
    a = bot.ask("When did that call take place?", history=[first.turn()])
    assert a.asked_as is not None and "Rubio" in a.asked_as
    assert not a.abstained and article(a) in {"003_", "004_"} and "Friday" not in (a.answer or "")


def test_an_ellipsis_repeats_the_previous_question_with_the_new_part(bot: Bot) -> None:
    first = bot.ask("What did Ruto discuss with Trump?")
    a = bot.ask("And with Rubio?", history=[first.turn()])
    assert a.asked_as == "What did Ruto discuss with Rubio?"
    assert not a.abstained and {article(a, q.n) for q in a.quotes} <= {"003_", "004_"}
