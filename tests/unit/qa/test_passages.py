"""Passages: whole sentences of one paragraph, under the word limit, that know exactly where they came from."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.documents import load_file, parse_text, word_count
from qa.passages import MAX_WORDS, Passage, split_document
from tests.support.paths import SEEDS

SEED_FILES = sorted(SEEDS.glob("*.txt"))


def check_passage(p: Passage, text: str, max_words: int = MAX_WORDS) -> None:
    """What every passage promises about its offsets, lines, sentences and size."""
    assert text[p.char_start:p.char_end] == p.text
    assert p.text and p.text == p.text.strip()
    lines = text.splitlines()
    assert 1 <= p.line_start <= p.line_end <= len(lines)
    # the passage lies within lines line_start..line_end of the file
    line_offsets = [0]
    for line in text.splitlines(keepends=True):
        line_offsets.append(line_offsets[-1] + len(line))
    assert line_offsets[p.line_start - 1] <= p.char_start < p.char_end <= line_offsets[p.line_end]
    # sentence spans are ordered, inside the passage, and together span it
    spans = list(p.sentences)
    assert spans and spans[0][0] == 0 and spans[-1][1] == len(p.text)
    for (s1, e1), (s2, e2) in pairwise(spans):
        assert s1 < e1 <= s2 < e2
        assert p.text[e1:s2].strip() == ""
    if len(spans) > 1:
        assert word_count(p.text) <= max_words


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name[:4])
def test_seed_passages_point_at_their_source(path: Path) -> None:
    doc = load_file(path)
    passages = split_document(doc)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert passages
    for p in passages:
        check_passage(p, doc.text)
        assert p.text in lines[p.line_start - 1]  # the cited line of the file holds the text
        assert word_count(p.text) < 100
        assert (p.source, p.title, p.date) == (doc.source, doc.title, doc.date)


def test_seed_passages_keep_every_sentence_once() -> None:
    for path in SEED_FILES:
        doc = load_file(path)
        passages = split_document(doc)
        assert " ".join(p.text for p in passages).split() == " ".join(b.text for b in doc.blocks).split()


def test_pledge_passage_of_002_is_line_8() -> None:
    doc = load_file(SEEDS / "002_55bcac6e1997eb79.txt")
    (p,) = [p for p in split_document(doc) if "38.5 billion" in p.text]
    assert p.line_start == p.line_end == 8
    assert p.sentence_texts() == [p.text]


def test_long_paragraph_becomes_several_passages_of_whole_sentences() -> None:
    sentences = [f"Sentence number {i} says that the mission in Haiti needs more support from partners." for i in range(30)]
    text = "Haiti Mission Update\n\n" + " ".join(sentences) + "\n"
    doc = parse_text("long.txt", text)
    passages = split_document(doc)
    assert len(passages) >= 5
    assert [s for p in passages for s in p.sentence_texts()] == sentences
    for p in passages:
        check_passage(p, text)
        assert word_count(p.text) <= MAX_WORDS
        assert p.line_start == 3
    # no passage is a stub: the last one is balanced against the one before
    sizes = [word_count(p.text) for p in passages]
    assert min(sizes) >= MAX_WORDS // 3


def test_sentence_longer_than_the_limit_stands_alone_and_whole() -> None:
    giant = "The report " + " ".join(["listed"] * 150) + " many things."
    text = f"Report Of The Day\n\nShort opening sentence here. {giant} Short closing sentence here.\n"
    doc = parse_text("giant.txt", text)
    passages = split_document(doc, max_words=100)
    assert giant in [p.text for p in passages]
    for p in passages:
        check_passage(p, text, max_words=100)


def test_passage_round_trips_through_dict() -> None:
    for p in split_document(load_file(SEED_FILES[3])):
        assert Passage.from_dict(p.to_dict()) == p


_WORDS = st.sampled_from(["Ruto", "Haiti", "mission", "the", "U.S.", "Mr.", "trade", "said", "Kenya", "37.5", "e.g.",
                          "talks,", "“quoted", "words”", "(MSS)", "peace", "security", "of", "and", "in"])
_SENTENCE = st.builds(
    lambda first, rest, end: " ".join([first, *rest]) + end,
    st.sampled_from(["The", "President", "Kenya", "They", "Rubio", "In", "“We"]),
    st.lists(_WORDS, max_size=25),
    st.sampled_from([".", "?", "!", ".”", "…", ""]),
)
_PARAGRAPH = st.lists(_SENTENCE, min_size=1, max_size=12).map(" ".join)
_LINE = st.one_of(
    _PARAGRAPH,
    st.sampled_from(["", "", "Section Heading", "File image of President Ruto", "Read Also:", "- a bullet point here.",
                     "date 2025-01-28 Opening words.", "  indented paragraph text.  "]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_LINE, min_size=1, max_size=15), st.sampled_from(["\n", "\r\n"]), st.integers(min_value=10, max_value=100))
def test_random_documents_give_consistent_passages(lines: list[str], newline: str, max_words: int) -> None:
    text = newline.join(lines) + newline
    doc = parse_text("random.txt", text)
    for b in doc.blocks:
        assert text[b.char_start:b.char_end] == b.text
    passages = split_document(doc, max_words=max_words)
    for p in passages:
        check_passage(p, text, max_words=max_words)
    # passages follow the document order and never overlap
    for a, b in pairwise(passages):
        assert a.char_end <= b.char_start
        assert a.line_start <= b.line_start
    # together the passages hold every word of every block
    assert " ".join(p.text for p in passages).split() == " ".join(b.text for b in doc.blocks).split()
