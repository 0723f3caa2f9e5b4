"""Lexical analysis: the stemmed tokens BM25 scores and the content terms a question is about."""

from __future__ import annotations

import re
from functools import lru_cache

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
