"""Scoring the bot on a question set: retrieval hits, answer correctness and abstention, per mode and baseline."""

from __future__ import annotations

import os
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field

import bm25s
import numpy as np

from qa.embedding import Embedder
from qa.evaluation.questions import Question
from qa.index.local.store import IndexData
from qa.pipeline import Pipeline, Trace
from qa.question.understanding import understand
from qa.retrieval.retriever import Query

_PUNCT = re.compile(f"[{re.escape(string.punctuation)}“”‘’]")


def normalise(text: str) -> str:
    """Lower case, punctuation and extra spaces removed: the usual answer-matching normalisation."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def contains_gold(text: str | None, q: Question) -> bool:
    if not text or not q.keys:
        return bool(text) and not q.keys
    norm = normalise(text)
    found = [normalise(k) in norm for k in q.keys]
    return any(found) if q.any_key else all(found)


def source_matches(source: str, prefixes: Sequence[str]) -> bool:
    base = os.path.basename(source)
    return any(base.startswith(p) or source == p for p in prefixes)


@dataclass
class Scores:
    """Figures of one system on one question set."""

    name: str
    answerable: int = 0
    unanswerable: int = 0
    hit1: float = 0.0
    hit5: float = 0.0
    mrr10: float = 0.0
    contains: float | None = None  # answer (or top sentence) contains the gold answer
    first_contains: float | None = None  # the first quoted sentence alone contains it
    quotes: float | None = None  # sentences quoted per answer
    answered: float | None = None  # share of answerable questions answered (not abstained)
    abstained: float | None = None  # share of unanswerable questions abstained on
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind of question -> [questions, answers with gold]
    misses: dict[str, int] = field(default_factory=dict)  # why an answerable question's answer lacks the gold

    def add_kind(self, kind: str, right: bool) -> None:
        row = self.by_kind.setdefault(kind, [0, 0])
        row[0] += 1
        row[1] += right

    def add_ranking(self, ranked_sources: list[str], q: Question) -> None:
        for rank, source in enumerate(ranked_sources[:10], start=1):
            if source_matches(source, q.sources):
                self.hit1 += rank == 1
                self.hit5 += rank <= 5
                self.mrr10 += 1 / rank
                break

    def finish(self, contains: int | None, answered: int | None, abstained: int | None,
               first_contains: int | None = None, quotes: int | None = None, answers: int = 0) -> Scores:
        n = max(self.answerable, 1)
        self.hit1, self.hit5, self.mrr10 = self.hit1 / n, self.hit5 / n, self.mrr10 / n
        self.contains = None if contains is None else contains / n
        self.first_contains = None if first_contains is None else first_contains / n
        self.quotes = None if quotes is None or not answers else quotes / answers
        self.answered = None if answered is None else answered / n
        if abstained is not None and self.unanswerable:
            self.abstained = abstained / self.unanswerable
        return self


def ranked_sources(trace: Trace) -> list[str]:
    """Distinct articles in the order the answer cites their passages (the nearest passages' order for an
    abstention); a grouped passage, or a quoted sentence other articles carry too, counts for each of them."""
    hits, quoted = trace.retrieval.hits, {q.hit: q.sentence for q in trace.decision.quotes}
    out: list[str] = []
    for i in trace.decision.order:
        echoes = trace.retrieval.echoes_of(i, quoted[i]) if i in quoted else ()
        for s in [hits[i].passage.source] + [o.source for o in (*hits[i].also, *echoes)]:
            if s not in out:
                out.append(s)
    return out


KINDS = ("who", "where", "when", "how many", "list", "what")
MISSES = ("wrong article", "right article, answer not read", "answer read, not chosen", "abstained")


def question_kind(trace: Trace) -> str:
    """The row a question counts in: who, where, when, how many, list (asks for several things) or what."""
    q = trace.question
    if q.several:
        return "list"
    return {"person": "who", "organisation": "who", "place": "where", "time": "when",
            "number": "how many"}.get(q.answer_kind or "", "what")


def miss_of(trace: Trace, q: Question) -> str:
    """Why the answer lacks the gold: no retrieved passage is from an article that answers; the answering
    sentence was in a retrieved passage of such an article but not read; it was read but another was quoted;
    or the bot abstained. Without a reader, every sentence of the retrieved passages counts as read."""
    if trace.answer.abstained:
        return "abstained"
    hits = trace.retrieval.hits
    right = [i for i, h in enumerate(hits) if source_matches(h.passage.source, q.sources)]
    if not right:
        return "wrong article"
    if trace.reading is not None:
        read = {(r.hit, r.sentence) for r in trace.reading.sentences}
    else:
        read = {(i, j) for i in right for j in range(len(hits[i].passage.sentences))}
    if any((i, j) in read and contains_gold(t, q) for i in right for j, t in enumerate(hits[i].passage.sentence_texts())):
        return "answer read, not chosen"
    return "right article, answer not read"


def evaluate_mode(questions: list[Question], pipeline: Pipeline, mode: str, k: int = 3,
                  queries: list[Query] | None = None, name: str | None = None) -> Scores:
    """Run the bot itself (retrieval, reader when it has one, the answer policy) on every question.

    Hits count the articles in the order the answer cites them.
    """
    return score_traces(questions, run_traces(questions, pipeline, mode, k, queries), name or f"this bot, {mode}")


def run_traces(questions: list[Question], pipeline: Pipeline, mode: str, k: int = 3,
               queries: list[Query] | None = None) -> list[Trace]:
    """Every stage's result for each question, as the bot answers it."""
    understood = [understand(q.q) for q in questions]
    queries = queries or pipeline.prepare(understood)
    return [pipeline.run(question, k, mode, query) for question, query in zip(understood, queries, strict=True)]


def score_traces(questions: list[Question], traces: list[Trace], name: str) -> Scores:
    """The figures of the answers in `traces` (one per question, in order)."""
    scores = Scores(name)
    contains = first = answered = abstained = quoted = 0
    for q, trace in zip(questions, traces, strict=True):
        answer = trace.answer
        if q.answerable:
            scores.answerable += 1
            scores.add_ranking(ranked_sources(trace), q)
            right = contains_gold(answer.answer, q)
            contains += right
            scores.add_kind(question_kind(trace), right)
            if not right:
                why = miss_of(trace, q)
                scores.misses[why] = scores.misses.get(why, 0) + 1
            sentences = [x.text for x in answer.quotes]
            first += contains_gold(sentences[0] if sentences else None, q)
            answered += not answer.abstained
            quoted += len(sentences)
        else:
            scores.unanswerable += 1
            abstained += answer.abstained
    return scores.finish(contains, answered, abstained, first, quoted, answered)


class _PlainBM25:
    """The common recipe's lexical scorer: bm25s with its defaults (English stopwords, no stemming)."""

    def __init__(self, texts: list[str]) -> None:
        self._index = bm25s.BM25()
        self._index.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
        self.size = len(texts)

    def scores(self, question: str) -> np.ndarray:
        words = [w for w in bm25s.tokenize([question], stopwords="en", return_ids=False, show_progress=False)[0]
                 if w in self._index.vocab_dict]
        return np.asarray(self._index.get_scores(words), dtype=np.float32) if words else np.zeros(self.size)


def _rrf(*rankings: np.ndarray, k: int = 60) -> np.ndarray:
    """Reciprocal-rank fusion of several score arrays over the same units."""
    fused = np.zeros(len(rankings[0]), dtype=np.float64)
    for scores in rankings:
        order = np.argsort(-scores, kind="stable")
        ranks = np.empty(len(scores), dtype=np.int64)
        ranks[order] = np.arange(1, len(scores) + 1)
        fused += 1.0 / (k + ranks)
    return fused


def evaluate_baselines(questions: list[Question], index: IndexData, embedder: Embedder,
                       paragraph_texts: dict[str, str]) -> list[Scores]:
    """The common recipes: whole paragraphs or single sentences, ranked by BM25, dense or RRF."""
    answerable = [q for q in questions if q.answerable]
    q_vecs = embedder.encode([q.q for q in answerable])
    para_sources = list(paragraph_texts)
    para_vecs = embedder.encode([paragraph_texts[s] for s in para_sources])
    sent_texts = [s for p in index.passages for s in p.sentence_texts()]
    sent_sources = [p.source for p in index.passages for _ in p.sentences]
    sent_vecs = np.asarray(index.sentence_vectors)
    units = {
        "whole paragraphs": (para_sources, None, para_vecs, _PlainBM25([paragraph_texts[s] for s in para_sources])),
        "single sentences": (sent_sources, sent_texts, sent_vecs, _PlainBM25(sent_texts)),
    }
    results = []
    for unit, (sources, texts, vecs, bm25) in units.items():
        for method in ("BM25", "dense", "RRF"):
            s = Scores(f"{unit}, {method}")
            contains = 0
            for q, qv in zip(answerable, q_vecs, strict=True):
                lexical = bm25.scores(q.q)
                dense = vecs @ qv
                score = {"BM25": lexical, "dense": dense, "RRF": None}[method]
                if score is None:
                    score = _rrf(lexical, dense)
                order = np.argsort(-score, kind="stable")
                ranked = list(dict.fromkeys(sources[i] for i in order[:200]))
                s.answerable += 1
                s.add_ranking(ranked, q)
                if texts is not None:
                    contains += contains_gold(texts[int(order[0])], q)
            results.append(s.finish(contains if texts is not None else None, None, None))
    return results

