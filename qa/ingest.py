"""Incremental ingest: files → documents → passages → embedded index, skipping what has not changed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa import store
from qa.documents import Document, find_files, load_file
from qa.embedder import Embedder, backend_of, vector_kind
from qa.errors import IndexCorruptError, ModelMismatchError, SourceError
from qa.lexical import tokens
from qa.passages import Passage, split_document
from qa.representation import passage_text, sentence_texts, window_texts
from qa.segment import Segment, SegmentData, write_segment

Progress = Callable[[int, int], None]  # (passages embedded so far, passages to embed)


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


MERGE_ALL = 5_000  # an index of at most this many live passages is kept as one segment
MAX_SEGMENTS = 8  # beyond this, every segment but the largest is merged into one


class _SegmentBuilder:
    """Collects passages, vectors and token ids for a new segment, old rows and new ones alike."""

    def __init__(self) -> None:
        self.passages: list[Passage] = []
        self.vectors: list[list[np.ndarray]] = [[], [], []]
        self.vocab: dict[str, int] = {}
        self.s_lens: list[np.ndarray] = []
        self.s_ids: list[np.ndarray] = []
        self.p_lens: list[np.ndarray] = []
        self.p_ids: list[np.ndarray] = []

    def _ids(self, toks: list[str]) -> np.ndarray:
        vocab = self.vocab
        return np.array([vocab.setdefault(t, len(vocab)) for t in toks], dtype=np.int32)

    def add_new(self, passages: list[Passage], pv: np.ndarray, sv: np.ndarray, wv: np.ndarray) -> None:
        """Freshly embedded passages; their texts are tokenised here."""
        memo: dict[str, np.ndarray] = {}

        def ids(text: str) -> np.ndarray:
            if text not in memo:
                memo[text] = self._ids(tokens(text))
            return memo[text]

        s = [ids(t) for p in passages for t in sentence_texts(p)]
        ptoks = [ids(passage_text(p)) for p in passages]
        self._append(passages, pv, sv, wv, s, ptoks)

    def add_rows(self, seg: Segment, rows: np.ndarray) -> None:
        """Live rows of an existing segment, vectors and tokens copied as they are."""
        if not len(rows):
            return
        remap = self._ids(seg.vocab)
        srows = seg.sentence_rows(rows)
        sptr, sids = np.asarray(seg.sentence_token_ptr), np.asarray(seg.sentence_tokens)
        pptr, pids = np.asarray(seg.passage_token_ptr), np.asarray(seg.passage_tokens)
        self._append(list(seg.passages(rows)), np.asarray(seg.passage_vectors[rows]),
                     np.asarray(seg.sentence_vectors[srows]), np.asarray(seg.window_vectors[srows]),
                     [remap[sids[sptr[r]:sptr[r + 1]]] for r in srows], [remap[pids[pptr[r]:pptr[r + 1]]] for r in rows])

    def _append(self, passages: list[Passage], pv: np.ndarray, sv: np.ndarray, wv: np.ndarray,
                s_ids: list[np.ndarray], p_ids: list[np.ndarray]) -> None:
        self.passages.extend(passages)
        for part, v in zip(self.vectors, (pv, sv, wv), strict=True):
            part.append(np.asarray(v, dtype=np.float16))
        self.s_lens.append(np.array([len(a) for a in s_ids], dtype=np.int64))
        self.s_ids.extend(s_ids)
        self.p_lens.append(np.array([len(a) for a in p_ids], dtype=np.int64))
        self.p_ids.extend(p_ids)

    def build(self, dim: int) -> SegmentData:
        def csr(lens: list[np.ndarray], ids: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
            flat = np.concatenate(lens) if lens else np.zeros(0, np.int64)
            ptr = np.zeros(len(flat) + 1, dtype=np.int64)
            np.cumsum(flat, out=ptr[1:])
            return ptr, (np.concatenate(ids) if ids else np.zeros(0, np.int32))

        sptr, sids = csr(self.s_lens, self.s_ids)
        pptr, pids = csr(self.p_lens, self.p_ids)
        pv, sv, wv = (np.concatenate(p).reshape(-1, dim) if p else np.zeros((0, dim), np.float16)
                      for p in self.vectors)
        return SegmentData(self.passages, pv, sv, wv, list(self.vocab), sptr, sids, pptr, pids)


def _rows_of(seg: Segment, source: str) -> np.ndarray:
    try:
        sid = seg.sources.index(source)
    except ValueError:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.asarray(seg.passage_source) == sid)


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
    Only the changed documents are written, as a new segment; the new manifest replaces the old
    one atomically.
    """
    report = report or IngestReport()
    roots = [Path(r).resolve() for r in roots]
    with store.write_lock(index_dir):
        old = None
        previous: list[str] = []  # what a rebuild replaces, so that the report says what it drops
        if rebuild and store.exists(index_dir):
            try:
                previous = list(store.open_index(index_dir).documents)
            except IndexCorruptError:
                previous = []
        if store.exists(index_dir) and not rebuild:
            try:
                old = store.open_index(index_dir)
                old.check()
            except IndexCorruptError:
                old = None  # an unreadable or outdated index is rebuilt from the files
            if old is not None and old.model != embedder.name:
                raise ModelMismatchError(
                    f"index at {index_dir} was built with model {old.model!r}, not {embedder.name!r}: "
                    "use --rebuild to re-embed everything with the new model, or another --index"
                )
            if old is not None and vector_kind(old.backend) != vector_kind(backend_of(embedder)):
                raise ModelMismatchError(
                    f"index at {index_dir} was built with the {old.backend} backend, not {backend_of(embedder)}: "
                    f"use --rebuild to re-embed everything, or --backend {old.backend}"
                )
        try:
            report = _ingest(docs, index_dir, embedder, old, roots, protect or set(), report, progress)
        finally:
            if old is not None:
                old.close()
        given = {d.source for d in docs}
        report.removed.extend(s for s in previous if s not in given)
        return report


def _ingest(docs: list[Document], index_dir: Path, embedder: Embedder, old: store.IndexData | None,
            roots: list[Path], protect: set[str], report: IngestReport, progress: Progress | None) -> IngestReport:
    keep, fresh = plan_changes(old.documents if old is not None else {}, docs, roots, protect, report)
    if not report.changed:
        report.passages = old.size if old is not None else 0
        return report
    new_passages = [split_document(d) for d in fresh]
    flat_new = [p for ps in new_passages for p in ps]
    pv_new, sv_new, wv_new = embed_passages(flat_new, embedder, progress)
    dim = embedder.dim

    kept = [old.documents[s] for s in old.documents if s in keep] if old is not None else []
    segments = {seg.name: seg for seg in old.segments} if old is not None else {}
    in_use = list(dict.fromkeys(r.segment for r in kept if r.passages))
    size = {name: sum(r.passages for r in kept if r.segment == name) for name in in_use}
    total = sum(size.values()) + len(flat_new)
    if total <= MERGE_ALL:
        merge = in_use
    elif len(in_use) + 1 > MAX_SEGMENTS:
        merge = [n for n in in_use if n != max(in_use, key=lambda n: size[n])]
    else:
        merge = []

    builder = _SegmentBuilder()
    for rec in kept:
        if rec.segment in merge:
            builder.add_rows(segments[rec.segment], _rows_of(segments[rec.segment], rec.source))
    builder.add_new(flat_new, pv_new, sv_new, wv_new)
    written = write_segment(index_dir, builder.build(dim), dim) if builder.passages else ""
    records = []
    for rec in kept:
        moved = rec.segment in merge
        records.append(replace(rec, segment=written) if moved else rec)
    for d, ps in zip(fresh, new_passages, strict=True):
        records.append(store.DocumentRecord(d.source, d.content_hash, d.title, d.date, len(ps), written if ps else ""))
    live_segments = list(dict.fromkeys(r.segment for r in records if r.passages))
    store.commit(index_dir, embedder.name, dim, records, live_segments, backend_of(embedder))
    report.passages = sum(r.passages for r in records)
    return report


def read_paths(paths: list[Path], report: IngestReport) -> tuple[list[Document], list[Path], set[str]]:
    """Read every file under `paths` into documents: (documents, the roots that exist, the files that could
    not be read). Bad files go to the report's errors, files read with a fallback to its warnings."""
    files, problems = find_files(paths)
    report.errors.extend(problems)
    docs: list[Document] = []
    unreadable: set[str] = set()
    for f in files:
        try:
            docs.append(load_file(f))
            report.warnings.extend(docs[-1].warnings)
        except SourceError as exc:
            report.errors.append(str(exc))
            unreadable.add(str(f))
    return docs, [p for p in paths if p.exists()], unreadable


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
    docs, roots, unreadable = read_paths(paths, report)
    if not docs and not roots:
        return report
    return ingest_documents(docs, index_dir, embedder, roots=roots, rebuild=rebuild, progress=progress,
                            report=report, protect=unreadable)
