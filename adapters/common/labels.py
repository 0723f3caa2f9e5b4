"""How a citation names what it cites, the same in every front end (each only styles it): the file and its lines,
a PDF's page, a feed entry's title."""

from __future__ import annotations

from qa.answering.answer import Citation
from qa.documents.feeds import ENTRY_MARK, feed_of


def lines(c: Citation, word: bool = False) -> str:
    """`8` or `8-9` after a file name; with `word`, `line 8` or `lines 8–9`."""
    if c.line_start == c.line_end:
        return f"line {c.line_start}" if word else f"{c.line_start}"
    return f"lines {c.line_start}–{c.line_end}" if word else f"{c.line_start}-{c.line_end}"


def entry(c: Citation) -> str | None:
    """A feed entry's name, its title or else its id; None for a citation of a file that is not a feed."""
    if ENTRY_MARK not in c.source:
        return None
    return c.title or c.source.split(ENTRY_MARK, 1)[1]


def where(c: Citation) -> str:
    """`seeds/002.txt:8`; `report.pdf p. 3, lines 12–14`; `news.rss, entry “Port expands”, line 4` (a feed
    entry's lines are the feed file's, where its text is)."""
    name = entry(c)
    if name is not None:
        return f"{feed_of(c.source)}, entry “{name}”, {lines(c, word=True)}"
    if c.page is not None:
        return f"{c.source} p. {c.page}, {lines(c, word=True)}"
    return f"{c.source}:{lines(c)}"


def title_shown(c: Citation) -> str | None:
    """The title to show beside the place: none for a feed entry, whose title names the entry already."""
    return None if entry(c) is not None else c.title
