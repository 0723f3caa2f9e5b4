"""Saved web pages: the article's main text, title and date (trafilatura), and the source line of each block."""

from __future__ import annotations

import bisect
import html
import re

from qa.documents.model import Block, Document

_RAW_TEXT_OPEN = re.compile(r"<(script|style)\b", re.I)
_RAW_TEXT_CLOSE = {"script": re.compile(r"</script\s*>", re.I), "style": re.compile(r"</style\s*>", re.I)}
_TAG = re.compile(r"<[^<>]*>")


def visible_text(raw: str) -> str:
    """The text of an HTML page outside its tags, scripts and styles, a line per run of text.

    Written as one forward scan (not one regular expression) so that a page full of unclosed
    `<script` or `<` takes linear time.
    """
    parts: list[str] = []
    pos = 0
    while (m := _RAW_TEXT_OPEN.search(raw, pos)) is not None:
        parts.append(raw[pos:m.start()])
        close = _RAW_TEXT_CLOSE[m.group(1).lower()].search(raw, m.end())
        if close is None:  # an unclosed script runs to the end of the page
            pos = len(raw)
            break
        pos = close.end()
    parts.append(raw[pos:])
    text = html.unescape(_TAG.sub("\n", "\n".join(parts)))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def html_to_text(raw: str) -> tuple[str, str | None, str | None]:
    """Main text, title and date of an HTML page (trafilatura when it finds an article)."""
    import trafilatura  # heavy import, only for HTML

    text = trafilatura.extract(raw, include_comments=False, include_tables=False, favor_recall=True) or ""
    meta = trafilatura.extract_metadata(raw)
    title = meta.title if meta is not None else None
    date = meta.date if meta is not None and meta.date else None
    if not text.strip():  # not an article page: fall back to the visible text
        text = visible_text(raw)
    return text, title, date


_NEAR = 64 * 1024  # how far past the last located block the next one is looked for, after a few misses


def locate_lines(raw: str, doc: Document) -> Document:
    """Point each block of an HTML document at the source line where its text starts, when it can be found."""
    visible = html.unescape(raw)
    line_starts = [0] + [m.end() for m in re.finditer("\n", visible)]
    pos = 0
    misses = 0
    blocks = []
    for b in doc.blocks:
        probe = b.text[:40]
        # Searching the whole rest of the page for every block that is not there would be quadratic
        # on a big page; after a few misses only the text near the last block found is searched.
        found = visible.find(probe, pos, len(visible) if misses < 3 else pos + _NEAR)
        if found >= 0:
            pos = found
            line = bisect.bisect_right(line_starts, found)
            blocks.append(Block(b.text, line, line, b.char_start, b.char_end, b.section))
        else:
            misses += 1
            blocks.append(b)
    doc.blocks = blocks
    return doc
