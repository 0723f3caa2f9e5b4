"""Choose the reader's weights on the tuning half of a SQuAD file, and report them on the test half.

1. The retrieval weight: each tuning question is answered with every weight of the grid; the weight
   whose first quoted sentence holds the gold answer most often wins (ties go to the smaller weight,
   which leans more on the reader). Leave-one-article-out over the tuning half is printed beside it.
2. The abstention threshold on the reader's logit, calibrated on out-of-corpus questions: each
   answerable question is asked of the whole corpus (it should be answered) and of the corpus without
   its own article (it should not). The threshold makes the fewest errors of both kinds together on
   the tuning half, with the name and answer-type gates in place; the rates with and without the gates
   are printed, and on SQuAD's own unanswerable questions too.
3. Not tuned, only reported: the bench's questions asked of the seeds index (news about other things),
   which should all be abstained on.

The reader's logits do not depend on the weights, so each (question, sentence) pair is scored once.

Run: .venv/bin/python bench/tune_reader.py ../shared/bench/squad-v2-dev-5articles.json
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa.config import Settings, project_seeds
from qa.embedding import make_embedder, vector_kind
from qa.evaluation import questions
from qa.evaluation.run import eval_index_dir
from qa.evaluation.scoring import contains_gold
from qa.index import local as store
from qa.index.local import ingest_documents, ingest_paths
from qa.pipeline import Pipeline
from qa.policy.decide import Policy
from qa.question.understanding import understand
from qa.reader.models import Reader, make_reader
from qa.reader.reading import SentenceReader
from qa.retrieval.retriever import Query, Retriever

GRID = (0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0)


class CachedReader:
    """A reader that scores each (question, text) pair once."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.name = reader.name
        self.cache: dict[tuple[str, str], float] = {}

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if (question, t) not in self.cache]
        if todo:
            for t, s in zip(todo, self.reader.score(question, todo), strict=True):
                self.cache[(question, t)] = float(s)
        return np.array([self.cache[(question, t)] for t in texts], dtype=np.float32)


def first_quote_right(pipeline: Pipeline, qs: list[questions.Question], queries: list[Query]) -> list[bool]:
    out = []
    for q, query in zip(qs, queries, strict=True):
        quotes = pipeline.run(understand(q.q), query=query).answer.quotes
        out.append(bool(quotes) and contains_gold(quotes[0].text, q))
    return out


def chosen_logit(pipeline: Pipeline, q: questions.Question, query: Query, exclude: set[str] | None) -> float:
    """The logit of the sentence the reader would answer with (-inf when a gate abstains by itself)."""
    trace = pipeline.run(understand(q.q), query=query, exclude=exclude)
    if trace.reading is None or trace.decision.abstained:
        return float("-inf")
    first = trace.decision.quotes[0]
    return next(r.logit for r in trace.reading.sentences if (r.hit, r.sentence) == (first.hit, first.sentence))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    args = parser.parse_args()
    settings = Settings.from_env()
    qset = questions.load(args.file)
    embedder = make_embedder(settings.model, settings.backend, settings.cache_dir, export_missing=True)
    index_dir = eval_index_dir(args.file, f"{settings.model}:{vector_kind(settings.backend)}")
    ingest_documents(qset.documents or [], index_dir, embedder, roots=[])
    retriever = Retriever(store.open_index(index_dir, embedder.name), embedder)
    reader = CachedReader(make_reader(settings.reader_model))
    answerable = [q for q in qset.questions if q.answerable]
    tune = [q for q in answerable if questions.in_tuning_half(q.qid)]
    test = [q for q in answerable if not questions.in_tuning_half(q.qid)]
    tq, xq = retriever.prepare_many([q.q for q in tune]), retriever.prepare_many([q.q for q in test])
    no_abstain = Policy(min_logit=float("-inf"))

    def answerer(weight: float, min_logit: float = float("-inf"), gates: bool = True) -> Pipeline:
        return Pipeline(retriever, SentenceReader(reader), replace(no_abstain, retrieval=weight, min_logit=min_logit,
                                                                   answer_type=gates, unknown_names=gates))

    # 1. the retrieval weight
    article = [q.sources[0].split("/")[0] for q in tune]
    right = {w: np.array(first_quote_right(answerer(w), tune, tq)) for w in GRID}
    best_w = max(GRID, key=lambda w: (right[w].mean(), -w))
    print(f"tuning half: {len(tune)} questions, first quote holds the gold answer:")
    print("  " + "  ".join(f"{w:g}: {right[w].mean():.3f}" for w in GRID))
    loao = []
    for art in sorted(set(article)):
        inside = np.array([a != art for a in article])
        w = max(GRID, key=lambda w: (right[w][inside].mean(), -w))
        loao.extend(right[w][~inside])
        print(f"  leave out {art}: weight {w:g}")
    print(f"chosen retrieval weight {best_w:g}: tuning {right[best_w].mean():.3f}, "
          f"leave-one-article-out {np.mean(loao):.3f}, "
          f"test {np.mean(first_quote_right(answerer(best_w), test, xq)):.3f}")

    # 2. the abstention threshold: the reader's logit alone, then the name and answer-type gates on top
    articles: dict[str, set[str]] = {}
    for d in qset.documents or []:
        articles.setdefault(d.source.split("/")[0], set()).add(d.source)
    unanswerable = [q for q in qset.questions if not q.answerable]
    uq = retriever.prepare_many([q.q for q in unanswerable])
    u_tune = np.array([questions.in_tuning_half(q.qid) for q in unanswerable])
    logits = {}
    for gates in (False, True):
        a = answerer(best_w, gates=gates)
        logits[gates] = {
            half: (np.array([chosen_logit(a, q, query, None) for q, query in zip(qs, queries, strict=True)]),
                   np.array([chosen_logit(a, q, query, articles[q.sources[0].split("/")[0]])
                             for q, query in zip(qs, queries, strict=True)]))
            for half, qs, queries in (("tuning", tune, tq), ("test", test, xq))}
        logits[gates]["unanswerable"] = (np.array([chosen_logit(a, q, query, None)
                                                   for q, query in zip(unanswerable, uq, strict=True)]), np.zeros(0))
    # Abstaining on an answerable question is as bad as answering one the articles do not answer: the
    # threshold minimises the two error rates together, with the gates in place, on the tuning half.
    tin, tout = logits[True]["tuning"]
    candidates = np.arange(-6.0, 4.01, 0.25)
    errors = {t: np.mean(tin < t) + np.mean(tout >= t) for t in candidates}
    best_t = min(candidates, key=lambda t: (round(errors[t], 6), t))  # a tie answers more: the lower threshold
    print("  false + missed abstentions: " + "  ".join(f"{t:g}: {errors[t]:.3f}" for t in candidates if -5 <= t <= 1))
    print(f"min logit {best_t:.2f} (fewest false plus missed abstentions on the tuning half, gates in place)")
    for gates in (False, True):
        no = logits[gates]["unanswerable"][0]
        print(f"  {'with' if gates else 'without'} the name and answer-type gates:")
        for half in ("tuning", "test"):
            inside, outside = logits[gates][half]
            no_half = no[u_tune if half == "tuning" else ~u_tune]
            print(f"    {half} half: false abstentions {np.mean(inside < best_t):.3f}, out-of-corpus abstained "
                  f"{np.mean(outside < best_t):.3f}, SQuAD-unanswerable abstained {np.mean(no_half < best_t):.3f}")

    # 3. other news: the bench's questions asked of the seeds index
    with tempfile.TemporaryDirectory() as tmp:
        ingest_paths([project_seeds()], Path(tmp), embedder)
        seeds = Pipeline(Retriever(store.open_index(Path(tmp), embedder.name), embedder), SentenceReader(reader),
                         replace(no_abstain, retrieval=best_w, min_logit=best_t))
        asked = answerable[::3]
        abstained = np.mean([seeds.ask(q.q).abstained for q in asked])
        print(f"{len(asked)} bench questions asked of the seeds index: {abstained:.3f} abstained")


if __name__ == "__main__":
    main()
