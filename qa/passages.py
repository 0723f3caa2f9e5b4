"""Split documents into sentence-aware passages that remember exactly where they came from."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from qa.documents import Document, word_count
from qa.text.sentences import split_spans

MAX_WORDS = 100
# A sentence or passage is quoted whole, so neither may run on: a line of megabytes with no sentence break (a
# dump, a log, a minified page) is cut into pieces at spaces. Real sentences stay whole: the longest in the
# seeds has 262 characters, in the SQuAD bench file 732, and a 150-word sentence about 1,100.
MAX_SENTENCE_CHARS = 2_000
MAX_PASSAGE_CHARS = 4_000
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Passage:
    """A few consecutive sentences of one paragraph, with their source location."""

    source: str
    title: str | None
    date: str | None
    section: str | None
    text: str
    line_start: int
    line_end: int
    char_start: int  # offsets into the source document's text
    char_end: int
    sentences: tuple[tuple[int, int], ...]  # sentence spans relative to `text`
    page: int | None = None  # PDF page; line_start and line_end then count within it
    url: str | None = None  # a feed entry's link
    file: str | None = None  # the file on disk when it is not `source` (a feed entry's feed)
    file_hash: str | None = None  # SHA-256 of that file's bytes at ingest (None in indexes built before it)

    @property
    def path(self) -> str:
        """The file this passage was read from."""
        return self.file or self.source

    def sentence_texts(self) -> list[str]:
        return [self.text[s:e] for s, e in self.sentences]

    def to_dict(self) -> dict[str, Any]:
        # by hand: dataclasses.asdict deep-copies every field, a fifth of a large index build
        d = {name: getattr(self, name) for name in _FIELDS}
        d["sentences"] = [list(s) for s in self.sentences]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Passage:
        return cls(**{**d, "sentences": tuple(tuple(s) for s in d["sentences"])})


_FIELDS = tuple(f.name for f in fields(Passage))


def capped(spans: list[tuple[int, int]], text: str, limit: int = MAX_SENTENCE_CHARS) -> list[tuple[int, int]]:
    """`spans` with every span longer than `limit` characters cut into pieces of at most `limit`, at the last
    run of spaces in the second half of each piece (anywhere, when it has none)."""
    out: list[tuple[int, int]] = []
    for s, e in spans:
        while e - s > limit:
            cut, resume = s + limit, s + limit
            for m in _SPACE.finditer(text, s + limit // 2, s + limit):
                cut, resume = m.start(), m.end()
            out.append((s, cut))
            s = resume
        if e > s:
            out.append((s, e))
    return out


def _chunks(spans: list[tuple[int, int]], text: str, max_words: int) -> list[list[tuple[int, int]]]:
    """Group consecutive sentence spans into runs of at most `max_words` words and `MAX_PASSAGE_CHARS`
    characters (a longer sentence stands alone)."""
    groups: list[list[tuple[int, int]]] = []
    words = 0
    for span in spans:
        n = word_count(text[span[0]:span[1]])
        if groups and words + n <= max_words and span[1] - groups[-1][0][0] <= MAX_PASSAGE_CHARS:
            groups[-1].append(span)
            words += n
        else:
            groups.append([span])
            words = n
    return _balance(groups, text, max_words)


def _balance(groups: list[list[tuple[int, int]]], text: str, max_words: int) -> list[list[tuple[int, int]]]:
    """Move sentences back from a full group to a short last one, so a paragraph does not end in a stub."""
    if len(groups) < 2:
        return groups
    def size(g: list[tuple[int, int]]) -> int:
        return sum(word_count(text[s:e]) for s, e in g)
    while len(groups[-2]) > 1:
        moved = groups[-2][-1]
        a, b = size(groups[-2]), size(groups[-1])
        n = word_count(text[moved[0]:moved[1]])
        if (b + n > max_words or abs((a - n) - (b + n)) >= abs(a - b)
                or groups[-1][-1][1] - moved[0] > MAX_PASSAGE_CHARS):
            break
        groups[-2] = groups[-2][:-1]
        groups[-1] = [moved] + groups[-1]
    return groups


def split_document(doc: Document, max_words: int = MAX_WORDS) -> list[Passage]:
    """Cut each paragraph of `doc` into passages of whole sentences, each under `max_words` words."""
    passages: list[Passage] = []
    for block in doc.blocks:
        spans = capped(split_spans(block.text), block.text)
        for group in _chunks(spans, block.text, max_words):
            start, end = group[0][0], group[-1][1]
            text = block.text[start:end]
            if block.starts is not None and block.ends is not None:  # Markdown: map back through the markup
                char_start, char_end = block.starts[start], block.ends[end - 1]
            else:
                char_start, char_end = block.char_start + start, block.char_start + end
            passages.append(
                Passage(
                    source=doc.source,
                    title=doc.title,
                    date=doc.date,
                    section=block.section,
                    text=text,
                    line_start=block.line_start,
                    line_end=block.line_end,
                    char_start=char_start,
                    char_end=char_end,
                    sentences=tuple((s - start, e - start) for s, e in group),
                    page=block.page,
                    url=doc.url,
                    file=doc.file,
                    file_hash=doc.file_hash,
                )
            )
    return passages
