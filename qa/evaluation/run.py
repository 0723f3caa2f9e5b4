"""`qa eval` without the printing: a question set scored by the bot (with and without the reader, per mode)
and by the common baseline recipes, on the configured index or on the set's own articles."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qa.bot import Bot
from qa.config import Settings
from qa.embedding import make_embedder, vector_kind
from qa.errors import SourceError
from qa.evaluation import questions
from qa.evaluation.dialogues import DialogueScores, evaluate_dialogues, in_half, is_dialogue_file, load_dialogues
from qa.evaluation.scoring import Scores, evaluate_baselines, evaluate_mode
from qa.index.contract import IndexTarget
from qa.index.local import IndexData, LocalIndex
from qa.index.open import target_for
from qa.index.pipeline import ingest_documents
from qa.pipeline import Pipeline
from qa.question.understanding import understand
from qa.reader.models import make_reader
from qa.reader.reading import SentenceReader
from qa.retrieval.retriever import Retriever

SPLITS = ("all", "tune", "test")


def eval_index_dir(path: Path, model: str) -> Path:
    """Where the index of a question set's own documents is kept between runs (one per file and model)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qa" / "eval"
    digest = hashlib.sha256(path.read_bytes() + model.encode()).hexdigest()[:16]
    return base / f"{path.stem}-{digest}"


@dataclass
class Evaluation:
    """The figures of one run of `qa eval`."""

    title: str
    rows: list[Scores]
    where: str  # the index that was scored
    notes: list[str]
    dialogues: list[DialogueScores] = field(default_factory=list)  # for a dialogue set, instead of rows


def evaluate_file(path: Path, settings: Settings, *, split: str = "all", k: int | None = None,
                  baselines: bool = True, index_given: bool = False,
                  status: Callable[[str], None] = lambda _: None) -> Evaluation:
    """Score the question set at `path`. A SQuAD file brings its own articles: they are indexed into the
    index the user gave (`--store`, or `--index` when `index_given`), or else into a cached local index of
    their own. A JSONL set is asked of the configured index (built from the corpus on a first run)."""
    if not path.is_file():
        raise SourceError(f"{path}: no such question set")
    if is_dialogue_file(path):
        return evaluate_dialogue_file(path, settings, split=split, k=k, status=status)
    qset = questions.load(path)
    embedder = make_embedder(settings.model, settings.backend, settings.cache_dir, export_missing=True)
    target: IndexTarget
    if qset.documents is not None:
        if settings.store is not None or index_given:
            target = target_for(settings)
        else:
            target = LocalIndex(eval_index_dir(path, f"{settings.model}:{vector_kind(settings.backend)}:{settings.vectors}"))
        status(f"Indexing {len(qset.documents)} documents of {path.name} into the {target.where}…")
        ingest_documents(qset.documents, target, embedder, roots=[], vectors=settings.vectors)
    else:
        bot = Bot(settings, embedder)
        bot.build_if_missing()
        target = bot.target
    index = target.open(embedder.name)
    try:
        qs = qset.questions
        if split != "all":
            qs = [q for q in qs if questions.in_tuning_half(q.qid) == (split == "tune")]
        plain = Pipeline(Retriever(index, embedder))
        k = k or settings.k
        rows, notes = [], []
        queries = plain.prepare([understand(q.q) for q in qs])
        if settings.reader != "none":
            reader = make_reader(settings.reader_model)
            status(f"Scoring hybrid with the reader ({reader.name})…")
            read = plain.with_reader(SentenceReader(reader))
            rows.append(evaluate_mode(qs, read, "hybrid", k, queries, name="this bot, hybrid + reader"))
        for mode in ("hybrid", "dense", "bm25"):
            status(f"Scoring {mode}…")
            rows.append(evaluate_mode(qs, plain, mode, k, queries, name=f"this bot, {mode}, no reader"))
        if qset.documents is not None and baselines:
            if isinstance(index, IndexData):
                status("Scoring baselines…")
                paragraphs = {d.source: d.text for d in qset.documents}
                rows.extend(evaluate_baselines(qs, index, embedder, paragraphs))
            else:
                notes.append("the baseline recipes are scored on a local index only: run without --store for them")
    finally:
        index.close()
    n_ans = sum(q.answerable for q in qs)
    title = (f"{path.name} ({split}) on the {target.where}: {n_ans} answerable, {len(qs) - n_ans} unanswerable "
             f"questions; hits count articles (SQuAD: paragraphs)")
    return Evaluation(title, rows, target.where, notes)


def evaluate_dialogue_file(path: Path, settings: Settings, *, split: str = "all", k: int | None = None,
                           status: Callable[[str], None] = lambda _: None) -> Evaluation:
    """Score a dialogue set (see `qa.evaluation.dialogues`) on the configured index, with and without the reader."""
    dialogues = [d for d in load_dialogues(path) if in_half(path, d, split)]
    embedder = make_embedder(settings.model, settings.backend, settings.cache_dir, export_missing=True)
    bot = Bot(settings, embedder)
    bot.build_if_missing()
    index = bot.target.open(embedder.name)
    try:
        plain = Pipeline(Retriever(index, embedder))
        k = k or settings.k
        scored = []
        if settings.reader != "none":
            reader = make_reader(settings.reader_model)
            status(f"Asking the dialogues with the reader ({reader.name})…")
            scored.append(evaluate_dialogues(dialogues, plain.with_reader(SentenceReader(reader)), k,
                                             "this bot, hybrid + reader"))
        status("Asking the dialogues without the reader…")
        scored.append(evaluate_dialogues(dialogues, plain, k, "this bot, hybrid, no reader"))
    finally:
        index.close()
    turns = sum(len(d.turns) for d in dialogues)
    title = f"{path.name} ({split}) on the {bot.target.where}: {len(dialogues)} dialogues, {turns} turns"
    return Evaluation(title, [], bot.target.where, [], scored)
