"""Properties of passages read from real files, and of the index any history of ingests leaves.

test_passages.py checks offsets on documents parsed from strings of plain lines. Here documents go through
`load_file` from disk, with what real files hold: a byte-order mark, CRLF line ends, hard-wrapped paragraphs,
tabs and non-breaking spaces, accents, combining marks, other scripts and emoji, and Markdown markup. Line
numbers are checked against the lines of the file as `grep -n`, `sed -n` and editors count them (split at "\\n").
"""

from __future__ import annotations

import bisect
import re
import shutil
import tempfile
import textwrap
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from qa.documents import load_file
from qa.errors import SourceError
from qa.index import local as store
from qa.index.local import ingest_paths
from qa.index.local import writer as local_writer
from qa.passages import MAX_WORDS, Passage, split_document
from tests.support.index_checks import SEED_SENTENCES, difference, snapshot
from tests.support.tiny_embedder import TinyEmbedder

# ---- documents as files hold them --------------------------------------------------------------------------

_FIRST = st.sampled_from(["The", "President", "Kenya", "They", "Rubio", "Élodie", "Über", "“We", "In", "Ōsaka", "37"])
_WORD = st.sampled_from([
    "Ruto", "Haiti", "mission", "the", "talks,", "Kenya", "said", "U.S.", "Mr.", "Ksh.38.5", "e.g.", "(MSS)", "and",
    "café", "naïve", "Zürich", "São", "Ngũgĩ", "Straße", "東京", "Ελλάδα", "Москва", "مرحبا", "🙂", "e\u0301té",
    "“quoted", "words”", "—", "ﬁnance", "peace", "of", "in", "security",
])
_SPACE = st.sampled_from([" ", " ", " ", " ", "  ", "\t", "\u00a0", "\u2009", "\u3000"])
_END = st.sampled_from([".", ".", "?", "!", ".”", "…", ""])


@st.composite
def sentences(draw: st.DrawFn) -> str:
    words = draw(st.lists(_WORD, max_size=18))
    return draw(_FIRST) + "".join(draw(_SPACE) + w for w in words) + draw(_END)


_NO_MARKUP = st.just("")


@st.composite
def paragraph(draw: st.DrawFn, inline: st.SearchStrategy[str] = _NO_MARKUP) -> list[str]:
    """A paragraph as lines: one long line, or hard-wrapped at a margin; maybe indented, maybe trailing spaces."""
    text = ""
    for s in draw(st.lists(sentences(), min_size=1, max_size=8)):
        text += (draw(_SPACE) if text else "") + draw(inline) + s
    if draw(st.booleans()):
        width = draw(st.integers(min_value=40, max_value=80))
        lines = textwrap.wrap(text, width, expand_tabs=False, replace_whitespace=False, break_long_words=False,
                              break_on_hyphens=False) or [text]
    else:
        lines = [text]
    pad = st.sampled_from(["", "", "", " ", "  ", "\t"])
    return [draw(pad) + line + draw(pad) for line in lines]


_OTHER_LINES = st.sampled_from([
    ["Section Heading"], ["Ōsaka Summit Notes"], ["File image of President Ruto"], [""], ["   "], ["\t"],
    ["Read Also:", "Ruto Speaks With Trump", "Haiti Mission Update"], ["- a bullet point here."],
    ["1. The first point of the list."], ["• Another bullet, with words."],
])


@st.composite
def text_documents(draw: st.DrawFn, inline: st.SearchStrategy[str] = _NO_MARKUP,
                   extra_lines: st.SearchStrategy[list[str]] = _OTHER_LINES) -> str:
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append("date 2025-01-28 " + draw(sentences()))
    if draw(st.booleans()):
        lines += [draw(st.sampled_from(["Ruto Speaks With Trump", "Haiti: A Mission Update", "東京 Talks"])), ""]
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        lines += draw(st.one_of(paragraph(inline), extra_lines))
        if draw(st.integers(0, 3)):  # usually a blank line between paragraphs, sometimes none
            lines.append("")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines) + draw(st.sampled_from([newline, ""]))


# ---- what a passage promises about where it came from --------------------------------------------------------

def load(text: str, suffix: str, bom: bool = False, max_words: int = MAX_WORDS) -> tuple[str, list[Passage]] | None:
    """Write `text` to a file, read it back as the product does; the file's text and its passages (a small
    `max_words` cuts the generated paragraphs into several passages, as long real ones are)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"article{suffix}"
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
        try:
            doc = load_file(path)
        except SourceError:
            return None  # nothing in it reads as article text
    assert doc.text == text  # the text the offsets point into is the file's, byte-order mark aside
    return doc.text, split_document(doc, max_words=max_words)


def file_line_starts(text: str) -> list[int]:
    return [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]


def check_lines_and_sentences(text: str, passages: list[Passage]) -> None:
    starts = file_line_starts(text)
    lines = text.split("\n")

    def line_of(offset: int) -> int:  # 1-based number of the file line holding text[offset]
        return bisect.bisect_right(starts, offset)

    for p in passages:
        assert p.text and p.text == p.text.strip()
        # the cited lines hold the passage, and are all lines of its paragraph: none of them blank
        assert 1 <= p.line_start <= p.line_end <= len(lines), (p.line_start, p.line_end, len(lines))
        assert p.line_start <= line_of(p.char_start) and line_of(p.char_end - 1) <= p.line_end, (
            f"{p.text!r} lies on lines {line_of(p.char_start)}-{line_of(p.char_end - 1)}, "
            f"cited as {p.line_start}-{p.line_end}")
        assert all(lines[n - 1].strip() for n in range(p.line_start, p.line_end + 1)), (p.line_start, p.line_end)
        # sentences cover the passage in order, without overlap, each trimmed, only space between them
        spans = list(p.sentences)
        assert spans and spans[0][0] == 0 and spans[-1][1] == len(p.text)
        for s, e in spans:
            assert 0 <= s < e <= len(p.text) and p.text[s:e] == p.text[s:e].strip()
        for (_, e1), (s2, _) in pairwise(spans):
            assert e1 <= s2 and not p.text[e1:s2].strip()
    for a, b in pairwise(passages):
        assert a.char_end <= b.char_start and a.line_start <= b.line_start


_MAX_WORDS = st.integers(min_value=8, max_value=MAX_WORDS)


@settings(max_examples=300, deadline=None)
@given(text_documents(), st.booleans(), _MAX_WORDS)
def test_text_file_passages_are_exactly_their_source_text(text: str, bom: bool, max_words: int) -> None:
    loaded = load(text, ".txt", bom, max_words)
    if loaded is None:
        return
    source, passages = loaded
    for p in passages:
        assert source[p.char_start:p.char_end] == p.text
    check_lines_and_sentences(source, passages)


# Characters Python's str.splitlines() breaks lines at, though no file tool does: a form feed (page breaks in
# old text files), vertical tab, the separators U+2028/U+2029 (text pasted from web pages), NEL U+0085.
_NOT_A_LINE_BREAK = st.sampled_from(["\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])


@settings(max_examples=100, deadline=None)
@given(text_documents(inline=st.one_of(_NO_MARKUP, _NOT_A_LINE_BREAK.map(lambda c: c + " "))), _MAX_WORDS)
@example("Kenya Talks\n\nThe president spoke.\x0cHe left.\n\nThe minister answered the questions.\n", MAX_WORDS)
def test_line_numbers_count_only_newlines(text: str, max_words: int) -> None:
    loaded = load(text, ".txt", max_words=max_words)
    if loaded is not None:
        check_lines_and_sentences(*loaded)


# ---- Markdown: the offsets cover the passage's source, markup included ---------------------------------------

_MARKUP = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|[*_`]+")
_INLINE_MARKUP = st.sampled_from(["", "", "**Note:** ", "*Kenya* ", "`code` ", "[Link text](https://example.org/a) ",
                                  "![a photo](img.png) ", "__Bold__ "])
_MD_LINES = st.sampled_from([
    ["# Section Heading"], ["## Haiti"], ["- a bullet point here."], ["* a starred bullet, with words."],
    ["1. The **first** point."], [""], ["> A quoted line."],
])


def markdown_text(body: str, front_matter: bool) -> str:
    head = "---\ntitle: \"Ruto and Rubio\"\ndate: 2025-01-28\n---\n" if front_matter else ""
    return head + body


@settings(max_examples=150, deadline=None)
@given(text_documents(inline=_INLINE_MARKUP, extra_lines=_MD_LINES), st.booleans(), _MAX_WORDS)
@example("# Title here\n\nFirst **bold** sentence here. Second sentence is here. Third one.\n", False, MAX_WORDS)
def test_markdown_passage_offsets_cover_their_source(body: str, front_matter: bool, max_words: int) -> None:
    loaded = load(markdown_text(body, front_matter), ".md", max_words=max_words)
    if loaded is None:
        return
    source, passages = loaded
    for p in passages:
        span = source[p.char_start:p.char_end]
        assert _MARKUP.sub(lambda m: m.group(1) or "", span).split() == p.text.split(), (span, p.text)
    check_lines_and_sentences(source, passages)


# ---- any history of ingests ends with the index a fresh build gives -------------------------------------------
#
# tests/test_ingest.py (IngestMachine) compares an edited index with a model of a fresh build (split_document
# and the tiny embedder's vectors, keyed by source and offset). This compares it with a real fresh build into a
# new index, on everything the store keeps: the document records (hash, title, date, passage count), each
# document's passages in order, and every vector. The interleaving of documents in the rows is not compared: an
# incremental ingest appends what changed after what it kept (a segment store orders by segment), and nothing
# promises one order; within a document the order matters and is compared.

_HEADLINES = st.sampled_from(["Ruto Speaks With Trump", "Haiti Mission Update", "Trade Talks", "Untitled"])
_ARTICLE = st.builds(lambda title, paras: title + "\n\n" + "\n\n".join(paras) + "\n", _HEADLINES,
                     st.lists(st.lists(st.sampled_from(SEED_SENTENCES), min_size=1, max_size=3).map(" ".join),
                              min_size=1, max_size=4))
_NAMES = ["a.txt", "b.md", "sub/c.txt", "sub/deeper/d.txt", "sub/e.md"]
_STEP = st.tuples(
    st.dictionaries(st.sampled_from(_NAMES), st.one_of(st.none(), _ARTICLE), max_size=3),  # None deletes
    st.sampled_from(["folder", "folder", "one file", "rebuild"]),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_STEP, min_size=1, max_size=5), _ARTICLE, st.booleans(), st.data())
def test_any_history_of_ingests_ends_as_a_fresh_build(steps: list[tuple[dict[str, str | None], str]],
                                                       outside: str, many_segments: bool,
                                                       data: st.DataObject) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="qa-history-"))
    patch = pytest.MonkeyPatch()
    if many_segments:
        # A store that merges a small index into one segment at every ingest never has an update leave
        # superseded passages behind in an older segment; make this one keep its segments (up to three) as a
        # large index would, so the comparison covers what lives on in old segments. (No-ops for a store
        # without these settings.)
        patch.setattr(local_writer, "MERGE_ALL", 0)
        patch.setattr(local_writer, "MAX_SEGMENTS", 3)
    try:
        folder, index, tiny = tmp / "corpus", tmp / "index", TinyEmbedder()
        folder.mkdir()
        elsewhere = tmp / "elsewhere.txt"  # a document of another folder shares the index throughout
        elsewhere.write_text(outside, encoding="utf-8")
        ingest_paths([elsewhere], index, tiny)
        for changes, how in steps:
            for name, content in changes.items():
                path = folder / name
                if content is None:
                    path.unlink(missing_ok=True)
                else:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(content, encoding="utf-8")
            files = sorted(p for p in folder.rglob("*") if p.is_file())
            if how == "one file" and files:
                ingest_paths([data.draw(st.sampled_from(files))], index, tiny)
            elif how == "rebuild":
                ingest_paths([folder, elsewhere], index, tiny, rebuild=True)
            else:
                ingest_paths([folder], index, tiny)
        ingest_paths([folder], index, tiny)  # whatever came before, the folder is now ingested as it is

        fresh = tmp / "fresh"
        ingest_paths([elsewhere, folder], fresh, TinyEmbedder())
        assert store.exists(index) and store.exists(fresh)
        assert difference(snapshot(index), snapshot(fresh)) is None
    finally:
        patch.undo()
        shutil.rmtree(tmp, ignore_errors=True)
