"""An indexed article shown whole, as its reader sees it and as its citations count it: the lines of a text file,
the lines of each page of a PDF, the paragraphs of a Word file; for a web page or a feed entry the extracted
text (headline, headings, paragraphs), never markup, each numbered by the line of the file its text is on."""

from __future__ import annotations

import hashlib
from pathlib import Path

from qa.documents.feeds import feed_of
from qa.documents.load import load_path
from qa.documents.model import ArticleLine, Document
from qa.errors import SourceError
from qa.text.lines import split_lines

__all__ = ["ArticleLine", "article_text", "source_id"]


def source_id(source: str) -> str:
    """A short, stable id for an indexed source, so that requests name articles without naming paths."""
    # a source from a file name that is not UTF-8 holds its raw bytes as surrogates: hashed as those bytes
    return hashlib.sha256(source.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def article_text(source: str) -> tuple[list[ArticleLine], str]:
    """The article's lines as its reader sees them, numbered as its citations number them, and the content
    hash of the document its file gives now: read and parsed exactly as an ingest reads it, so the hash is
    the one an ingest would index (see `qa.documents.freshness.Freshness`). SourceError when the file is gone
    or can no longer be read, or the article is no longer in it (a feed entry that left its feed)."""
    path = Path(feed_of(source))
    docs, _ = load_path(path)
    doc = next((d for d in docs if d.source == source), None)
    if doc is None:
        raise SourceError(f"{path}: the entry is no longer in the feed")
    return lines_of(doc, path), doc.content_hash


def lines_of(doc: Document, path: Path) -> list[ArticleLine]:
    """What a reader sees of a document (see the module's description)."""
    if doc.outline is not None:
        return list(doc.outline)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return [ArticleLine(p, n, line.rstrip("\r\n")) for p, text in enumerate(doc.text.split("\f"), start=1)
                for n, line in enumerate(split_lines(text), start=1)]
    return [ArticleLine(None, n, line.rstrip("\r\n")) for n, line in enumerate(split_lines(doc.text), start=1)]
