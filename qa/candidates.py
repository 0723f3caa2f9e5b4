"""What a store hands the retriever for one question: the passages worth scoring, and the corpus statistics.

Every store (the embedded numpy store, PostgreSQL with pgvector) answers a question in two steps: it picks
candidate passages cheaply (nearest vectors and full-text matches), then `qa.retrieval` scores those
candidates exactly, the same way for every store. So two stores holding the same articles give the
same answers whenever the candidates hold the passages that matter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from qa.passages import Passage


@dataclass
class CorpusStats:
    """Counts over every live passage of the store, not just the candidates (BM25 needs them)."""

    passages: int
    sentences: int
    passage_tokens: int  # total BM25 tokens over passages (an empty passage counts as one)
    sentence_tokens: int
    dates: list[str] = field(default_factory=list)  # distinct dates of dated articles, oldest first


@dataclass
class Candidates:
    """Candidate passages with their vectors and tokens, sentences in passage order.

    `sentence_df`/`passage_df` give, for each token of the question, in how many live sentences/passages of
    the whole store it occurs; `known_terms` is the subset of the question's content terms that occur
    anywhere in the store (passage text or an article title).
    """

    keys: list[object]  # the store's id of each passage, stable while the index is open
    passages: list[Passage]
    passage_vectors: np.ndarray  # (P, dim) float32
    sentence_vectors: np.ndarray  # (S, dim) float32, S = sum of len(p.sentences)
    window_vectors: np.ndarray  # (S, dim) float32
    sentence_tokens: list[list[str]]  # qa.lexical.tokens of each sentence text
    passage_tokens: list[list[str]]  # qa.lexical.tokens of each representation.passage_text
    sentence_df: dict[str, int]
    passage_df: dict[str, int]
    known_terms: frozenset[str]
    stats: CorpusStats

    def __post_init__(self) -> None:
        counts = np.array([len(p.sentences) for p in self.passages], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if len(counts) else counts
        self.counts = counts


class CandidateSource(Protocol):
    """A store that can be searched: the embedded store and the PostgreSQL store both are."""

    model: str

    def candidates(self, vector: np.ndarray, tokens: list[str], terms: list[str], limit: int,
                   exclude: set[str] | None = None) -> Candidates:
        """Up to `limit` passages nearest to `vector` plus up to `limit` best full-text matches of `terms`
        (deduplicated), skipping articles whose source is in `exclude`; every passage when the store is small."""
        ...
