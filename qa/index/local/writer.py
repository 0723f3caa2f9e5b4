"""Writing a local index: one ingest's changes become one new segment, then a new manifest goes live.

Only the changed documents are written. Small indexes are merged into a single segment at every ingest;
larger ones keep their segments until more than `MAX_SEGMENTS` pile up, and a document's rows in an older
segment stop counting as soon as the manifest names another segment for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa.documents import Document
from qa.errors import IndexCorruptError
from qa.index.contract import DocumentRecord, IndexInfo
from qa.index.local import manifest
from qa.index.local.disk import remove_folder
from qa.index.local.segment import Segment, SegmentData, write_segment
from qa.index.local.store import IndexData, open_index
from qa.index.representation import passage_text, sentence_texts
from qa.passages import Passage
from qa.text.lexical import tokens

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



class LocalWriter:
    """One ingest into the index folder `index_dir` (an `IndexWriter`); the caller holds the write lock.

    An index found damaged is rebuilt from the files: its documents do not count as indexed.
    """

    def __init__(self, index_dir: Path, rebuild: bool) -> None:
        self.index_dir = index_dir
        self.where = f"index at {index_dir}"
        self.old: IndexData | None = None
        self._dropped: list[str] = []
        self._removed: set[str] = set()
        self._fresh: list[tuple[Document, list[Passage]]] = []
        self._new: list[tuple[list[Passage], np.ndarray, np.ndarray, np.ndarray]] = []
        self._count: int | None = None
        self._info: IndexInfo | None = None
        self._paths: list[str] = []
        manifest.remove_leftovers(index_dir)  # a killed or failed write's temporary files hold disk space
        if not manifest.exists(index_dir):
            return
        if rebuild:
            try:
                self._dropped = list(open_index(index_dir).records)
            except IndexCorruptError:
                pass
            return
        try:
            old = open_index(index_dir)
            old.check()
        except IndexCorruptError:
            return  # an unreadable or outdated index is rebuilt from the files
        self.old = old
        self._paths = old.paths()

    def existing(self) -> IndexInfo | None:
        return None if self.old is None else IndexInfo(self.old.model, self.old.backend, self.old.dim)

    def documents(self) -> Mapping[str, DocumentRecord]:
        return {} if self.old is None else self.old.records

    def dropped(self) -> list[str]:
        return list(self._dropped)

    def start(self, built: IndexInfo) -> None:
        self._info = built

    def record_paths(self, paths: list[str]) -> bool:
        before = self._paths
        self._paths = list(dict.fromkeys([*before, *paths]))
        return self._paths != before

    def remove(self, sources: list[str]) -> None:
        self._removed.update(sources)

    def add_documents(self, docs: list[Document], passages: list[list[Passage]]) -> None:
        self._fresh.extend(zip(docs, passages, strict=True))
        self._removed.update(d.source for d in docs)  # an updated document's old rows go

    def add_vectors(self, passages: list[Passage], pv: np.ndarray, sv: np.ndarray, wv: np.ndarray) -> None:
        self._new.append((passages, pv, sv, wv))

    def commit(self) -> None:
        info, old = self._info, self.old
        assert info is not None, "start() comes first"
        kept = [r for s, r in old.records.items() if s not in self._removed] if old is not None else []
        segments = {seg.name: seg for seg in old.segments} if old is not None else {}
        in_use = list(dict.fromkeys(r.segment for r in kept if r.passages))
        size = {name: sum(r.passages for r in kept if r.segment == name) for name in in_use}
        new_rows = sum(len(ps) for ps, *_ in self._new)
        if sum(size.values()) + new_rows <= MERGE_ALL:
            merge = in_use
        elif len(in_use) + 1 > MAX_SEGMENTS:
            merge = [n for n in in_use if n != max(in_use, key=lambda n: size[n])]
        else:
            merge = []
        builder = _SegmentBuilder()
        for name in merge:
            segments[name].verify()  # rows are copied from it as they are: every byte is checked first
        for rec in kept:
            if rec.segment in merge:
                builder.add_rows(segments[rec.segment], _rows_of(segments[rec.segment], rec.source))
        for passages, pv, sv, wv in self._new:
            builder.add_new(passages, pv, sv, wv)
        written = write_segment(self.index_dir, builder.build(info.dim), info.dim) if builder.passages else ""
        records = [replace(rec, segment=written) if rec.segment in merge else rec for rec in kept]
        records += [DocumentRecord(d.source, d.content_hash, d.title, d.date, len(ps), written if ps else "")
                    for d, ps in self._fresh]
        live_segments = list(dict.fromkeys(r.segment for r in records if r.passages))
        before = manifest.current_name(self.index_dir)
        try:
            manifest.commit(self.index_dir, info.model, info.dim, records, live_segments, info.backend, self._paths)
        except BaseException:
            if written and manifest.current_name(self.index_dir) == before:  # no manifest names it
                remove_folder(self.index_dir / written)
            raise
        self._count = sum(r.passages for r in records)

    def passage_count(self) -> int:
        if self._count is not None:
            return self._count
        return self.old.size if self.old is not None else 0

    def close(self) -> None:
        if self.old is not None:
            self.old.close()
