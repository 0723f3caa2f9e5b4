"""Hybrid retrieval: dense cosines and BM25 fused by weighted scores, near-duplicate passages grouped.

Scores are computed per sentence and pooled per passage. The weights were chosen on the tuning
half of the SQuAD bench (see README, "How the weights were chosen"); weighted score fusion beat
reciprocal-rank fusion there by 5 to 8 points of hit@1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from qa.dates import TimeHint, within
from qa.dates import parse as parse_time
from qa.embedder import Embedder
from qa.errors import InputError
from qa.lexical import BM25, TermCoverage, terms, tokens
from qa.passages import Passage
from qa.representation import passage_text, sentence_texts
from qa.store import IndexData

MODES = ("hybrid", "dense", "bm25")
_NAME = r"(?:[A-Z][\w'’-]*[a-z][\w'’-]*|[A-Z]{2,})"
_NAME_RUN = re.compile(rf"\b{_NAME}(?:\s+{_NAME})*\b")  # consecutive capitalised words: one name


@dataclass(frozen=True)
class Weights:
    """Sentence score SS and passage score PS as weighted sums of the signals."""

    # SS = sentence cosine + window·window cosine + bm25·BM25 + coverage·IDF coverage + length·length
    window: float = 0.25
    bm25: float = 0.5
    coverage: float = 1.0
    length: float = 0.2
    # PS = max sentence cosine + max window cosine + p_bm25·max BM25 + p_sentence·max SS + p_coverage·coverage
    p_bm25: float = 0.25
    p_sentence: float = 0.25
    p_coverage: float = 1.0
    # news time: a question naming a period favours articles dated in it over those dated outside it;
    # "latest" favours the newest. Set by hand (the bench has no dates): large enough to break a near
    # tie between outlets, too small to outweigh a clearly better passage.
    date: float = 0.4
    recency: float = 0.2


@dataclass
class Hit:
    """One retrieved passage (the best of its near-duplicate group) with its sentence scores."""

    row: int
    passage: Passage
    score: float
    sentence_scores: np.ndarray  # SS of each sentence: which one answers
    sentence_dense: np.ndarray  # cosine of each sentence alone
    sentence_coverage: np.ndarray  # IDF-weighted share of the question's terms in each sentence
    also: list[Passage] = field(default_factory=list)  # the same passage in other articles


@dataclass
class Query:
    """A question prepared for scoring: its vector, BM25 tokens and content terms."""

    text: str
    vector: np.ndarray
    tokens: list[str]
    terms: list[str]
    time: TimeHint = field(default_factory=TimeHint)


def _max_normalised(scores: np.ndarray) -> np.ndarray:
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else scores


class Retriever:
    """Scores every passage of an index against a question; `mode` is hybrid, dense or bm25."""

    def __init__(self, index: IndexData, embedder: Embedder, weights: Weights | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.weights = weights or Weights()
        sentences = [s for p in index.passages for s in sentence_texts(p)]
        self._sentence_bm25 = BM25(sentences)
        self._passage_bm25 = BM25([passage_text(p) for p in index.passages])
        self._sentence_cov = TermCoverage(sentences)
        self._passage_cov = TermCoverage([passage_text(p) for p in index.passages])
        self._passage_terms = [frozenset(terms(p.text)) for p in index.passages]
        self._vocabulary = self._passage_cov.vocabulary | frozenset(
            t for title in {p.title for p in index.passages if p.title} for t in terms(title))
        self._length = np.minimum(np.array([len(tokens(s)) for s in sentences], dtype=np.float32) / 40, 1.0)
        self._starts = np.searchsorted(index.sentence_owner, np.arange(len(index.passages)), side="left")
        dated = sorted({p.date for p in index.passages if p.date})
        # 0 for the oldest dated article, 1 for the newest; undated articles get nothing
        self._recency = np.array([dated.index(p.date) / max(len(dated) - 1, 1) if p.date else 0.0
                                  for p in index.passages], dtype=np.float32)

    def _time_signal(self, hint: TimeHint) -> np.ndarray | None:
        """+1 for passages dated in the question's period, -1 for those dated outside it, 0 when unknown."""
        if hint.start is None and not hint.latest:
            return None
        w = self.weights
        signal = np.zeros(len(self.index.passages), dtype=np.float32)
        if hint.start is not None:
            signal += w.date * np.array([{True: 1.0, False: -1.0, None: 0.0}[within(p.date, hint)]
                                         for p in self.index.passages], dtype=np.float32)
        if hint.latest:
            signal += w.recency * self._recency
        return signal

    def prepare(self, question: str) -> Query:
        """Embed the question once; the same Query can be scored in every mode."""
        return self.prepare_many([question])[0]

    def prepare_many(self, questions: list[str]) -> list[Query]:
        """Prepare many questions with one batched embedding call."""
        texts = [q.strip() for q in questions]
        if not all(texts):
            raise InputError("the question is empty")
        vectors = self.embedder.encode(texts)
        return [Query(q, v, tokens(q), terms(q), parse_time(q)) for q, v in zip(texts, vectors, strict=True)]

    def _pool(self, per_sentence: np.ndarray) -> np.ndarray:
        return np.maximum.reduceat(per_sentence, self._starts)

    def _near_duplicate(self, a: int, b: int) -> bool:
        """Two passages say the same thing when most content terms of the shorter appear in the longer
        and their meanings are close (a short line sharing words with a long one is not a copy of it)."""
        ta, tb = self._passage_terms[a], self._passage_terms[b]
        small, large = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
        if not small or len(small & large) / len(small) < 0.8:
            return False
        pv = self.index.passage_vectors
        return float(np.dot(pv[a], pv[b])) >= 0.85

    def unknown_names(self, query: Query) -> list[str]:
        """Names in the question that no article mentions, when they must be what it is about: a
        several-word name whose last word never occurs ("Chancellor Olaf Scholz"), or every name of the question.
        A lone unknown word beside known names is let through: it may be a metonym ("Brussels" for the EU)."""
        runs = [m.group() for m in _NAME_RUN.finditer(query.text) if m.start() > 0]
        def known(words: str) -> bool:
            return self._vocabulary.issuperset(terms(words))

        unknown = [r for r in runs if not known(r)]
        # the last word of a several-word name is the one that identifies it ("Chancellor Olaf Scholz")
        if any(len(r.split()) > 1 and not known(r.split()[-1]) for r in unknown) or (runs and len(unknown) == len(runs)):
            return unknown
        return []

    def echoes(self, hit: Hit, sentence: int, threshold: float = 0.9) -> list[Passage]:
        """Passages of other articles holding a sentence that says the same as `sentence` of `hit`
        (the same quote carried by several outlets), one per article."""
        row = self.index.sentence_rows(hit.row).start + sentence
        sv = self.index.sentence_vectors
        close = np.flatnonzero(np.asarray(sv) @ np.asarray(sv[row]) >= threshold)
        seen = {hit.passage.source, *(p.source for p in hit.also)}
        out = []
        for r in close:
            passage = self.index.passages[int(self.index.sentence_owner[r])]
            if passage.source not in seen:
                seen.add(passage.source)
                out.append(passage)
        return out

    def score(self, query: Query, mode: str = "hybrid") -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Passage scores and the per-sentence signals behind them."""
        w = self.weights
        sd = np.asarray(self.index.sentence_vectors) @ query.vector
        cd = np.asarray(self.index.window_vectors) @ query.vector
        sb = _max_normalised(self._sentence_bm25.scores(query.tokens))
        icov = self._sentence_cov.coverage(query.terms, weighted=True)
        if mode == "hybrid":
            ss = sd + w.window * cd + w.bm25 * sb + w.coverage * icov + w.length * self._length
            pcov = self._passage_cov.coverage(query.terms)
            ps = (self._pool(sd) + self._pool(cd) + w.p_bm25 * self._pool(sb) + w.p_sentence * self._pool(ss)
                  + w.p_coverage * pcov)
        elif mode == "dense":
            ss = sd + w.window * cd
            ps = self._pool(sd) + self._pool(cd)
        elif mode == "bm25":
            ss = sb
            ps = _max_normalised(self._passage_bm25.scores(query.tokens)) + w.p_bm25 * self._pool(sb)
        else:
            raise InputError(f"unknown mode {mode!r}: use {', '.join(MODES)}")
        time_signal = self._time_signal(query.time)
        if time_signal is not None:
            ps = ps + time_signal
        return ps, {"ss": ss, "sd": sd, "icov": icov}

    def search(self, query: Query, k: int = 3, mode: str = "hybrid", pool: int = 30,
               exclude: set[str] | None = None) -> list[Hit]:
        """The `k` best passage groups for the query, best first; `exclude` leaves out whole sources."""
        if not self.index.passages:
            return []
        ps, sig = self.score(query, mode)
        if exclude:
            ps = np.where([p.source in exclude for p in self.index.passages], -np.inf, ps)
        order = np.argsort(-ps, kind="stable")[: max(pool, k)]
        hits: list[Hit] = []
        for row in (int(r) for r in order):
            if not np.isfinite(ps[row]):
                break
            passage = self.index.passages[row]
            dup = next((h for h in hits if self._near_duplicate(h.row, row)), None)
            if dup is not None:
                if passage.source != dup.passage.source and all(passage.source != o.source for o in dup.also):
                    dup.also.append(passage)
                continue
            if len(hits) < k:
                rows = self.index.sentence_rows(row)
                sl = slice(rows.start, rows.stop)
                hits.append(Hit(row, passage, float(ps[row]), sig["ss"][sl], sig["sd"][sl], sig["icov"][sl]))
        return hits
