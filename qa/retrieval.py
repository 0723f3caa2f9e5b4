"""Hybrid retrieval: dense cosine similarity and BM25, fused by weighted scores, near-duplicates grouped."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qa.embedder import Embedder
from qa.errors import InputError
from qa.lexical import BM25, terms
from qa.passages import Passage
from qa.representation import passage_text, sentence_texts
from qa.store import IndexData


@dataclass(frozen=True)
class Weights:
    """How the signals add up to one passage score (chosen on a tuning split; see README)."""

    passage_dense: float = 0.5
    sentence_dense: float = 0.5
    passage_bm25: float = 0.3
    sentence_bm25: float = 0.3


@dataclass
class Hit:
    """One retrieved passage (the best of its near-duplicate group) with its scores."""

    row: int
    passage: Passage
    score: float
    sentence_scores: np.ndarray  # one fused score per sentence of the passage
    sentence_dense: np.ndarray
    sentence_lexical: np.ndarray  # BM25 of each sentence, scaled to the best in the corpus
    also: list[Passage] = field(default_factory=list)  # the same passage in other articles


@dataclass
class Query:
    """A question prepared for scoring: its vector and its content terms."""

    text: str
    vector: np.ndarray
    terms: list[str]


def _normalised(scores: np.ndarray) -> np.ndarray:
    """Scale BM25 scores into [0, 1] by the best score, so they add to cosines on a like footing."""
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else scores


def _near_duplicate(a: Passage, b: Passage) -> bool:
    """Two passages say the same thing when most content terms of the shorter appear in the longer."""
    ta, tb = set(terms(a.text)), set(terms(b.text))
    small, large = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    return bool(small) and len(small & large) / len(small) >= 0.8


class Retriever:
    """Scores every passage of an index against a question; `mode` is hybrid, dense or bm25."""

    def __init__(self, index: IndexData, embedder: Embedder, weights: Weights | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.weights = weights or Weights()
        self._passage_bm25 = BM25([passage_text(p) for p in index.passages])
        self._sentence_bm25 = BM25([s for p in index.passages for s in sentence_texts(p)])
        owner = index.sentence_owner
        self._sentence_starts = np.searchsorted(owner, np.arange(len(index.passages)), side="left")

    def prepare(self, question: str) -> Query:
        """Embed the question once; the same Query can be scored in every mode."""
        question = question.strip()
        if not question:
            raise InputError("the question is empty")
        return Query(question, self.embedder.encode([question])[0], terms(question))

    def _per_passage_max(self, sentence_values: np.ndarray) -> np.ndarray:
        if not len(sentence_values):
            return np.zeros(len(self.index.passages), dtype=np.float32)
        return np.maximum.reduceat(sentence_values, self._sentence_starts)

    def search(self, query: Query, k: int = 3, mode: str = "hybrid", pool: int = 30) -> list[Hit]:
        """The `k` best passage groups for the query, best first."""
        n = len(self.index.passages)
        if n == 0:
            return []
        w = self.weights
        pv = np.asarray(self.index.passage_vectors)
        sv = np.asarray(self.index.sentence_vectors)
        p_dense = pv @ query.vector
        s_dense = sv @ query.vector
        p_lex = _normalised(self._passage_bm25.scores(query.terms))
        s_lex = _normalised(self._sentence_bm25.scores(query.terms))
        if mode == "dense":
            s_fused = s_dense
            scores = 0.5 * p_dense + 0.5 * self._per_passage_max(s_dense)
        elif mode == "bm25":
            s_fused = s_lex
            scores = 0.5 * p_lex + 0.5 * self._per_passage_max(s_lex)
        elif mode == "hybrid":
            s_fused = w.sentence_dense * s_dense + w.sentence_bm25 * s_lex
            scores = w.passage_dense * p_dense + w.passage_bm25 * p_lex + self._per_passage_max(s_fused)
        else:
            raise InputError(f"unknown mode {mode!r}: use hybrid, dense or bm25")
        order = np.argsort(-scores, kind="stable")[: max(pool, k)]
        hits: list[Hit] = []
        for row in order:
            row = int(row)
            passage = self.index.passages[row]
            rows = self.index.sentence_rows(row)
            dup = next((h for h in hits if _near_duplicate(h.passage, passage)), None)
            if dup is not None:
                if passage.source != dup.passage.source and all(passage.source != o.source for o in dup.also):
                    dup.also.append(passage)
                continue
            if len(hits) < k:
                hits.append(Hit(row, passage, float(scores[row]), s_fused[rows.start:rows.stop],
                                s_dense[rows.start:rows.stop], s_lex[rows.start:rows.stop]))
        return hits
