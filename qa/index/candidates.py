"""What a store hands the retriever for one question: the passages worth scoring, and the corpus statistics.

Every store (the embedded numpy store, PostgreSQL with pgvector) answers a question in two steps: it picks
candidate passages cheaply (nearest vectors and full-text matches), then `qa.retrieval` scores those
candidates exactly, the same way for every store. So two stores holding the same articles give the
same answers whenever the candidates hold the passages that matter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

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
    """Candidate passages with their vectors and the counts BM25 needs, sentences in passage order.

    The columns of `sentence_tf`/`passage_tf` are `columns`: the distinct tokens and content terms of the
    question (see `question_columns`). `sentence_df`/`passage_df` give, for each column, in how many live
    sentences/passages of the whole store it occurs; `known_terms` is the subset of the question's content
    terms that occur anywhere in the store (passage text or an article title). `passages` may be a lazy
    sequence: a store can parse a passage only when it is looked at.
    """

    keys: list[object]  # the store's id of each passage, stable while the index is open
    passages: Sequence[Passage]
    sources: list[str]
    dates: list[str | None]
    counts: np.ndarray  # (P,) sentences per passage
    passage_vectors: np.ndarray  # (P, dim) float32
    sentence_vectors: np.ndarray  # (S, dim) float32, S = counts.sum()
    window_vectors: np.ndarray  # (S, dim) float32
    columns: list[str]
    sentence_tf: np.ndarray  # (S, len(columns)) occurrences of each column's token in each sentence
    sentence_len: np.ndarray  # (S,) BM25 tokens of each sentence
    passage_tf: np.ndarray  # (P, len(columns)), over the passage text with its section heading
    passage_len: np.ndarray  # (P,)
    sentence_df: dict[str, int]
    passage_df: dict[str, int]
    known_terms: frozenset[str]
    stats: CorpusStats

    def __post_init__(self) -> None:
        counts = np.asarray(self.counts, dtype=np.int64)
        self.counts = counts
        self.starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if len(counts) else counts


def question_columns(tokens: list[str], terms: list[str]) -> list[str]:
    """The tokens a store counts for a question: its BM25 tokens and its content terms, each once."""
    return list(dict.fromkeys(tokens + terms))


def count_columns(token_lists: Sequence[Sequence[str]], columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(tf, lengths) of token lists for `columns`: a store that holds tokens as strings builds its candidates with this."""
    col = {t: j for j, t in enumerate(columns)}
    tf = np.zeros((len(token_lists), len(columns)), dtype=np.float32)
    for i, toks in enumerate(token_lists):
        for t in toks:
            j = col.get(t)
            if j is not None:
                tf[i, j] += 1
    return tf, np.array([len(t) for t in token_lists], dtype=np.int64)
