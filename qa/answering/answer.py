"""The answer a question gets: the quoted sentence(s), or an abstention, and the numbered citations.

One plain object that every front end renders its own way (terminal, Slack, JSON, HTTP).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from qa.documents.feeds import ENTRY_MARK, feed_of
from qa.documents.files import shown_name
from qa.question.conversation import Turn


@dataclass
class Citation:
    """One cited passage, with the answering sentence located inside it."""

    n: int
    source: str
    title: str | None
    date: str | None
    line_start: int
    line_end: int
    text: str
    score: float
    also_in: list[str]
    section: str | None = None
    highlight: tuple[int, int] | None = None  # span of the answering sentence within `text`
    page: int | None = None  # a PDF's page; the lines count within it
    url: str | None = None  # a feed entry's link
    stale: bool = False  # the file changed or vanished since it was indexed
    file: str = ""  # the file on disk, to check whether it changed (not shown)
    file_hash: str | None = None  # its hash when indexed
    source_id: str = ""  # the article's id, by which a front end asks for the whole article (not a path)

    def lines(self, word: bool = False) -> str:
        """`8` or `8-9` after a file name; with `word`, `line 8` or `lines 8–9`."""
        if self.line_start == self.line_end:
            return f"line {self.line_start}" if word else f"{self.line_start}"
        return f"lines {self.line_start}–{self.line_end}" if word else f"{self.line_start}-{self.line_end}"

    @property
    def entry(self) -> str | None:
        """A feed entry's name, its title or else its id; None for a citation of a file that is not a feed."""
        if ENTRY_MARK not in self.source:
            return None
        return self.title or self.source.split(ENTRY_MARK, 1)[1]

    @property
    def where(self) -> str:
        """How the citation names what it cites, the same in every view: `seeds/002.txt:8`; `report.pdf p. 3,
        lines 12–14`; `news.rss, entry “Port expands”, line 4` (a feed entry's lines are the feed file's)."""
        name = self.entry
        if name is not None:
            return f"{feed_of(self.source)}, entry “{name}”, {self.lines(word=True)}"
        if self.page is not None:
            return f"{self.source} p. {self.page}, {self.lines(word=True)}"
        return f"{self.source}:{self.lines()}"

    @property
    def title_shown(self) -> str | None:
        """The title to show beside the place: none for a feed entry, whose title names the entry already."""
        return None if self.entry is not None else self.title

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "source": self.source,
            "title": self.title,
            "date": self.date,
            "line_start": self.line_start,
            "line_end": self.line_end,
            "text": self.text,
            "score": round(self.score, 4),
            "also_in": list(self.also_in),
            "page": self.page,
            "url": self.url,
            "stale": self.stale,
        }


@dataclass(frozen=True)
class Quote:
    """One quoted sentence of an answer, word for word, with the number of the citation it comes from and,
    when the question asks for a name, a place, a time or a number, the span of the answer inside it."""

    text: str
    n: int
    answer_span: tuple[int, int] | None = None  # offsets into `text`

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "n": self.n, "answer_span": list(self.answer_span) if self.answer_span else None}


@dataclass
class Answer:
    """The result of one question: one object that every front end renders its own way."""

    question: str
    answer: str | None
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    nearest: list[Citation] = field(default_factory=list)  # shown on abstention, "not an answer"
    asked_as: str | None = None  # the question as rewritten from the conversation, if it was
    quotes: list[Quote] = field(default_factory=list)  # the quoted sentences, in the order of `answer`
    about: tuple[str, ...] = ()  # what the answer names as the answer (a who/which question's person), for follow-ups

    def __str__(self) -> str:
        """The answer as plain text: the quoted sentences with their [n] markers, then each citation on a line
        (an abstention says so)."""
        if self.abstained:
            return "The articles do not answer this question."
        lines = [self.answer or ""]
        lines += [" · ".join(x for x in (f"[{c.n}] {c.where}", c.title_shown, c.date) if x) for c in self.citations]
        return "\n".join(lines)

    def turn(self) -> Turn:
        """This question and answer as a turn of the conversation, for the follow-ups after it."""
        return Turn(self.question, None if self.abstained else self.answer, self.asked_as, self.about)

    @property
    def reported_in(self) -> list[str]:
        """Every article that carries the answering passage (the cited one first)."""
        if self.abstained or not self.citations:
            return []
        first = self.citations[0]
        return [first.source, *first.also_in]

    def to_json(self) -> dict[str, Any]:
        """The `--json` contract: exactly question, answer, abstained, citations, quotes and answer_spans."""
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
            "quotes": [q.to_json() for q in self.quotes],
            "answer_spans": [list(q.answer_span) if q.answer_span else None for q in self.quotes],
        }


def display_source(source: str) -> str:
    """A path as the user would type it: relative to the working folder when inside it (and as every view
    shows a name: `qa.documents.files.shown_name`)."""
    if os.path.isabs(source):
        rel = os.path.relpath(source)
        return shown_name(rel if not rel.startswith("..") else source)
    return shown_name(source)
