"""The answer-type tagger: what a question asks for and whether a sentence holds it."""

from __future__ import annotations

import pytest

from qa.answer_types import expected_type, has_type


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many Kenyan police officers were deployed to Haiti?", "number"),
        ("How much did the Biden administration pledge?", "number"),
        ("When did the mission begin?", "time"),
        ("On what date were the US elections held?", "time"),
        ("In which year did Rollo die?", "time"),
        ("Who did Ruto call in January 2025?", None),
        ("What does STIP stand for?", None),
    ],
)
def test_expected_type(question: str, kind: str | None) -> None:
    assert expected_type(question) == kind


@pytest.mark.parametrize(
    ("sentence", "kind", "has"),
    [
        ("The Biden administration pledged up to Ksh.38.5 billion.", "number", True),
        ("The visit lasted four days.", "number", True),
        ("The leaders addressed the mission in Haiti.", "number", False),
        ("The mission began in June.", "time", True),
        ("In a statement on Monday, he outlined the topics.", "time", True),
        ("The US elections held on Nov 05.", "time", True),
        ("The visit lasted four days.", "time", False),  # a duration is not a when
        ("Ruto praised the partnership.", "time", False),
    ],
)
def test_has_type(sentence: str, kind: str, has: bool) -> None:
    assert has_type(sentence, kind) is has
