"""Incremental ingest, the same for every index: files → documents → passages → embedded → written.

What changed is decided here once (a content hash per document), and so are the rules: which model and
backend may write to an index, what a rebuild drops, what a file that cannot be read keeps. Stores only
carry out the plan, through `qa.index.contract.IndexWriter`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa.documents import Document, find_files, load_path, word_count
from qa.documents.feeds import feed_of
from qa.embedding import Embedder, backend_of, vector_kind
from qa.errors import ModelMismatchError, SourceError
from qa.index.contract import IndexInfo, IndexTarget
from qa.index.representation import passage_text, sentence_texts, window_texts
from qa.passages import Passage, split_document

Progress = Callable[[int, int], None]  # (passages embedded so far, passages to embed)
# Passages embedded and handed to the writer per step, so a large ingest never holds all its vectors at once.
# A multiple of embed_passages' batch: the model sees the same batches whatever the store.
INGEST_BATCH = 512


@dataclass
class IngestReport:
    """What an ingest did, document by document."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # read, but not as written (e.g. another encoding)
    passages: int = 0  # passages in the index afterwards

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def _under(source: str, roots: Iterable[Path]) -> bool:
    path = Path(feed_of(source))
    return any(path == root or root in path.parents for root in roots)


def plan_changes(indexed: Mapping[str, Any], docs: list[Document], roots: Iterable[Path], protect: set[str],
                 report: IngestReport) -> tuple[set[str], list[Document]]:
    """Which indexed sources stay as they are, and which documents must be (re-)embedded.

    `indexed` maps each indexed source to a record with a `content_hash`. An indexed source absent from
    `docs` is removed when it lies under one of `roots` and neither it nor its file (a feed entry's feed)
    is in `protect`; otherwise it stays.
    The report records what is added, updated, removed and skipped.
    """
    incoming = {d.source: d for d in docs}
    keep: set[str] = set()
    for source, rec in indexed.items():
        if source in incoming:
            if incoming[source].content_hash == rec.content_hash:
                keep.add(source)
                report.skipped.append(source)
        elif _under(source, roots) and feed_of(source) not in protect:  # a file's source is its path
            report.removed.append(source)
        else:
            keep.add(source)
    fresh = [d for d in docs if d.source not in keep]
    for d in fresh:
        (report.updated if d.source in indexed else report.added).append(d.source)
    return keep, fresh


def _normalised(rows: np.ndarray) -> np.ndarray:
    return (rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


def embed_sentences_once(passages: list[Passage], embedder: Embedder, progress: Progress | None = None,
                         batch: int = 256) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The passage, sentence and window vectors with each sentence through the model once. A window's vector
    is the mean of its sentences' vectors and a passage's the mean of its sentences' and its section
    heading's, each weighted by its number of words: as mean pooling weighs the tokens of a whole text."""
    dim = embedder.dim
    parts: list[list[np.ndarray]] = [[], [], []]
    for i in range(0, len(passages), batch):
        chunk = passages[i:i + batch]
        sentences = [sentence_texts(p) for p in chunk]
        unique = list(dict.fromkeys([s for ss in sentences for s in ss] + [p.section for p in chunk if p.section]))
        vectors = embedder.encode(unique).reshape(-1, dim)
        row = {t: r for r, t in enumerate(unique)}
        for p, ss in zip(chunk, sentences, strict=True):
            sv = vectors[[row[s] for s in ss]]
            weights = np.array([max(1, word_count(s)) for s in ss], dtype=np.float32)[:, None]
            weighted = sv * weights
            windows = [weighted[max(0, j - 1):j + 2].sum(axis=0) for j in range(len(ss))]
            whole = weighted.sum(axis=0)
            if p.section:
                whole = whole + vectors[row[p.section]] * max(1, word_count(p.section))
            parts[0].append(_normalised(whole)[None, :])
            parts[1].append(sv)
            parts[2].append(_normalised(np.vstack(windows)))
        if progress:
            progress(i + len(chunk), len(passages))
    pv, sv, wv = (np.concatenate(p).reshape(-1, dim) if p else np.zeros((0, dim), dtype=np.float32) for p in parts)
    return pv, sv, wv


def embed_passages(passages: list[Passage], embedder: Embedder, progress: Progress | None = None,
                   batch: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Embed passages, their sentences and their sentence windows, in batches, reporting progress.

    A text is embedded once per batch however often it occurs: a one-sentence passage is its own
    sentence and its own window, and a two-sentence passage is both its windows.
    """
    dim = embedder.dim
    parts: list[list[np.ndarray]] = [[], [], []]
    for i in range(0, len(passages), batch):
        chunk = passages[i:i + batch]
        groups = ([passage_text(p) for p in chunk], [s for p in chunk for s in sentence_texts(p)],
                  [w for p in chunk for w in window_texts(p)])
        unique = list(dict.fromkeys(t for g in groups for t in g))
        vectors = embedder.encode(unique).reshape(-1, dim)
        row = {t: r for r, t in enumerate(unique)}
        for part, texts in zip(parts, groups, strict=True):
            part.append(vectors[[row[t] for t in texts]])
        if progress:
            progress(i + len(chunk), len(passages))
    pv, sv, wv = (np.concatenate(p).reshape(-1, dim) if p else np.zeros((0, dim), dtype=np.float32) for p in parts)
    return pv, sv, wv


def check_compatible(built: IndexInfo | None, model: str, backend: str, where: str) -> None:
    """ModelMismatchError unless vectors of `model` made on `backend` may be added to an index built as `built`
    (the same model, and a backend of the same vector kind)."""
    if built is None:
        return
    if built.model != model:
        raise ModelMismatchError(f"{where} was built with model {built.model!r}, not {model!r}",
                                 built_model=built.model, asked=model)
    if vector_kind(built.backend) != vector_kind(backend):
        raise ModelMismatchError(f"{where} was built with the {built.backend} backend, not {backend}",
                                 built_backend=built.backend, asked=backend)


def ingest_documents(
    docs: list[Document],
    target: IndexTarget,
    embedder: Embedder,
    *,
    roots: Iterable[Path] = (),
    rebuild: bool = False,
    progress: Progress | None = None,
    report: IngestReport | None = None,
    protect: set[str] | None = None,
    vectors: str = "sentences",
    record: list[Path] | None = None,
) -> IngestReport:
    """Bring the index at `target` up to date with `docs` (`vectors`: see `qa.config.VECTORS`); `record`: the
    files and folders they were read from, which the index remembers (see `IndexWriter.record_paths`).

    Documents whose content hash is unchanged keep their vectors; indexed documents under one of
    `roots` that are not in `docs` are removed (unless in `protect`: files that could not be read this
    time); everything else in the index is left alone. Nothing is visible to readers until the
    writer commits, atomically.
    """
    report = report or IngestReport()
    root_paths = [Path(r).resolve() for r in roots]
    with target.writer(rebuild=rebuild) as writer:
        check_compatible(writer.existing(), embedder.name, backend_of(embedder), writer.where)
        indexed = writer.documents()
        keep, fresh = plan_changes(indexed, docs, root_paths, protect or set(), report)
        recorded = writer.record_paths([os.path.abspath(p) for p in record]) if record else False
        if report.changed or (recorded and (docs or indexed)):
            writer.start(IndexInfo(embedder.name, backend_of(embedder), embedder.dim))
            writer.remove([s for s in indexed if s not in keep])
            split = [split_document(d) for d in fresh]
            writer.add_documents(fresh, split)
            flat = [p for ps in split for p in ps]
            for start in range(0, len(flat), INGEST_BATCH):
                chunk = flat[start:start + INGEST_BATCH]
                step = None
                if progress is not None:
                    def step(done: int, _n: int, offset: int = start) -> None:
                        progress(offset + done, len(flat))
                embed = embed_sentences_once if vectors == "sentences" else embed_passages
                writer.add_vectors(chunk, *embed(chunk, embedder, step))
            writer.commit()
        given = {d.source for d in docs}
        report.removed.extend(s for s in writer.dropped() if s not in given)
        report.passages = writer.passage_count()
    return report


def read_paths(paths: list[Path], report: IngestReport) -> tuple[list[Document], list[Path], set[str]]:
    """Read every file under `paths` into documents: (documents, the roots that exist, the files whose indexed
    documents stay even when absent from this read). Those are the files that could not be read, and the
    feeds, whose old entries stay when the feed moves on. Bad files and entries go to the report's errors,
    files read with a fallback to its warnings."""
    files, problems = find_files(paths)
    report.errors.extend(problems)
    docs: list[Document] = []
    keep_absent: set[str] = set()
    for f in files:
        try:
            loaded, left_out = load_path(f)
        except SourceError as exc:
            report.errors.append(str(exc))
            keep_absent.add(str(f))
            continue
        report.errors.extend(left_out)
        for doc in loaded:
            docs.append(doc)
            report.warnings.extend(doc.warnings)
            if doc.file is not None:
                keep_absent.add(doc.file)
    return docs, [p for p in paths if p.exists()], keep_absent


def ingest_paths(
    paths: list[Path],
    target: IndexTarget,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    vectors: str = "sentences",
) -> IngestReport:
    """Ingest files and folders (recursively). Bad files are reported in `errors`; the rest are indexed.

    A file that was indexed before and cannot be read now keeps its old passages.
    """
    report = IngestReport()
    docs, roots, keep_absent = read_paths(paths, report)
    if not docs and not roots:
        return report
    return ingest_documents(docs, target, embedder, roots=roots, rebuild=rebuild, progress=progress,
                            report=report, protect=keep_absent, vectors=vectors, record=paths)


def ingest_changes(changed: set[Path], target: IndexTarget, embedder: Embedder,
                   progress: Progress | None = None, vectors: str = "sentences") -> IngestReport:
    """Bring the index up to date with files and folders that were added, changed, renamed or deleted:
    those still there are read (a folder, everything under it), and indexed documents under those gone
    are removed. Nothing else in the index is read or touched."""
    report = IngestReport()
    present = sorted(p for p in changed if p.exists())
    docs, _, keep_absent = read_paths(present, report) if present else ([], [], set())
    roots = sorted(changed)
    return ingest_documents(docs, target, embedder, roots=roots, progress=progress, report=report,
                            protect=keep_absent, vectors=vectors)
