"""Whether a turn leans on the conversation, and the standalone question it stands for (no model)."""

from __future__ import annotations

import pytest

from qa.question.conversation import Turn, as_turn, resolve

TRUMP_CALL = Turn("Who did Ruto speak with on Friday?",
                  "President William Ruto had the first conversation with US President-elect Donald Trump on "
                  "Friday. [1]")
RUBIO_TALK = Turn("What did Ruto and Rubio talk about?",
                  "The discussions centered around strengthening bilateral ties and regional security. [1]")
ABSTAINED = Turn("How tall is Mount Everest?", None)


@pytest.mark.parametrize("question", ["What is the boiling point of mercury?", "How do I bake bread?",
                                      "Who did Ruto call in January 2025?",
                                      "What did Marco Rubio discuss with William Ruto?"])
def test_a_standalone_question_is_never_rewritten(question: str) -> None:
    r = resolve(question, [TRUMP_CALL, RUBIO_TALK])
    assert (r.searched, r.how, r.rewritten) == (question, "alone", False)


def test_an_abstained_turn_gives_no_context() -> None:
    assert resolve("What did he say about Haiti?", [ABSTAINED]).searched == "What did he say about Haiti?"
    # and the turn before it still does
    r = resolve("What did he say about Haiti?", [TRUMP_CALL, ABSTAINED])
    assert r.how == "reference" and "Mount Everest" not in r.searched and "Trump" in r.searched


def test_a_pronoun_is_resolved_to_the_answer_s_subject_first() -> None:
    r = resolve("What did he say about Haiti?", [TRUMP_CALL])
    assert r.how == "reference"
    assert r.searched == "What did President-elect Donald Trump say about Haiti?"


def test_they_is_the_people_of_the_previous_turn() -> None:
    r = resolve("When did they speak?", [RUBIO_TALK])
    assert r.searched == "When did Ruto and Rubio speak?"


def test_a_definite_reference_takes_the_people_of_the_previous_turn_not_an_older_one() -> None:
    r = resolve("When did that call take place?", [TRUMP_CALL, RUBIO_TALK])
    assert r.how == "reference"
    assert "Rubio" in r.searched and "Trump" not in r.searched


@pytest.mark.parametrize("question, expected", [
    ("And with Rubio?", "What did Ruto discuss with Rubio?"),
    ("What about Somalia?", "What did Kenya pledge to Somalia?"),
    ("Why?", "Why did Ruto discuss with Trump?"),
])
def test_an_ellipsis_is_the_previous_question_with_the_new_part(question: str, expected: str) -> None:
    previous = Turn("What did Kenya pledge to Haiti?" if "Somalia" in question else "What did Ruto discuss with Trump?",
                    "An answer. [1]")
    r = resolve(question, [previous])
    assert (r.searched, r.how) == (expected, "ellipsis")


def test_the_year_before_shifts_the_previous_question_s_year() -> None:
    r = resolve("And the year before?", [Turn("Who won the election in 2024?", "Trump won. [1]")])
    assert r.searched == "Who won the election in 2023?"


def test_only_the_last_turns_are_read() -> None:
    history = [TRUMP_CALL] + [ABSTAINED] * 6
    assert resolve("What did he say about Haiti?", history, turns=6).how == "alone"
    assert resolve("What did he say about Haiti?", history, turns=7).how == "reference"


def test_pairs_are_turns_too() -> None:
    assert as_turn(("Who?", "Him. [1]")) == Turn("Who?", "Him. [1]")
    assert as_turn(("Who?", None)).answer is None and as_turn(("Who?", "")).answer is None
    assert resolve("What did he say about Haiti?", [(TRUMP_CALL.question, TRUMP_CALL.answer)]).how == "reference"


def test_a_subject_and_an_object_pronoun_are_two_people() -> None:
    call = Turn("Who did Ruto speak with?", "Ruto spoke with Donald Trump. [1]", about=("Donald Trump", "Ruto"))
    assert resolve("Did he bring up Haiti with him?", [call]).searched == "Did Donald Trump bring up Haiti with Ruto?"


def test_a_pronoun_never_stands_for_a_name_the_question_gives() -> None:
    talk = Turn("Who did Ruto brief?", "Ruto updated Trump and Secretary of State Blinken. [1]",
                about=("Trump", "Secretary of State Blinken"))
    assert resolve("Did he and Trump talk about money?", [talk]).searched == \
        "Did Secretary of State Blinken and Trump talk about money?"


def test_these_days_is_a_time_not_a_reference() -> None:
    assert resolve("What is Blinken doing these days?", [RUBIO_TALK]).how == "alone"


def test_an_ellipsis_that_repeats_the_previous_words_changes_only_the_name() -> None:
    r = resolve("And the Trump call?", [Turn("What did the Rubio call highlight?", "Security. [1]")])
    assert r.searched == "What did the Trump call highlight?"
