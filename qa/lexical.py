"""Lexical scoring: tokenising with stemming and BM25 (bm25s) over a fixed list of texts."""

from __future__ import annotations

import re
from functools import lru_cache

import bm25s
import numpy as np
import Stemmer

# Function words and question words: they say what is asked, not what it is about.
STOPWORDS = frozenset(
    """a an and are as at be been being but by can could did do does doing done for from had has have having
    he her hers him his how i if in into is it its itself me my no nor not of off on once only or other our
    ours out over own same she should so than that the their theirs them then there these they this those
    through to too under until up very was we were what when where which while who whom whose why will with
    would you your yours about against between during before after above below again further all any both
    each few more most some such s t just don now also many much""".split()
)
_WORD = re.compile(r"[\w][\w'’.-]*[\w]|[\w]")


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased word tokens, keeping inner dots and hyphens (`u.s.`, `38.5`, `president-elect`)."""
    return [w.replace("’", "'") for w in _WORD.findall(text.lower())]


def terms(text: str) -> list[str]:
    """Content terms: words without stopwords, stemmed; a hyphenated word also yields its parts."""
    out: list[str] = []
    for w in words(text):
        w = w.removesuffix("'s")
        parts = [w] + (w.split("-") if "-" in w else [])
        out.extend(p for p in (q.strip(".") for q in parts) if p and p not in STOPWORDS)
    return _stemmer().stemWords(out)


class BM25:
    """BM25 scores of a query against every text of a fixed collection."""

    def __init__(self, texts: list[str]) -> None:
        self.size = len(texts)
        self._index: bm25s.BM25 | None = None
        if texts:
            self._index = bm25s.BM25()
            # bm25s needs at least one token per document to build its vocabulary
            self._index.index([terms(t) or ["\x00"] for t in texts], show_progress=False)

    def scores(self, query_terms: list[str]) -> np.ndarray:
        """One score per text, 0 where no query term occurs."""
        if self._index is None or not query_terms:
            return np.zeros(self.size, dtype=np.float32)
        known = [t for t in query_terms if t in self._index.vocab_dict]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._index.get_scores(known), dtype=np.float32)
