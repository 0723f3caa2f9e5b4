"""Saved web pages: the article's main text, title and date (trafilatura), and the source line of each paragraph."""

from __future__ import annotations

import html
import re
from dataclasses import replace

from qa.documents.locate import Locator
from qa.documents.model import ArticleLine, Block, Document
from qa.documents.plain import parse_text
from qa.documents.quiet import quiet_parsers

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

    quiet_parsers()
    text = trafilatura.extract(raw, include_comments=False, include_tables=False, favor_recall=True) or ""
    meta = trafilatura.extract_metadata(raw)
    title = meta.title if meta is not None else None
    date = meta.date if meta is not None and meta.date else None
    if not text.strip():  # not an article page: fall back to the visible text
        text = visible_text(raw)
    return text, title, date


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def html_document(raw: str, source: str) -> Document:
    """A web page as a document: its main text's paragraphs, each pointing at the line of the page's source
    where its text is; title and date from the page."""
    body, title, date = html_to_text(raw)
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    if title and lines and _same(lines[0], title):
        lines = lines[1:]  # the headline: the document's title, not a paragraph
    # each line of the extracted text is a paragraph of its own: a web page's paragraphs are never hard-wrapped,
    # so a headline is never read as the start of the paragraph under it
    doc = parse_text(source, "\n\n".join(lines))
    doc.title = title or doc.title
    doc.date = date or doc.date
    locate_lines(doc, Locator(raw))
    doc.text = raw  # hash the file as it is on disk
    return doc


def locate_lines(doc: Document, loc: Locator) -> Document:
    """Point each block of `doc` at the lines of the markup file it was extracted from (which `loc` has read)
    that its text spans, and set the document's outline: its headline, headings and paragraphs as a reader
    sees them, each with its line. A block that cannot be found takes the line of the text found before it.
    Blocks are looked for after what `loc` found last: a feed's entries are found one after another."""
    start = loc.pos
    blocks: list[Block] = []
    spans: list[tuple[int, int] | None] = []
    line = loc.source.line(start) if loc.source.visible else 1
    for b in doc.blocks:
        found = loc.next(b.text)
        if found is not None:
            blocks.append(replace(b, line_start=found.line_start, line_end=found.line_end))
            spans.append((found.start, found.end))
            line = found.line_end
        else:
            blocks.append(replace(b, line_start=line, line_end=line))
            spans.append(None)
    doc.blocks = blocks
    doc.outline = _outline(doc, loc, start, spans)
    return doc


def _outline(doc: Document, loc: Locator, start: int, spans: list[tuple[int, int] | None]) -> list[ArticleLine]:
    """The headline, headings and paragraphs of `doc` in reading order; a headline or heading is looked for
    between the paragraphs around it, and takes the line of the paragraph after it when it is not there."""
    items: list[ArticleLine] = []
    lo = start
    section: str | None = None
    for i, b in enumerate(doc.blocks):
        hi = spans[i][0] if spans[i] is not None else len(loc.source.visible)  # type: ignore[index]
        heads = ([("headline", doc.title)] if i == 0 and doc.title else []) + (
            [("heading", b.section)] if b.section and b.section != section else [])
        for kind, text in heads:
            found = loc.find(text, lo, hi) if lo <= hi else None
            items.append(ArticleLine(None, found.line_start if found else b.line_start, text, kind))
            lo = found.end if found else lo
        section = b.section
        items.append(ArticleLine(None, b.line_start, b.text, "paragraph"))
        lo = spans[i][1] if spans[i] is not None else lo  # type: ignore[index]
    return items
