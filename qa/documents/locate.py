"""Where extracted text lies in a markup file (a web page, a feed): each paragraph a reader sees is found in the
file's source, so that a citation names the line its text is on, never the `<title>` line or a line of the
extracted text, which no editor shows."""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass

# Markup that is not text a reader sees: comments, CDATA brackets (their content is read), tags, and the
# elements whose whole content is hidden (a page's <head> holds its <title>, which repeats the headline).
_HIDDEN = {name: re.compile(rf"</{name}\s*>", re.I) for name in ("head", "script", "style", "template")}
_MARKUP = re.compile(r"<!--|<!\[CDATA\[|\]\]>|<(head|script|style|template)\b[^<>]*>|</?(?:([A-Za-z][\w:.-]*)|[!?])[^<>]*>"
                     r"|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});", re.I)
# Tags inside a run of text; every other tag (a paragraph's, a feed's <title>) parts the text on either side.
_INLINE = frozenset("a abbr b bdi bdo cite code data dfn em font i kbd mark q s samp small span strong sub sup "
                    "time u var wbr".split())
_LINE_END = re.compile(r"\r\n|\r|\n")
_WORD = re.compile(r"\S+")
GAP = r"(?:\s|<[^<>]{0,500}>)+"  # between two words: spaces, or a tag escaped as text (a feed's `&lt;b&gt;`)
PROBE_WORDS = 8  # words of a paragraph's start (and end) looked for; enough to tell paragraphs apart
_NEAR = 64 * 1024  # how far past the last paragraph found the next is looked for, after a few misses


@dataclass
class Source:
    """The text a reader sees in a markup file, with the way back to the file's offsets and lines."""

    visible: str
    piece_at: list[int]  # where each piece of `visible` starts
    source_at: list[int]  # where that piece comes from in the file's text
    line_starts: list[int]  # offsets of the file's lines

    def line(self, visible_offset: int) -> int:
        """The 1-based line of the file holding the character at `visible_offset` of the visible text."""
        i = max(0, bisect.bisect_right(self.piece_at, visible_offset) - 1)
        offset = self.source_at[i] + max(0, visible_offset - self.piece_at[i]) if self.source_at else 0
        return bisect.bisect_right(self.line_starts, offset)


def read_source(raw: str) -> Source:
    """The visible text of HTML or XML source `raw`: tags and hidden elements removed, entities decoded.

    One forward scan (no pattern that backtracks), so a page full of unclosed `<script` or `<` takes linear time.
    """
    pieces: list[str] = []
    piece_at: list[int] = []
    source_at: list[int] = []
    size = 0

    def keep(text: str, at: int) -> None:
        nonlocal size
        if text:
            pieces.append(text)
            piece_at.append(size)
            source_at.append(at)
            size += len(text)

    pos = 0
    while (m := _MARKUP.search(raw, pos)) is not None:
        keep(raw[pos:m.start()], pos)
        token = m.group()
        pos = m.end()
        if token == "<!--":
            comment_end = raw.find("-->", pos)
            pos = len(raw) if comment_end < 0 else comment_end + 3
        elif m.group(1):  # a hidden element: skip to its end (an unclosed one runs to the end of the file)
            close = _HIDDEN[m.group(1).lower()].search(raw, pos)
            pos = len(raw) if close is None else close.end()
        elif token.startswith("&"):
            keep(html.unescape(token), m.start())
        elif (m.group(2) or "").lower() not in _INLINE:
            keep("\n", m.start())
    keep(raw[pos:], pos)
    line_starts = [0] + [m.end() for m in _LINE_END.finditer(raw)]
    return Source("".join(pieces), piece_at, source_at, line_starts)


def _pattern(words: list[str]) -> re.Pattern[str]:
    lead = r"(?<!\w)" if words and words[0][:1].isalnum() else ""
    return re.compile(lead + GAP.join(re.escape(w) for w in words))


@dataclass(frozen=True)
class Found:
    """Where a paragraph was found: its lines in the file, and its span in the visible text."""

    line_start: int
    line_end: int
    start: int
    end: int


class Locator:
    """Finds the paragraphs of one file in reading order: each is looked for after the one found before it."""

    def __init__(self, raw: str) -> None:
        self.source = read_source(raw)
        self.pos = 0  # in the visible text: where the last paragraph found ends
        self.misses = 0

    def find(self, text: str, lo: int, hi: int) -> Found | None:
        """Where `text` (a paragraph as extracted: words as in the file, spaces and line breaks perhaps not)
        first starts within `lo`..`hi` of the visible text; None when it is not there."""
        words = _WORD.findall(text)
        if not words:
            return None
        visible = self.source.visible
        head = _pattern(words[:PROBE_WORDS]).search(visible, lo, hi)
        if head is None:
            return None
        last = head.end()
        if len(words) > PROBE_WORDS:
            # the paragraph's end lies about its length further on; markup between its words may add some
            reach = min(len(visible), head.start() + 4 * len(text) + 4096)
            tail = _pattern(words[-PROBE_WORDS:]).search(visible, max(head.start(), head.end() - 1), reach)
            last = tail.end() if tail is not None else last
        return Found(self.source.line(head.start()), self.source.line(max(head.start(), last - 1)), head.start(), last)

    def next(self, text: str) -> Found | None:
        """`text` found after the last paragraph found (see `find`); None when it is not there, and then the
        next search starts where this one did. After a few misses in a row only the text near the last
        paragraph found is searched: searching the rest of a big page for every paragraph that is not there
        would take time quadratic in its size."""
        end = len(self.source.visible) if self.misses < 3 else min(len(self.source.visible), self.pos + _NEAR)
        found = self.find(text, self.pos, end)
        if found is None:
            self.misses += 1
            return None
        self.misses = 0
        self.pos = found.end
        return found
