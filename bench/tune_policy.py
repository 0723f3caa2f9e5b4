"""Try answer policies on the tuning half of a question set: each question is retrieved and read once, then
decided under every policy given (the policy is a pure function of what retrieval and the reader returned).

    .venv/bin/python bench/tune_policy.py ../shared/bench/squad-v2-dev-5articles.json \
        --try "close_second=1.0" --try "close_second=1.0 untyped=1.0"
    .venv/bin/python bench/tune_policy.py ../shared/bench/news-dev/questions.jsonl --index news-dev-idx --try …

Each `--try` is a list of `field=value` overrides of `qa.policy.decide.Policy` (tuples as `a,b`); the
current defaults are always the first row. `--budget` overrides what the reader reads
(`qa.reader.reading.Budget`) for the whole run. Report the chosen policy on the other half with `qa eval`.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TypeVar

from qa.config import resolve
from qa.embedding import make_embedder, vector_kind
from qa.evaluation import questions
from qa.evaluation.run import eval_index_dir
from qa.evaluation.scoring import Scores, run_traces, score_traces
from qa.index.local import ingest_documents, open_index
from qa.pipeline import Pipeline
from qa.policy.decide import Policy
from qa.reader.models import make_reader
from qa.reader.reading import Budget, SentenceReader
from qa.retrieval.retriever import Retriever


def overrides(cls: type[T], text: str) -> T:
    """An instance of the dataclass `cls` (Policy, Budget) from `field=value` overrides of its defaults."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    changes: dict[str, object] = {}
    for item in text.split():
        name, _, value = item.partition("=")
        if name not in fields:
            raise SystemExit(f"unknown {cls.__name__} field {name!r}")
        default = getattr(cls(), name)
        if isinstance(default, bool):
            changes[name] = value.lower() in {"1", "true", "yes"}
        elif isinstance(default, tuple):
            changes[name] = tuple(v for v in value.split(",") if v)
        else:
            changes[name] = type(default)(value)
    return dataclasses.replace(cls(), **changes)  # type: ignore[type-var]

T = TypeVar("T")


def row(label: str, s: Scores) -> str:
    abstained = "-" if s.abstained is None else f"{s.abstained:.3f}"
    return (f"{label:<48} {s.contains or 0:.3f} {s.first_contains or 0:.3f} {s.hit1:.3f} "
            f"{s.answered or 0:.3f} {abstained:>6} {s.quotes or 0:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", type=Path)
    ap.add_argument("--index", type=Path, help="the index a JSONL set is asked of")
    ap.add_argument("--split", default="tune", choices=("tune", "test", "all"))
    ap.add_argument("--try", dest="tries", action="append", default=[], metavar="OVERRIDES")
    ap.add_argument("--budget", default="", metavar="OVERRIDES", help="what the reader reads (Budget fields)")
    ap.add_argument("-k", type=int, default=3)
    args = ap.parse_args()

    settings = resolve(index=args.index, env={})
    embedder = make_embedder(settings.model, settings.backend, settings.cache_dir, export_missing=True)
    qset = questions.load(args.path)
    if qset.documents is not None:
        where = eval_index_dir(args.path, f"{settings.model}:{vector_kind(settings.backend)}:{settings.vectors}")
        ingest_documents(qset.documents, where, embedder, vectors=settings.vectors)
    elif args.index is None:
        raise SystemExit("a JSONL set needs --index")
    else:
        where = args.index
    qs = [q for q in qset.questions if args.split == "all" or questions.in_tuning_half(q.qid) == (args.split == "tune")]
    pipeline = Pipeline(Retriever(open_index(where, model=embedder.name), embedder),
                        SentenceReader(make_reader(settings.reader_model), overrides(Budget, args.budget)))
    traces = run_traces(qs, pipeline, "hybrid", args.k)
    print(f"{args.path.name} ({args.split}): {sum(q.answerable for q in qs)} answerable, "
          f"{sum(not q.answerable for q in qs)} unanswerable")
    print(f"{'policy':<48} {'gold':>5} {'first':>5} {'hit@1':>5} {'answ.':>5} {'abst.':>6} quotes")
    print(row(f"defaults {args.budget}".strip(), score_traces(qs, traces, "defaults")))
    for text in args.tries:
        policy = overrides(Policy, text)
        redone = [pipeline.redecide(t, policy, args.k) for t in traces]
        print(row(text, score_traces(qs, redone, text)), flush=True)


if __name__ == "__main__":
    main()
