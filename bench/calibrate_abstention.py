"""Calibrate the abstention thresholds on out-of-corpus questions made from a SQuAD file.

Each answerable question is asked twice: of the whole corpus (it should be answered) and of the corpus
without its own article (nothing answers it: it should abstain). The thresholds are chosen on the
tuning half (ids with an even last SHA-1 hex digit) and the rates are reported on the test half.

Run: .venv/bin/python bench/calibrate_abstention.py ../shared/bench/squad-v2-dev-5articles.json
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa.embedding import SentenceTransformerEmbedder
from qa.evaluation import questions
from qa.evaluation.run import eval_index_dir
from qa.index import local as store
from qa.index.local import ingest_documents
from qa.pipeline import POOL, Pipeline
from qa.policy.decide import Policy
from qa.question.understanding import understand
from qa.retrieval.retriever import Query, Retriever


def features(pipeline: Pipeline, q: questions.Question, query: Query, exclude: set[str] | None
             ) -> tuple[float, float, float]:
    """(cosine, term coverage) of the best sentence, and 1.0 when the other abstention rules
    (a name no article mentions, a missing number or time) abstain by themselves."""
    gates_only = Pipeline(pipeline.retriever, policy=replace(pipeline.policy, min_dense=-1.0, min_coverage=-1.0))
    trace = gates_only.run(understand(q.q), k=POOL, query=query, exclude=exclude)
    top = trace.retrieval.hits[0]
    s = top.best_sentence() or 0
    return float(top.sentence_dense[s]), float(top.sentence_coverage[s]), float(trace.decision.abstained)


def rates(inside: np.ndarray, outside: np.ndarray, dense: float, cov: float) -> tuple[float, float]:
    """(false abstention rate on answerable, correct abstention rate on out-of-corpus)."""
    def abstain(x: np.ndarray) -> np.ndarray:
        return ((x[:, 0] < dense) & (x[:, 1] < cov)) | (x[:, 2] > 0)
    return float(abstain(inside).mean()), float(abstain(outside).mean())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("--max-false", type=float, default=0.02,
                        help="false abstentions allowed on the tuning half (all rules together)")
    args = parser.parse_args()
    qset = questions.load(args.file)
    embedder = SentenceTransformerEmbedder()
    index_dir = eval_index_dir(args.file, f"{embedder.name}:float32")  # the index `qa eval` builds for the same file
    ingest_documents(qset.documents or [], index_dir, embedder)
    answerer = Pipeline(Retriever(store.open_index(index_dir, embedder.name), embedder))
    answerable = [q for q in qset.questions if q.answerable]
    queries = answerer.retriever.prepare_many([q.q for q in answerable])
    articles: dict[str, set[str]] = {}
    for d in qset.documents or []:
        articles.setdefault(d.source.split("/")[0], set()).add(d.source)
    split: dict[bool, tuple[list[tuple[float, float, float]], list[tuple[float, float, float]]]] = {
        True: ([], []), False: ([], [])}  # tuning half? -> (in-corpus, out-of-corpus) features
    for q, query in zip(answerable, queries, strict=True):
        own = articles[q.sources[0].split("/")[0]]
        half = split[questions.in_tuning_half(q.qid)]
        half[0].append(features(answerer, q, query, None))
        half[1].append(features(answerer, q, query, own))
    (tin, tout), (xin, xout) = ([np.array(a) for a in split[True]], [np.array(a) for a in split[False]])
    best = None
    for dense, cov in itertools.product(np.arange(0.30, 0.71, 0.02), np.arange(0.20, 0.91, 0.04)):
        false, correct = rates(tin, tout, dense, cov)
        if false <= args.max_false and (best is None or correct > best[0]):
            best = (correct, round(float(dense), 2), round(float(cov), 2))
    current = Policy()
    print(f"questions: {len(tin)} tuning, {len(xin)} test (each asked in-corpus and out-of-corpus)")
    for name, (dense, cov) in (("current", (current.min_dense, current.min_coverage)),
                               ("best on tuning half", (best[1], best[2]) if best else (0, 0))):
        ft, ct = rates(tin, tout, dense, cov)
        fx, cx = rates(xin, xout, dense, cov)
        print(f"{name:>20}: dense < {dense:.2f} and coverage < {cov:.2f}: "
              f"tuning false {ft:.3f} / abstained {ct:.3f}; test false {fx:.3f} / abstained {cx:.3f}")


if __name__ == "__main__":
    main()
