"""Incremental ingest: files → documents → passages → embedded index, skipping what has not changed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa import store
from qa.documents import Document, find_files, load_file
from qa.embedder import Embedder
from qa.errors import IndexCorruptError, ModelMismatchError, SourceError
from qa.passages import Passage, split_document
from qa.representation import passage_text, sentence_texts, window_texts

Progress = Callable[[int, int], None]  # (passages embedded so far, passages to embed)


@dataclass
class IngestReport:
    """What an ingest did, document by document."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    passages: int = 0  # passages in the index afterwards

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def _under(source: str, roots: Iterable[Path]) -> bool:
    path = Path(source)
    return any(path == root or root in path.parents for root in roots)


def plan_changes(indexed: Mapping[str, Any], docs: list[Document], roots: Iterable[Path], protect: set[str],
                 report: IngestReport) -> tuple[set[str], list[Document]]:
    """Which indexed sources stay as they are, and which documents must be (re-)embedded.

    `indexed` maps each indexed source to a record with a `content_hash`. An indexed source absent from
    `docs` is removed when it lies under one of `roots` and is not in `protect`; otherwise it stays.
    The report records what is added, updated, removed and skipped.
    """
    incoming = {d.source: d for d in docs}
    keep: set[str] = set()
    for source, rec in indexed.items():
        if source in incoming:
            if incoming[source].content_hash == rec.content_hash:
                keep.add(source)
                report.skipped.append(source)
        elif _under(source, roots) and source not in protect:
            report.removed.append(source)
        else:
            keep.add(source)
    fresh = [d for d in docs if d.source not in keep]
    for d in fresh:
        (report.updated if d.source in indexed else report.added).append(d.source)
    return keep, fresh


def embed_passages(passages: list[Passage], embedder: Embedder, progress: Progress | None = None,
                   batch: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Embed passages, their sentences and their sentence windows, in batches, reporting progress."""
    dim = embedder.dim
    parts: list[list[np.ndarray]] = [[], [], []]
    for i in range(0, len(passages), batch):
        chunk = passages[i:i + batch]
        parts[0].append(embedder.encode([passage_text(p) for p in chunk]))
        parts[1].append(embedder.encode([s for p in chunk for s in sentence_texts(p)]))
        parts[2].append(embedder.encode([w for p in chunk for w in window_texts(p)]))
        if progress:
            progress(i + len(chunk), len(passages))
    pv, sv, wv = (np.concatenate(p).reshape(-1, dim) if p else np.zeros((0, dim), dtype=np.float32) for p in parts)
    return pv, sv, wv


def ingest_documents(
    docs: list[Document],
    index_dir: Path,
    embedder: Embedder,
    *,
    roots: Iterable[Path] = (),
    rebuild: bool = False,
    progress: Progress | None = None,
    report: IngestReport | None = None,
    protect: set[str] | None = None,
) -> IngestReport:
    """Bring the index at `index_dir` up to date with `docs`.

    Documents whose content hash is unchanged keep their vectors; indexed documents under one of
    `roots` that are not in `docs` are removed; everything else in the index is left alone.
    The new index replaces the old one atomically.
    """
    report = report or IngestReport()
    roots = [Path(r).resolve() for r in roots]
    with store.write_lock(index_dir):
        old = None
        if store.exists(index_dir) and not rebuild:
            try:
                old = store.open_index(index_dir)
            except IndexCorruptError:
                old = None  # an unreadable or outdated index is rebuilt from the files
            if old is not None and old.model != embedder.name:
                raise ModelMismatchError(
                    f"index at {index_dir} was built with model {old.model!r}, not {embedder.name!r}: "
                    "use --rebuild to re-embed everything with the new model, or another --index"
                )
        old_rows: dict[str, list[int]] = {}
        if old is not None:
            for row, p in enumerate(old.passages):
                old_rows.setdefault(p.source, []).append(row)
        keep, fresh = plan_changes(old.documents if old is not None else {}, docs, roots, protect or set(), report)
        if not report.changed:
            report.passages = len(old.passages) if old is not None else 0
            return report

        new_passages = [split_document(d) for d in fresh]
        flat_new = [p for ps in new_passages for p in ps]
        pv_new, sv_new, wv_new = embed_passages(flat_new, embedder, progress)

        passages: list[Passage] = []
        pv_parts: list[np.ndarray] = []
        sv_parts: list[np.ndarray] = []
        wv_parts: list[np.ndarray] = []
        records: dict[str, store.DocumentRecord] = {}
        if old is not None:
            for source in (s for s in old.documents if s in keep):
                rows = old_rows.get(source, [])
                passages.extend(old.passages[r] for r in rows)
                pv_parts.append(np.asarray(old.passage_vectors[rows]))
                srows = [s for r in rows for s in old.sentence_rows(r)]
                sv_parts.append(np.asarray(old.sentence_vectors[srows]))
                wv_parts.append(np.asarray(old.window_vectors[srows]))
                records[source] = old.documents[source]
        passages.extend(flat_new)
        pv_parts.append(pv_new)
        sv_parts.append(sv_new)
        wv_parts.append(wv_new)
        for d, ps in zip(fresh, new_passages, strict=True):
            records[d.source] = store.DocumentRecord(d.source, d.content_hash, d.title, d.date, len(ps))
        dim = embedder.dim
        data = store.IndexData(
            model=embedder.name,
            dim=dim,
            documents=records,
            passages=passages,
            passage_vectors=np.concatenate([a.reshape(-1, dim) for a in pv_parts]),
            sentence_vectors=np.concatenate([a.reshape(-1, dim) for a in sv_parts]),
            window_vectors=np.concatenate([a.reshape(-1, dim) for a in wv_parts]),
        )
        store.write_index(index_dir, data)
        report.passages = len(passages)
        return report


def ingest_paths(
    paths: list[Path],
    index_dir: Path,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest files and folders (recursively). Bad files are reported in `errors`; the rest are indexed.

    A file that was indexed before and cannot be read now keeps its old passages.
    """
    report = IngestReport()
    files, problems = find_files(paths)
    report.errors.extend(problems)
    docs: list[Document] = []
    unreadable: set[str] = set()
    for f in files:
        try:
            docs.append(load_file(f))
        except SourceError as exc:
            report.errors.append(str(exc))
            unreadable.add(str(f))
    roots = [p for p in paths if p.exists()]
    if not docs and not roots:
        return report
    return ingest_documents(docs, index_dir, embedder, roots=roots, rebuild=rebuild, progress=progress,
                            report=report, protect=unreadable)
