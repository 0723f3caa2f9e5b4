"""One view of an answer, which every front end only styles: the headline or the abstention, how the question
was taken, each citation's location and heading, whether the answer quotes it (only then is its sentence
highlighted), and the nearest passages an abstention shows. The sentences every front end says are here once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from qa.answering.answer import Answer, Citation
from qa.documents.feeds import feed_of

ABSTAINED = "The articles do not answer this question."
NEAREST_NOTE = "Nearest passages, not an answer:"
NEAREST_SHOWN = 2  # the nearest passages an abstention shows
STALE = "changed since indexed — run qa ingest"
_MARKER = re.compile(r"\[(\d+)\]")
_LINK = re.compile(r"https?://", re.IGNORECASE)


def lines_of(c: Citation) -> str:
    """`line 4` or `lines 4–6`, after the page of a PDF: `p. 2, line 4`."""
    lines = f"line {c.line_start}" if c.line_start == c.line_end else f"lines {c.line_start}–{c.line_end}"
    return f"p. {c.page}, {lines}" if c.page is not None else lines


@dataclass(frozen=True)
class CitationView:
    """A citation as every front end shows it."""

    citation: Citation
    quoted: bool  # the answer quotes it: its sentence is highlighted

    @property
    def n(self) -> int:
        return self.citation.n

    @property
    def location(self) -> str:
        """`seeds/003_….txt, line 1`: the file (a feed entry's feed) and where in it."""
        return f"{feed_of(self.citation.source)}, {lines_of(self.citation)}"

    @property
    def heading(self) -> str:
        """The article's title, or its location when it has none."""
        title = " ".join((self.citation.title or "").split())
        return title or self.location

    @property
    def highlight(self) -> tuple[int, int] | None:
        """The quoted sentence's span in the passage, only when the answer quotes it."""
        return self.citation.highlight if self.quoted else None

    @property
    def link(self) -> str | None:
        """A feed entry's link, when it is one a reader can follow (http or https)."""
        url = self.citation.url
        return url if url and _LINK.match(url) else None


@dataclass(frozen=True)
class AnswerView:
    """An answer as every front end shows it."""

    answer: Answer
    citations: list[CitationView]
    nearest: list[CitationView]  # an abstention's nearest passages, at most NEAREST_SHOWN

    @property
    def headline(self) -> str:
        return ABSTAINED if self.answer.abstained else (self.answer.answer or "")

    @property
    def taken_as(self) -> str | None:
        return self.answer.asked_as


def answer_pieces(answer: Answer) -> list[tuple[str, bool]]:
    """The answer's text in order, in pieces that join back to it, each marked True when it is the part of a
    quote that answers (the name, place, time or number asked for): the part every front end emphasises."""
    if answer.abstained or not answer.answer:
        return []
    pieces: list[tuple[str, bool]] = []
    for i, q in enumerate(answer.quotes):
        if i:
            pieces.append((" ", False))
        if q.answer_span:
            start, end = q.answer_span
            pieces += [(q.text[:start], False), (q.text[start:end], True), (q.text[end:], False)]
        else:
            pieces.append((q.text, False))
        pieces.append((f" [{q.n}]", False))
    if "".join(text for text, _ in pieces) != answer.answer:  # an answer not made of its quotes: nothing marked
        return [(answer.answer, False)]
    return [(text, marked) for text, marked in pieces if text]


def quoted_numbers(answer: Answer) -> set[int]:
    """The citations the answer quotes: those whose `[n]` it carries."""
    return set() if answer.abstained else {int(n) for n in _MARKER.findall(answer.answer or "")}


def answer_view(answer: Answer) -> AnswerView:
    quoted = quoted_numbers(answer)
    return AnswerView(answer, [CitationView(c, c.n in quoted) for c in answer.citations],
                      [CitationView(c, False) for c in answer.nearest[:NEAREST_SHOWN]] if answer.abstained else [])


def web_json(answer: Answer) -> dict[str, Any]:
    """The page's JSON (`view: "web"`): the `--json` object, and for each card its article's id, section,
    heading, location, whether it is quoted and the quoted sentence's span (only then), the nearest passages of
    an abstention, how the question was taken, what the answer named, the headline (the answer, or the
    abstention's sentence) and the answer in pieces with the part that answers marked."""
    view = answer_view(answer)

    def card(c: CitationView) -> dict[str, Any]:
        return {**c.citation.to_json(), "id": c.citation.source_id, "section": c.citation.section,
                "heading": c.heading, "location": c.location, "quoted": c.quoted,
                "highlight": list(c.highlight) if c.highlight else None, "url": c.link}

    return {**answer.to_json(), "citations": [card(c) for c in view.citations],
            "nearest": [card(c) for c in view.nearest], "asked_as": view.taken_as, "about": list(answer.about),
            "headline": view.headline,
            "pieces": [{"text": text, "answer": marked} for text, marked in answer_pieces(answer)]}
