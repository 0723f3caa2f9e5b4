"""RSS and Atom feed files (feedparser): each entry a document of its own, keyed by the entry's id, with its
title, date, link and text; HTML in an entry goes through the same main-text extraction as a web page, and
each of its paragraphs points at the line of the feed file where its text is."""

from __future__ import annotations

import time
from pathlib import Path

from qa.documents.locate import Locator
from qa.documents.model import Document
from qa.documents.plain import parse_text
from qa.documents.web import html_to_text, locate_lines
from qa.errors import SourceError

MAX_ENTRIES = 10_000  # more is a feed archive, not a feed; reading it would hold the ingest for minutes
ENTRY_MARK = "#entry="  # a feed entry's source is its feed's source, this mark and the entry's id


def feed_of(source: str) -> str:
    """The file a source was read from: the feed itself for a feed entry, else the source."""
    return source.split(ENTRY_MARK, 1)[0]


def _entry_date(entry: dict) -> str | None:
    # `in` first: feedparser answers a missing `updated_parsed` with `published_parsed` and a DeprecationWarning
    parsed = entry.get("published_parsed") or (entry["updated_parsed"] if "updated_parsed" in entry else None)
    return time.strftime("%Y-%m-%d", parsed) if parsed else None


def _entry_body(entry: dict) -> str:
    """An entry's text: its full content when the feed carries it, else its summary; HTML made plain."""
    parts = entry.get("content") or []
    body = parts[0] if parts else {"value": entry.get("summary", ""), "type": entry.get("summary_detail", {}).get(
        "type", "text/html")}
    value = body.get("value") or ""
    if "html" in (body.get("type") or "") or "<" in value:
        value = html_to_text(value)[0]
    return value


def load_feed(path: Path, data: bytes, source: str, file_hash: str) -> tuple[list[Document], list[str]]:
    """The entries of a feed as documents, and one problem line per entry that has no text.
    SourceError when the file is not a feed."""
    import feedparser  # only needed for feeds

    feed = feedparser.parse(data)
    entries = feed.get("entries") or []
    if not entries:
        why = type(feed.get("bozo_exception")).__name__ if feed.get("bozo") else "no entries"
        raise SourceError(f"{path}: not a readable RSS or Atom feed ({why})")
    if len(entries) > MAX_ENTRIES:
        raise SourceError(f"{path}: too many entries ({len(entries)}; feeds of at most {MAX_ENTRIES} are read)")
    docs: list[Document] = []
    problems: list[str] = []
    seen: set[str] = set()
    # entries are found in the file in order, so each paragraph is cited at the line of the feed it is on
    locator = Locator(data.decode("utf-8", "replace"))
    for number, entry in enumerate(entries, start=1):
        title = " ".join((entry.get("title") or "").split()) or None
        key = entry.get("id") or entry.get("link") or title or f"#{number}"
        if key in seen:
            continue  # the same entry twice in one feed: the first is read
        seen.add(key)
        body = _entry_body(entry)
        doc = parse_text(f"{source}{ENTRY_MARK}{key}", body)
        if not doc.blocks:
            problems.append(f"{path}: entry {title or key!r} has no text")
            continue
        doc.title = title or doc.title
        doc.date = _entry_date(entry) or doc.date
        doc.url = entry.get("link") or None
        doc.file = source
        doc.file_hash = file_hash
        locate_lines(doc, locator)
        docs.append(doc)
    return docs, problems
