"""Lexical scoring: stemmed tokens, content terms, BM25 (bm25s) and IDF-weighted term coverage."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from functools import lru_cache

import bm25s
import numpy as np
import Stemmer

# Function words and question words: they say what is asked, not what it is about.
STOPWORDS = frozenset(
    """a an and are as at be but by for if in into is it no not of on or such that the their then there these
    they this to was will with what which who whom whose when where why how did does do done doing has have had
    having were been being am i you he she we us our your his her its them him me my mine from than also can
    could would should may might must shall about after before over under up down out off more most other some
    any each many much one ones both all called name named known use used kind type year years percent date""".split()
)
_WORD = re.compile(r"\w\w+")


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


_ACRONYM = re.compile(r"\b(?:[A-Za-z]\.){2,}")


def _words(text: str) -> list[str]:
    # "U.N." and "UN" are one word; without this the dotted form falls apart into single letters
    return _WORD.findall(_ACRONYM.sub(lambda m: m.group().replace(".", ""), text).lower())


def tokens(text: str) -> list[str]:
    """Stemmed lower-case word tokens (two letters or more), stopwords kept: what BM25 scores."""
    return list(_stemmer().stemWords(_words(text)))


def terms(text: str) -> list[str]:
    """Content terms: stemmed tokens without function and question words."""
    return list(_stemmer().stemWords([w for w in _words(text) if w not in STOPWORDS]))


class BM25:
    """BM25 scores of a query against every text of a fixed collection (bm25s, ATIRE variant)."""

    def __init__(self, texts: list[str]) -> None:
        self.size = len(texts)
        self._index: bm25s.BM25 | None = None
        if texts:
            self._index = bm25s.BM25(method="atire", k1=1.2, b=0.9)
            # bm25s needs at least one token per text to build its vocabulary
            self._index.index([tokens(t) or ["\x00"] for t in texts], show_progress=False)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """One score per text, 0 where no query token occurs."""
        if self._index is None:
            return np.zeros(self.size, dtype=np.float32)
        known = [t for t in query_tokens if t in self._index.vocab_dict]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._index.get_scores(known), dtype=np.float32)


class TermCoverage:
    """How much of a question's content terms each text holds, plain or weighted by IDF."""

    def __init__(self, texts: list[str]) -> None:
        self.size = len(texts)
        postings: dict[str, list[int]] = defaultdict(list)
        for i, t in enumerate(texts):
            for term in set(terms(t)):
                postings[term].append(i)
        self._postings = {t: np.asarray(rows, dtype=np.int64) for t, rows in postings.items()}

    @property
    def vocabulary(self) -> frozenset[str]:
        """Every content term of the texts."""
        return frozenset(self._postings)

    def idf(self, term: str) -> float:
        df = len(self._postings.get(term, ()))
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def coverage(self, query_terms: list[str], weighted: bool = False) -> np.ndarray:
        """Per text: share of the query's distinct terms it contains (IDF-weighted when asked)."""
        out = np.zeros(self.size, dtype=np.float32)
        unique = list(dict.fromkeys(query_terms))
        if not unique:
            return out
        weights = [self.idf(t) if weighted else 1.0 for t in unique]
        for term, w in zip(unique, weights, strict=True):
            rows = self._postings.get(term)
            if rows is not None:
                out[rows] += w
        return out / sum(weights)
