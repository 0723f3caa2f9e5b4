"""Sentence splitting that keeps character offsets."""

from __future__ import annotations

import re

# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt ft gen col lt sgt capt cmdr adm gov sen rep pres rev hon
    inc ltd co corp bros dept est approx vs etc al fig no nos vol ch sec art ed eds op
    jan feb mar apr jun jul aug sep sept oct nov dec ksh sh e.g i.e u.s u.k u.n a.m p.m""".split()
)
_CLOSERS = "\"'”’)]"
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, whitespace.
# the look-behind starts a match only at the first mark of a run: without it a long run of dots is
# retried from every dot, which is quadratic in its length
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]+[" + re.escape(_CLOSERS) + r"]*(?=\s)")
_NEXT_START = re.compile(r"\s+([\"'“‘(\[]*)(\S)")


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the full stop at `dot` belongs to an abbreviation, an initial or a number."""
    start = dot
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in "\"'“‘(":
        start -= 1
    word = text[start:dot].lower()
    if not word:
        return False
    if word in _ABBREVIATIONS or word.rstrip(".") in _ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isalpha():  # an initial: "J. Trump"
        return True
    return bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", word))  # "U.S", "e.g"


def split_spans(text: str) -> list[tuple[int, int]]:
    """Split `text` into sentences; return (start, end) offsets with surrounding space trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        nxt = _NEXT_START.match(text, end)
        if nxt is None:
            continue
        first = nxt.group(2)
        if not (first.isupper() or first.isdigit() or nxt.group(1)):
            continue
        if text[m.start()] == "." and m.group().rstrip(_CLOSERS) == "." and _is_abbreviation(text, m.start()):
            continue
        spans.append((start, end))
        start = nxt.start(1)
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def split(text: str) -> list[str]:
    """The sentences of `text`."""
    return [text[s:e] for s, e in split_spans(text)]
