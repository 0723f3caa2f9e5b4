"""Sentence splitting: where sentences end in news prose, and offsets that always point back into the text."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from qa.text.sentences import _ABBREVIATIONS, split, split_spans


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # sentences from the seeds, where abbreviations, initials and amounts hold full stops
        (
            "In a significant diplomatic exchange, Kenyan President William Ruto revealed through his verified "
            "social media accounts that he has spoken with U.S. President-Elect Donald J. Trump.",
            1,
        ),
        (
            "The Biden administration had supported this mission with a pledge of up to Ksh.38.5 billion, but "
            "with Trump’s impending leadership, the operation’s future could be at risk.",
            1,
        ),
        (
            "Trade and investment emerged as prominent topics in the call. President Ruto highlighted Kenya’s "
            "interest in expanding its trade relations with the United States.",
            2,
        ),
        ("Mr. Smith met Dr. Jones in St. Louis on Jan. 5 to sign it.", 1),
        ("Prices rose, e.g. for maize and wheat. Farmers noticed.", 2),
        ("Really? Yes! It is done… Next step.", 4),
        ("The vote was 3.5 per cent. It passed.", 2),
    ],
)
def test_sentence_boundaries(text: str, expected: int) -> None:
    sentences = split(text)
    assert len(sentences) == expected, sentences
    assert " ".join(sentences) == " ".join(text.split())


def test_closing_quote_stays_with_its_sentence() -> None:
    text = '"I briefed President Trump on the mission." Ruto added. He was pleased.'
    assert split(text) == ['"I briefed President Trump on the mission."', "Ruto added.", "He was pleased."]


def test_quoted_speech_from_seed_keeps_its_attribution() -> None:
    # 000_ line 17: the closing quote is typed as an opening one and followed by "Ruto stated on X."
    text = (
        "“I have had a telephone conversation with US President-Elect @realDonaldTrump. I congratulated him "
        "following his election as the 47th President of the United States of America. We discussed areas of "
        "mutual interest. “ Ruto stated on X."
    )
    sentences = split(text)
    assert sentences[0].endswith("@realDonaldTrump.")
    assert sentences[1].startswith("I congratulated him")
    assert sentences[-1].endswith("Ruto stated on X.")


def test_lower_case_after_full_stop_does_not_start_a_sentence() -> None:
    assert len(split("The talks ended at 5 p.m. and the leaders left.")) == 1


def test_blank_and_unpunctuated_text() -> None:
    assert split_spans("") == []
    assert split_spans("   \n\t ") == []
    assert split("  no full stop at all  ") == ["no full stop at all"]


_ALPHABET = st.sampled_from(
    list("abcdefgh ABCDEFG 0123 .!?…\"'”’)]([“‘,;\n\t") + ["Mr.", "U.S.", "e.g.", " Dr. ", "  ", ". ", "? "]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=80).map("".join))
def test_spans_are_ordered_disjoint_trimmed_and_cover_all_text(text: str) -> None:
    spans = split_spans(text)
    covered = [False] * len(text)
    previous_end = 0
    for s, e in spans:
        assert 0 <= previous_end <= s < e <= len(text)
        assert not text[s].isspace() and not text[e - 1].isspace()
        assert text[previous_end:s].strip() == ""  # only space between sentences
        for i in range(s, e):
            covered[i] = True
        previous_end = e
    assert text[previous_end:].strip() == ""
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())
    assert split(text) == [text[s:e] for s, e in spans]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.from_regex(r"[A-Z][a-z]{1,8}( [a-z]{1,8}){0,6}[.!?]", fullmatch=True), min_size=1, max_size=6))
def test_plain_sentences_are_found_one_by_one(sentences: list[str]) -> None:
    """Capitalised sentences ending in . ! or ? (and no abbreviations) are split exactly where they end."""
    for s in sentences:
        last = s[:-1].split()[-1].lower()
        assume(not (s.endswith(".") and (last in _ABBREVIATIONS or len(last) == 1)))  # "He met Dr." goes on
    text = " ".join(sentences)
    assert split(text) == sentences
