"""The answer-type tagger: what a question asks for and whether a sentence holds it."""

from __future__ import annotations

import pytest

from qa.text.answer_types import asks_for_several, expected_type, has_type


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many Kenyan police officers were deployed to Haiti?", "number"),
        ("How much did the Biden administration pledge?", "number"),
        ("When did the mission begin?", "time"),
        ("On what date were the US elections held?", "time"),
        ("In which year did Rollo die?", "time"),
        ("Who did Ruto call in January 2025?", None),
        ("What did Ruto say about the STIP?", None),
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


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What does STIP stand for?", "expansion:STIP"),
        ("What is NATO short for?", "expansion:NATO"),
        ("What is the full name of the MSS?", "expansion:MSS"),
        ("What does the STIP agreement seek?", None),
    ],
)
def test_expected_expansion(question: str, kind: str | None) -> None:
    assert expected_type(question) == kind


@pytest.mark.parametrize(
    ("sentence", "acronym", "has"),
    [
        ("Ruto urged finalising the Strategic Trade and Investment Partnership (STIP) with the US.", "STIP", True),
        ("The STIP (Strategic Trade and Investment Partnership) talks resume.", "STIP", True),
        ("The United Nations-led Multinational Security Support (MSS) mission in Haiti.", "MSS", True),
        ("We discussed the need to conclude the STIP agreement.", "STIP", False),
        ("Kenya signed the trade pact (STIP) in May.", "STIP", False),
    ],
)
def test_an_expansion_is_the_long_form_beside_the_acronym(sentence: str, acronym: str, has: bool) -> None:
    assert has_type(sentence, f"expansion:{acronym}") is has


@pytest.mark.parametrize(
    ("question", "several"),
    [
        ("What topics did Ruto and Trump discuss?", True),
        ("In which areas have Kenya and the US cooperated?", True),
        ("Which conflicts did they review?", True),
        ("Which peace initiatives did France back Kenya's participation in?", True),
        ("What kinds of American support could help stabilize Haiti?", True),
        ("What are the benefits of the deal?", True),
        ("What does STIP stand for?", False),
        ("Which US Secretary of State did Ruto talk to?", False),
        ("What percentage of Victorians are Christian?", False),
        ("What hypothesis is associated with the class P?", False),
        ("What did Biden say?", False),
    ],
)
def test_asks_for_several(question: str, several: bool) -> None:
    assert asks_for_several(question) is several
