"""What an index holds, said before the first question: how many articles, the dates they span, and example
questions drawn from their titles, so a new user sees what can be asked."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from qa.index.contract import DocumentRecord

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATELINE = re.compile(r"^date \d{4}-\d{2}-\d{2}\s*", re.IGNORECASE)  # a plain-text article's date line
EXAMPLES = 3
MAX_WORDS = 12


@dataclass(frozen=True)
class Overview:
    articles: int
    first_date: str | None  # YYYY-MM-DD of the oldest dated article
    last_date: str | None
    examples: list[str]


def overview(records: Mapping[str, DocumentRecord], first_line: Callable[[str], str | None]) -> Overview:
    """The index's articles (by id) counted, their date range, and up to three example questions, newest
    articles first; `first_line(id)` reads an untitled article's first line, which stands for its title."""
    days = sorted(m.group(0) for r in records.values() if r.date and (m := _DAY.match(r.date)))
    return Overview(len(records), days[0] if days else None, days[-1] if days else None,
                    examples(records, first_line))


def examples(records: Mapping[str, DocumentRecord], first_line: Callable[[str], str | None],
             n: int = EXAMPLES) -> list[str]:
    """A question about each of the `n` newest articles, titled ones first, one per distinct subject."""
    newest = sorted(records, key=lambda i: (bool(records[i].title), records[i].date or "", records[i].source),
                    reverse=True)
    out: list[str] = []
    for article_id in newest:
        question = about(records[article_id].title or first_line(article_id) or "")
        if question and question not in out:
            out.append(question)
        if len(out) == n:
            break
    return out


def about(title: str) -> str:
    """A question asking what the articles say of `title` (a headline, or an article's first words)."""
    words = _DATELINE.sub("", " ".join(title.split())).strip(" .!?:;,")
    if len(words.split()) > MAX_WORDS:
        words = " ".join(words.split()[:MAX_WORDS]) + "…"
    return f"What do the articles say about “{words}”?" if len(words.split()) >= 2 else ""
