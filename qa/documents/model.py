"""What an article becomes once read: a document of text blocks that know their lines and offsets."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Block:
    """A paragraph of article text: one source line (or a run of lines) that can hold an answer."""

    text: str
    line_start: int  # 1-based, inclusive
    line_end: int
    char_start: int  # offsets into the document's text
    char_end: int
    section: str | None
    page: int | None = None  # 1-based page of a PDF; lines then count from the top of that page
    # Markdown only, where markup was removed from `text`: for each character of `text`, where its source
    # starts and ends in the document's text (a link's text spans its whole `[...](...)`)
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None


@dataclass(frozen=True)
class ArticleLine:
    """One line of an article as its reader sees it, numbered as its citations number it: a line of a text
    file; a line of a PDF's page; a paragraph of a Word file; or, for a web page or a feed entry, the headline,
    a heading or a paragraph of the extracted text, numbered by the line of the file its text starts on."""

    page: int | None  # a PDF's page; lines count within it
    number: int
    text: str
    kind: str = "line"  # "line", or for extracted text "headline", "heading" or "paragraph"


@dataclass
class Document:
    """A loaded article: where it came from, its metadata and its answer-bearing blocks."""

    source: str  # stable identity: the absolute path, or a name for in-memory documents
    text: str
    title: str | None = None
    date: str | None = None
    blocks: list[Block] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # one line each: read, but not quite as written
    url: str | None = None  # a feed entry's link
    file: str | None = None  # the file on disk, when it is not `source` (a feed entry's feed)
    file_hash: str | None = None  # SHA-256 of the file's bytes when read, to tell later whether it changed
    # what a reader sees of a web page or a feed entry (headline, headings, paragraphs) with each item's line in
    # the file; None for the formats whose own lines are shown
    outline: list[ArticleLine] | None = None

    @property
    def content_hash(self) -> str:
        return content_hash(self.text)

    @property
    def path(self) -> str:
        """The file this document was read from."""
        return self.file or self.source


# The version of the rules that turn a document's text into passages (summary boxes dropped, sentences, captions):
# part of every document's hash, so that when they change each index reads its documents again at its next ingest
# instead of keeping passages cut by the old rules. Bump it with any such change.
PASSAGE_RULES = "2"


def content_hash(text: str) -> str:
    """What tells one version of a document's text, as the passage rules cut it, from another (the index keeps it
    per document)."""
    return hashlib.sha256(f"passage rules {PASSAGE_RULES}\n{text}".encode()).hexdigest()


def word_count(text: str) -> int:
    return len(text.split())
