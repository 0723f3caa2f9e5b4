"""An indexed article shown whole, as its citations count it: numbered lines (within pages for a PDF,
paragraphs for a Word file, the entry's text for a feed entry), read from the file as it is now."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from qa.documents.feeds import feed_of, load_feed
from qa.documents.files import FEED_SUFFIXES, decode, read_bytes
from qa.documents.isolation import one_file
from qa.documents.model import content_hash
from qa.documents.pdf import read_pdf
from qa.documents.word import read_docx
from qa.errors import SourceError
from qa.text.lines import split_lines


def source_id(source: str) -> str:
    """A short, stable id for an indexed source, so that requests name articles without naming paths."""
    # a source from a file name that is not UTF-8 holds its raw bytes as surrogates: hashed as those bytes
    return hashlib.sha256(source.encode("utf-8", "surrogateescape")).hexdigest()[:16]


@dataclass(frozen=True)
class ArticleLine:
    page: int | None  # a PDF's page; lines count within it
    number: int
    text: str


def article_text(source: str) -> tuple[list[ArticleLine], str]:
    """The article's lines, numbered as its citations number them, and the content hash of the document its
    file would give now (to compare with the indexed one), from one read of the file. SourceError when the
    file is gone or can no longer be read."""
    path = Path(feed_of(source))
    data = read_bytes(path)
    with one_file(path):
        return _lines(source, path, data)


def _lines(source: str, path: Path, data: bytes) -> tuple[list[ArticleLine], str]:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        pages, _, _ = read_pdf(path, data)
        return ([ArticleLine(p, n, line.rstrip("\r\n")) for p, text in enumerate(pages, start=1)
                 for n, line in enumerate(split_lines(text), start=1)], content_hash("\f".join(pages)))
    if suffix == ".docx":
        paragraphs, _, _ = read_docx(path, data)
        return ([ArticleLine(None, n, text) for n, (text, _) in enumerate(paragraphs, start=1)],
                content_hash("\n".join(text for text, _ in paragraphs)))
    if suffix in FEED_SUFFIXES:
        docs, _ = load_feed(path, data, feed_of(source), "")
        entry = next((d for d in docs if d.source == source), None)
        if entry is None:
            raise SourceError(f"{path}: the entry is no longer in the feed")
        text = entry.text
    else:
        text, _ = decode(data, str(path))
    return ([ArticleLine(None, n, line.rstrip("\r\n")) for n, line in enumerate(split_lines(text), start=1)],
            content_hash(text))
