"""How a question is read from its words alone: the asking part, the kind of answer, names, time, intent."""

from __future__ import annotations

import pytest

from qa.question.understanding import asking_part, names_in, understand


def test_a_preamble_is_split_from_the_part_that_asks() -> None:
    preamble, asking = asking_part("A lunar lander embarked on a historic journey to the moon this week. "
                                   "What is the name of the spacecraft?")
    assert preamble == "A lunar lander embarked on a historic journey to the moon this week."
    assert asking == "What is the name of the spacecraft?"


def test_a_clause_opened_by_a_question_word_after_a_comma_is_the_asking_part() -> None:
    assert asking_part("According to the statement, who commented on the call?") == (
        "According to the statement", "who commented on the call?")
    # one clause: the question word opens the question itself
    assert asking_part("How many officers, and who led them?")[0] == ""


@pytest.mark.parametrize("question, kind", [
    ("Who did Ruto speak with on Friday?", "person"),
    ("Which State Department spokesperson commented on the call?", "person"),
    ("Where did Ruto and Biden meet?", "place"),
    ("Which country will take over the Haiti mission?", "place"),
    ("When did Ruto speak with Rubio?", "time"),
    ("On what day did the call take place?", "time"),
    ("How many officers did Kenya deploy?", "number"),
    ("How much did the Biden administration pledge?", "number"),
    ("What does STIP stand for?", "expansion:STIP"),
    ("Why did Ruto call Trump?", None),
])
def test_the_kind_of_answer_asked_for(question: str, kind: str | None) -> None:
    assert understand(question).answer_kind == kind


def test_names_are_the_capitalised_runs_after_the_first_word_but_not_months_or_days() -> None:
    assert names_in("When did William Ruto speak with Marco Rubio in January?") == ("William Ruto", "Marco Rubio")
    assert names_in("Who called on Monday?") == ()


def test_a_list_question_asks_for_several_things() -> None:
    assert understand("What topics did Ruto and Trump discuss?").several
    assert not understand("Who did Ruto call?").several


def test_a_period_named_in_the_question_is_its_time() -> None:
    q = understand("Who did Ruto call in January 2025?")
    assert (q.time.start, q.time.end) == ("2025-01-01", "2025-01-31")
    assert q.intent is None


def test_what_happened_in_a_period_and_the_latest_news_are_intents() -> None:
    assert understand("What happened in January 2025?").intent == "event"
    assert understand("What happened?").intent is None  # no period: an ordinary question
    assert understand("What is the latest news about Kenya and the US?").intent == "latest"


def test_the_standalone_form_is_what_is_read() -> None:
    q = understand("When was that?", "When did Ruto speak with Rubio?")
    assert q.text == "When was that?" and q.asked_as == "When did Ruto speak with Rubio?"
    assert q.answer_kind == "time" and q.names == ("Ruto", "Rubio")
    assert understand("When did Ruto speak with Rubio?").asked_as is None
