"""Which part of a cited passage to show, around its answering sentence: one cut for every view (terminal,
Slack, web), each of which only styles it."""

from __future__ import annotations

from dataclasses import dataclass

EXCERPT_WIDTH = 320  # characters of a passage shown around its answering sentence
CONTEXT = 60  # characters before the sentence kept when the passage is cut


@dataclass(frozen=True)
class Excerpt:
    """A passage on one line (line ends read as spaces, so offsets are the passage's own), the part of it
    shown (`lo`–`hi`), and the answering sentence within that part (`start`–`end`, empty when none)."""

    text: str
    lo: int
    hi: int
    start: int
    end: int

    @property
    def before(self) -> str:
        return self.text[self.lo:self.start]

    @property
    def sentence(self) -> str:
        return self.text[self.start:self.end]

    @property
    def after(self) -> str:
        return self.text[self.end:self.hi]

    @property
    def cut_before(self) -> bool:
        return self.lo > 0

    @property
    def cut_after(self) -> bool:
        return self.hi < len(self.text)


def excerpt(text: str, highlight: tuple[int, int] | None, width: int = EXCERPT_WIDTH) -> Excerpt:
    """The part of `text` to show: all of it when it fits in `width` characters; else cut at spaces, keeping
    the answering sentence (`highlight`, offsets into `text`) whole, with context around it."""
    flat = text.replace("\r", " ").replace("\n", " ")
    start = end = 0
    if highlight is not None:
        start = max(0, min(highlight[0], len(flat)))
        end = max(start, min(highlight[1], len(flat)))
        while start < end and flat[start].isspace():
            start += 1
        while end > start and flat[end - 1].isspace():
            end -= 1
    if end == start:
        hi = len(flat)
        if hi > width:
            cut = flat.rfind(" ", 0, width)
            hi = cut if cut > width // 2 else width
        return Excerpt(flat, 0, hi, 0, 0)
    room = max(0, width - (end - start))
    lo = max(0, start - max(CONTEXT, room // 2))
    if lo > 0:
        space = flat.find(" ", lo, start)
        lo = space + 1 if space != -1 else start
    hi = min(len(flat), end + max(0, room - (start - lo)))
    if hi < len(flat):
        space = flat.rfind(" ", end, hi)
        hi = space if space != -1 else end
    return Excerpt(flat, lo, hi, start, end)
