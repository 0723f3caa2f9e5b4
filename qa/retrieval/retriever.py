"""Hybrid retrieval: dense cosines and BM25 fused by weighted scores, near-duplicate passages grouped.

The store offers candidate passages (all of them when it is small); each candidate's sentences are
scored exactly here, with store-wide BM25 counts, and the scores are pooled per passage. The weights were chosen on the tuning
half of the SQuAD bench (see README, "How the weights were chosen"); weighted score fusion beat
reciprocal-rank fusion there by 5 to 8 points of hit@1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from qa.embedding import Embedder
from qa.errors import InputError
from qa.index.candidates import Candidates
from qa.index.contract import ReadStore
from qa.passages import Passage
from qa.retrieval.scoring import bm25, coverage, max_normalised
from qa.text.dates import TimeHint, within
from qa.text.dates import parse as parse_time
from qa.text.lexical import terms, tokens

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


# passages asked of the store per half (nearest vectors, best BM25); all of a small store. On the SQuAD
# bench file, 20 per half already give the figures of scoring every passage.
CANDIDATES = 100
ECHOES = 20  # articles named as carrying the same sentence, at most
SAME_SENTENCE = 0.8  # two sentences this close, in passages sharing their terms, report the same statement


@dataclass
class Hit:
    """One retrieved passage (the best of its near-duplicate group) with its sentence scores."""

    row: int  # position of the passage among the candidates
    passage: Passage
    score: float
    sentence_scores: np.ndarray  # SS of each sentence: which one answers
    sentence_dense: np.ndarray  # cosine of each sentence alone
    sentence_coverage: np.ndarray  # IDF-weighted share of the question's terms in each sentence
    also: list[Passage] = field(default_factory=list)  # the same passage in other articles
    time: float = 0.0  # what the question's period or "latest" added to `score` (see Weights.date)
    pool: Candidates | None = None  # the candidates it was found among


@dataclass
class Query:
    """A question prepared for scoring: its vector, BM25 tokens and content terms."""

    text: str
    vector: np.ndarray
    tokens: list[str]
    terms: list[str]
    time: TimeHint = field(default_factory=TimeHint)
    known_terms: frozenset[str] | None = None  # which of `terms` the store holds, once it was asked


class Retriever:
    """Scores the candidates a store returns for a question; `mode` is hybrid, dense or bm25."""

    def __init__(self, source: ReadStore, embedder: Embedder, weights: Weights | None = None,
                 candidates: int = CANDIDATES) -> None:
        self.source = source
        self.embedder = embedder
        self.weights = weights or Weights()
        self.limit = candidates

    @property
    def index(self) -> ReadStore:
        return self.source

    def _time_signal(self, hint: TimeHint, pool: Candidates) -> np.ndarray | None:
        """+1 for passages dated in the question's period, -1 for those dated outside it, 0 when unknown."""
        if hint.start is None and not hint.latest:
            return None
        w = self.weights
        signal = np.zeros(len(pool.dates), dtype=np.float32)
        if hint.start is not None:
            signal += w.date * np.array([{True: 1.0, False: -1.0, None: 0.0}[within(d, hint)]
                                         for d in pool.dates], dtype=np.float32)
        if hint.latest:
            dates = pool.stats.dates
            rank = {d: i / max(len(dates) - 1, 1) for i, d in enumerate(dates)}
            # 0 for the oldest dated article, 1 for the newest; undated articles get nothing
            signal += w.recency * np.array([rank.get(d or "", 0.0) for d in pool.dates], dtype=np.float32)
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

    def candidates(self, query: Query, exclude: set[str] | None = None) -> Candidates:
        """What the store offers for the question (and, on the way, which of its terms the store knows)."""
        pool = self.source.candidates(query.vector, query.tokens, query.terms, self.limit, exclude)
        query.known_terms = pool.known_terms
        return pool

    def _near_duplicate(self, pool: Candidates, a: int, b: int, terms_of: dict[int, frozenset[str]]) -> bool:
        """Two passages say the same thing when most content terms of the shorter appear in the longer and
        each sentence of the shorter has one close in meaning in the longer: a statement one outlet gives
        alone and another beside an unrelated sentence. Within one article the longer must hold nothing
        else either: a line and the longer quote that repeats it and goes on are both kept. Sentence vectors
        are embedded alone however the passage vectors were made (see `qa.config.VECTORS`)."""
        for i in (a, b):
            if i not in terms_of:
                terms_of[i] = frozenset(terms(pool.passages[i].text))
        (small, s), (large, other) = sorted(((terms_of[a], a), (terms_of[b], b)), key=lambda x: len(x[0]))
        if not small or len(small & large) / len(small) < 0.8:
            return False
        sv, starts, counts = pool.sentence_vectors, pool.starts, pool.counts
        close = sv[starts[s]:starts[s] + counts[s]] @ sv[starts[other]:starts[other] + counts[other]].T
        if not close.size or close.max(axis=1).min() < SAME_SENTENCE:
            return False
        return pool.sources[a] != pool.sources[b] or bool(close.max(axis=0).min() >= SAME_SENTENCE)

    def unknown_names(self, query: Query) -> list[str]:
        """Names in the question that no article mentions, when they must be what it is about: a
        several-word name whose last word never occurs ("Chancellor Olaf Scholz"), or every name of the question.
        A lone unknown word beside known names is let through: it may be a metonym ("Brussels" for the EU)."""
        if query.known_terms is None:
            self.candidates(query)
        known_terms = query.known_terms or frozenset()
        runs = [m.group() for m in _NAME_RUN.finditer(query.text) if m.start() > 0]

        def known(words: str) -> bool:
            return known_terms.issuperset(terms(words))

        unknown = [r for r in runs if not known(r)]
        # the last word of a several-word name is the one that identifies it ("Chancellor Olaf Scholz")
        if any(len(r.split()) > 1 and not known(r.split()[-1]) for r in unknown) or (runs and len(unknown) == len(runs)):
            return unknown
        return []

    def echoes(self, hit: Hit, sentence: int, threshold: float = 0.9) -> list[Passage]:
        """Passages of other articles holding a sentence that says the same as `sentence` of `hit`
        (the same quote carried by several outlets), one per article, among the question's candidates."""
        pool = hit.pool
        if pool is None:
            return []
        sv = pool.sentence_vectors
        close = np.flatnonzero(sv @ sv[pool.starts[hit.row] + sentence] >= threshold)
        owner = np.repeat(np.arange(len(pool.counts)), pool.counts)
        seen = {hit.passage.source, *(p.source for p in hit.also)}
        out: list[Passage] = []
        for r in close:
            row = int(owner[r])
            if len(out) == ECHOES:
                break
            if pool.sources[row] not in seen:
                seen.add(pool.sources[row])
                out.append(pool.passages[row])
        return out

    def score(self, query: Query, mode: str = "hybrid", pool: Candidates | None = None
              ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Scores of the candidate passages and the per-sentence signals behind them (`pool` is asked
        of the store when not given)."""
        pool = pool if pool is not None else self.candidates(query)
        w = self.weights
        st = pool.stats
        sd = pool.sentence_vectors @ query.vector
        cd = pool.window_vectors @ query.vector
        cols = pool.columns
        sb = max_normalised(bm25(pool.sentence_tf, pool.sentence_len, cols, query.tokens, pool.sentence_df,
                                  st.sentences, st.sentence_tokens))
        icov = coverage(pool.sentence_tf, cols, query.terms, pool.sentence_df, st.sentences)
        starts = pool.starts

        def pooled(x: np.ndarray) -> np.ndarray:
            return np.maximum.reduceat(x, starts) if len(starts) else x[:0]

        if mode == "hybrid":
            length = np.minimum(pool.sentence_len.astype(np.float32) / 40, 1.0)
            ss = sd + w.window * cd + w.bm25 * sb + w.coverage * icov + w.length * length
            pcov = coverage(pool.passage_tf, cols, query.terms)
            ps = pooled(sd) + pooled(cd) + w.p_bm25 * pooled(sb) + w.p_sentence * pooled(ss) + w.p_coverage * pcov
        elif mode == "dense":
            ss = sd + w.window * cd
            ps = pooled(sd) + pooled(cd)
        elif mode == "bm25":
            ss = sb
            pb = bm25(pool.passage_tf, pool.passage_len, cols, query.tokens, pool.passage_df, st.passages,
                      st.passage_tokens)
            ps = max_normalised(pb) + w.p_bm25 * pooled(sb)
        else:
            raise InputError(f"unknown mode {mode!r}: use {', '.join(MODES)}")
        time_signal = self._time_signal(query.time, pool)
        signals = {"ss": ss, "sd": sd, "icov": icov}
        if time_signal is not None:
            ps = ps + time_signal
            signals["time"] = time_signal
        return ps, signals

    def search(self, query: Query, k: int = 3, mode: str = "hybrid", pool: int = 30,
               exclude: set[str] | None = None) -> list[Hit]:
        """The `k` best passage groups for the query, best first; `exclude` leaves out whole sources."""
        candidates = self.candidates(query, exclude)
        if not len(candidates.counts):
            return []
        ps, sig = self.score(query, mode, candidates)
        order = np.argsort(-ps, kind="stable")[: max(pool, k)]
        hits: list[Hit] = []
        terms_of: dict[int, frozenset[str]] = {}
        for row in (int(r) for r in order):
            passage = candidates.passages[row]
            dup = next((h for h in hits if self._near_duplicate(candidates, h.row, row, terms_of)), None)
            if dup is not None:
                if passage.source != dup.passage.source and all(passage.source != o.source for o in dup.also):
                    dup.also.append(passage)
                continue
            if len(hits) < k:
                start = int(candidates.starts[row])
                sl = slice(start, start + int(candidates.counts[row]))
                hits.append(Hit(row, passage, float(ps[row]), sig["ss"][sl], sig["sd"][sl], sig["icov"][sl],
                                pool=candidates, time=float(sig["time"][row]) if "time" in sig else 0.0))
        return hits
