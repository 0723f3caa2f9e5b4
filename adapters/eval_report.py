"""`qa eval`: run the scoring and print the side-by-side table with rich."""

from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path

from rich.console import Console
from rich.table import Table

from adapters.render import safe_text
from qa import config, evaluation, questions, store
from qa.answer import Answerer
from qa.bot import Bot
from qa.embedder import make_embedder, vector_kind
from qa.ingest import ingest_documents
from qa.reader import make_reader
from qa.reading import SentenceReader
from qa.retrieval import Retriever


def eval_index_dir(path: Path, model: str) -> Path:
    """Where the index of a question set's own documents is kept between runs (one per file and model)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qa" / "eval"
    digest = hashlib.sha256(path.read_bytes() + model.encode()).hexdigest()[:16]
    return base / f"{path.stem}-{digest}"


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def print_table(console: Console, title: str, rows: list[evaluation.Scores]) -> None:
    table = Table(title=safe_text(title), title_justify="left")
    for col in ("system", "hit@1", "hit@5", "MRR@10", "answer has gold", "1st quote has gold", "quotes",
                "answered", "abstained (no answer)"):
        table.add_column(col, justify="left" if col == "system" else "right")
    for s in rows:
        table.add_row(s.name, _fmt(s.hit1), _fmt(s.hit5), _fmt(s.mrr10), _fmt(s.contains), _fmt(s.first_contains),
                      "—" if s.quotes is None else f"{s.quotes:.2f}", _fmt(s.answered), _fmt(s.abstained))
    console.print(table)


def run_eval(args: argparse.Namespace, settings: config.Settings) -> int:
    console = Console(highlight=False, width=max(Console().width, 150))
    err = Console(stderr=True)
    path = Path(args.file)
    if not path.is_file():
        from qa.errors import SourceError

        raise SourceError(f"{path}: no such question set")
    qset = questions.load(path)
    embedder = make_embedder(settings.model, settings.backend, settings.cache_dir, export_missing=True)
    if qset.documents is not None:
        index_dir = Path(args.index) if args.index else eval_index_dir(path, f"{settings.model}:{vector_kind(settings.backend)}")
        with err.status(safe_text(f"Indexing {len(qset.documents)} documents of {path.name}…", one_line=True)):
            ingest_documents(qset.documents, index_dir, embedder, roots=[])
    else:
        bot = Bot(settings, embedder)
        if bot.needs_first_build():
            bot.reindex()
        index_dir = settings.index_dir
    index = store.open_index(index_dir, embedder.name)
    qs = qset.questions
    if args.split != "all":
        want = args.split == "tune"
        qs = [q for q in qs if questions.in_tuning_half(q.qid) == want]
    retriever = Retriever(index, embedder)
    plain = Answerer(retriever)
    k = args.k or settings.k
    rows = []
    with err.status("Scoring…") as status:
        queries = retriever.prepare_many([q.q for q in qs])
        if settings.reader != "none":
            reader = make_reader(settings.reader_model)
            status.update(f"Scoring hybrid with the reader ({safe_text(reader.name, one_line=True)})…")
            read = Answerer(retriever, reader=SentenceReader(reader))
            rows.append(evaluation.evaluate_mode(qs, read, "hybrid", k, queries,
                                                 name="this bot, hybrid + reader"))
        for mode in ("hybrid", "dense", "bm25"):
            status.update(f"Scoring {mode}…")
            rows.append(evaluation.evaluate_mode(qs, plain, mode, k, queries, name=f"this bot, {mode}, no reader"))
        if qset.documents is not None and not args.no_baselines:
            status.update("Scoring baselines…")
            paragraphs = {d.source: d.text for d in qset.documents}
            rows.extend(evaluation.evaluate_baselines(qs, index, embedder, paragraphs))
    n_ans = sum(q.answerable for q in qs)
    title = (f"{path.name} ({args.split}): {n_ans} answerable, {len(qs) - n_ans} unanswerable questions; "
             f"hits count articles (SQuAD: paragraphs)")
    print_table(console, title, rows)
    return 0
