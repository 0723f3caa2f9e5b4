"""The embedded vector store: immutable segments listed by a manifest that is swapped atomically.

Layout of an index folder: `CURRENT` names the live manifest; `manifest-<id>.json` records the format,
the model, every document (with the segment that holds its passages) and the segments; `seg-<id>/` are
the segments (see `qa.index.local.segment`). An ingest writes the segment of the changed documents, then a new
manifest, then replaces `CURRENT` by an atomic rename, so a crash at any point leaves the previous
manifest and its segments whole, and a reader sees either the old index or the new one.

A document's passages stop counting in an older segment as soon as the manifest names another segment
for it (or drops it): updates and deletes never rewrite a segment. Small indexes are merged into a
single segment at every ingest; large ones when segments pile up (see `qa.index.local.writer`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from qa.errors import IndexCorruptError, ModelMismatchError
from qa.index.candidates import Candidates, CorpusStats, question_columns
from qa.index.contract import DocumentRecord, IndexCheck
from qa.index.local.manifest import Moved, current_name, read_manifest
from qa.index.local.segment import Segment, damaged, row_sets
from qa.passages import Passage

SMALL_INDEX = 2_000  # at most this many live passages: every passage is a candidate (exact search)


def open_index(index_dir: Path, model: str | None = None) -> IndexData:
    """Open the live index; with `model`, refuse an index built with a different model."""
    for _ in range(5):  # a concurrent ingest may swap CURRENT and remove the old manifest mid-open
        before = current_name(index_dir)
        try:
            manifest = read_manifest(index_dir)
            sums = manifest.get("checksums") or {}
            segments = [Segment(index_dir / s, sums.get(s)) for s in manifest["segments"]]
        except Moved:
            continue
        except IndexCorruptError as exc:
            if current_name(index_dir) != before:
                continue
            raise exc if str(exc).startswith("the index at") else damaged(index_dir, str(exc)) from None
        except (KeyError, TypeError, AttributeError) as exc:
            raise damaged(index_dir, f"manifest lacks {exc}") from None
        if model is not None and manifest["model"] != model:
            raise ModelMismatchError(f"the index at {index_dir} was built with model {manifest['model']!r}, not {model!r}",
                                     index=str(index_dir), built_model=manifest["model"], asked=model)
        try:
            docs = {d["source"]: DocumentRecord(**d) for d in manifest["documents"]}
            data = IndexData(manifest["model"], int(manifest["dim"]), docs, segments, path=index_dir,
                             manifest=manifest["_name"], backend=str(manifest.get("backend", "torch")))
            data.recorded_paths = [str(p) for p in manifest.get("paths") or []]
            return data
        except (KeyError, TypeError, ValueError) as exc:
            raise damaged(index_dir, f"bad manifest: {exc}") from None
    raise damaged(index_dir, "CURRENT keeps changing")


class IndexData:
    """An open local index: its documents, its segments, and the candidates for a question (a ReadStore)."""

    def __init__(self, model: str, dim: int, documents: dict[str, DocumentRecord], segments: list[Segment],
                 path: Path | None = None, manifest: str = "", backend: str = "torch") -> None:
        self.model = model
        self.backend = backend
        self.dim = dim
        self.records = documents
        self.segments = segments
        self.path = path
        self.manifest = manifest
        self.recorded_paths: list[str] = []  # what the index was built from (none before they were recorded)
        self.live: list[np.ndarray] = []  # per segment: which passage rows are live
        for seg in segments:
            holds = np.array([documents.get(s) is not None and documents[s].segment == seg.name for s in seg.sources],
                             dtype=bool)
            self.live.append(holds[np.asarray(seg.passage_source)] if seg.size else np.zeros(0, dtype=bool))
        self.size = int(sum(int(m.sum()) for m in self.live))
        self._df_cache: dict[str, tuple[int, int]] = {}
        self._dead_df = [self._dead_counts(seg, m) for seg, m in zip(segments, self.live, strict=True)]
        self.stats = self._stats()

    def documents(self) -> dict[str, DocumentRecord]:
        """Every indexed document by source, in ingest order."""
        return dict(self.records)

    def passage_count(self) -> int:
        return self.size

    def leads(self, sources: list[str]) -> dict[str, Passage]:
        """The first live passage of each of these documents, for those that are indexed."""
        out: dict[str, Passage] = {}
        by_name = {seg.name: (seg, live) for seg, live in zip(self.segments, self.live, strict=True)}
        for source in sources:
            record = self.records.get(source)
            if record is None or record.segment not in by_name:
                continue
            seg, live = by_name[record.segment]
            rows = np.flatnonzero((np.asarray(seg.passage_source) == seg.sources.index(source)) & live)
            if len(rows):
                out[source] = seg.passage(int(rows[0]))
        return out

    def paths(self) -> list[str]:
        """The files and folders the index was built from, as its ingests recorded them."""
        return list(self.recorded_paths)

    def generation(self) -> str:
        """The manifest this index was opened from: every committed ingest writes a new one."""
        return self.manifest

    # ---- store-wide statistics, exact for live rows -------------------------------------------------------

    @staticmethod
    def _dead_counts(seg: Segment, live: np.ndarray) -> np.ndarray | None:
        """Document frequencies of the segment's dead rows, to subtract from its own (None when all live)."""
        dead = np.flatnonzero(~live)
        if len(dead) == 0:
            return None
        counts = [row_sets(_sub_ptr(ptr, rows), seg.tokens_of(kind, ptr, rows), len(seg.vocab))
                  for kind, ptr, rows in (("sentence", seg.sentence_token_ptr, seg.sentence_rows(dead)),
                                          ("passage", seg.passage_token_ptr, dead))]
        return np.stack(counts, axis=1)

    def _stats(self) -> CorpusStats:
        passages = sentences = p_tokens = s_tokens = 0
        for seg, live in zip(self.segments, self.live, strict=True):
            rows = np.flatnonzero(live)
            if not len(rows):
                continue
            sp = np.asarray(seg.sentence_start)
            counts = sp[rows + 1] - sp[rows]
            passages += len(rows)
            sentences += int(counts.sum())
            plen = np.diff(np.asarray(seg.passage_token_ptr))[rows]
            p_tokens += int(np.maximum(plen, 1).sum())
            slen = np.maximum(np.diff(np.asarray(seg.sentence_token_ptr)), 1)
            s_tokens += int(slen.sum() if len(rows) == seg.size else slen[seg.sentence_rows(rows)].sum())
        dates = sorted({d.date for d in self.records.values() if d.date})
        return CorpusStats(passages, sentences, p_tokens, s_tokens, dates)

    def df(self, token: str) -> tuple[int, int]:
        """(live sentences, live passages) holding `token`."""
        hit = self._df_cache.get(token)
        if hit is None:
            s = p = 0
            for seg, dead in zip(self.segments, self._dead_df, strict=True):
                tid = seg.token_id.get(token)
                if tid is not None:
                    row = np.asarray(seg.df[tid], dtype=np.int64) - (dead[tid] if dead is not None else 0)
                    s, p = s + int(row[0]), p + int(row[1])
            hit = self._df_cache[token] = (s, p)
        return hit

    @cached_property
    def title_terms(self) -> frozenset[str]:
        from qa.text.lexical import terms

        out = {t for seg in self.segments for t in seg.title_terms or ()}
        if any(seg.title_terms is None for seg in self.segments):
            out.update(t for d in self.records.values() if d.title for t in terms(d.title))
        return frozenset(out)

    # ---- candidates -----------------------------------------------------------------------------------------

    def candidates(self, vector: np.ndarray, tokens: list[str], terms: list[str], limit: int,
                   exclude: set[str] | None = None) -> Candidates:
        """Every live passage of a small index; otherwise the `limit` nearest by vector and the `limit` best
        by BM25 over the question's terms, from each segment, merged store-wide."""
        if self.size <= max(SMALL_INDEX, limit):
            return self._gather([(i, np.flatnonzero(live)) for i, live in enumerate(self.live)], tokens, terms, exclude)
        q = np.asarray(vector, dtype=np.float32)
        picked = [(i, *self._segment_candidates(seg, live, q, terms, limit))
                  for i, (seg, live) in enumerate(zip(self.segments, self.live, strict=True))]
        return self._gather(self._best_across_segments(picked, q, limit), tokens, terms, exclude)

    def _segment_candidates(self, seg: Segment, live: np.ndarray, q: np.ndarray, terms: list[str],
                            limit: int) -> tuple[np.ndarray, np.ndarray]:
        """Live candidate rows of one segment, and the lexical score of each (0 for a row found by vector only)."""
        dead = seg.size - int(live.sum())
        if seg.ann is not None:
            found = seg.ann.search(q, min(seg.size, limit + dead if dead < 4 * limit else 4 * limit))  # type: ignore[attr-defined]
            dense = np.asarray(found.keys, dtype=np.int64)
        else:
            dense = _top(np.where(live, seg.passage_vectors32 @ q, -np.inf), limit)
        lex_rows, lex_scores = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if terms:
            lex_rows, lex_scores = seg.lexical_top(terms, limit + min(dead, 4 * limit))  # sorted by row
            keep = live[lex_rows]
            lex_rows, lex_scores = lex_rows[keep], lex_scores[keep]
        rows = np.unique(np.concatenate([dense, lex_rows[_top(lex_scores, limit)]]))
        rows = rows[live[rows]]
        lex = np.zeros(len(rows), dtype=np.float32)
        if len(lex_rows):
            at = np.minimum(np.searchsorted(lex_rows, rows), len(lex_rows) - 1)
            held = lex_rows[at] == rows
            lex[held] = lex_scores[at[held]]
        return rows, lex

    def _best_across_segments(self, picked: list[tuple[int, np.ndarray, np.ndarray]], q: np.ndarray,
                              limit: int) -> list[tuple[int, np.ndarray]]:
        """With several segments, keep the store-wide `limit` best by cosine and by lexical score."""
        if len(picked) == 1:
            return [(i, rows) for i, rows, _ in picked]
        cos: list[np.ndarray] = []
        where: list[tuple[int, int]] = []
        for i, rows, _ in picked:
            cos.append(self.segments[i].vectors_of("passage", rows) @ q)
            where.extend((i, int(r)) for r in rows)
        c, lx = np.concatenate(cos), np.concatenate([lex for _, _, lex in picked])
        keep = np.unique(np.concatenate([_top(c, limit), _top(np.where(lx > 0, lx, -np.inf), limit)]))
        out: dict[int, list[int]] = {}
        for j in keep:
            i, r = where[int(j)]
            out.setdefault(i, []).append(r)
        return [(i, np.array(sorted(rows), dtype=np.int64)) for i, rows in sorted(out.items())]

    def _gather(self, picked: list[tuple[int, np.ndarray]], tokens: list[str], terms: list[str],
                exclude: set[str] | None) -> Candidates:
        columns = question_columns(tokens, terms)
        keys: list[object] = []
        where: list[tuple[Segment, int]] = []
        sources: list[str] = []
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ("counts", "pv", "sv", "wv", "stf", "slen", "ptf", "plen")}
        for i, rows in picked:
            seg = self.segments[i]
            seg_sources = [seg.sources[j] for j in np.asarray(seg.passage_source)[rows]]
            if exclude:
                keep = [j for j, src in enumerate(seg_sources) if src not in exclude]
                rows, seg_sources = rows[keep], [seg_sources[j] for j in keep]
            if not len(rows):
                continue
            sp = np.asarray(seg.sentence_start)
            counts = sp[rows + 1] - sp[rows]
            srows = seg.sentence_rows(rows)
            keys.extend((seg.name, int(r)) for r in rows)
            where.extend((seg, int(r)) for r in rows)
            sources.extend(seg_sources)
            parts["counts"].append(counts)
            for kind in ("passage", "sentence", "window"):
                parts[kind[0] + "v"].append(seg.vectors_of(kind, rows))
            local = np.array([seg.token_id.get(t, -1) for t in columns], dtype=np.int64)
            for kind, rows_, ptr, tf_key, len_key in (("sentence", srows, seg.sentence_token_ptr, "stf", "slen"),
                                                      ("passage", rows, seg.passage_token_ptr, "ptf", "plen")):
                lengths = ptr[rows_ + 1] - ptr[rows_]
                parts[tf_key].append(_count(lengths, seg.tokens_of(kind, ptr, rows_), local, len(seg.vocab)))
                parts[len_key].append(lengths)
        dim, q = self.dim, len(columns)

        def cat(key: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
            return np.concatenate(parts[key]) if parts[key] else np.zeros(shape, dtype=dtype)

        dfs = {t: self.df(t) for t in columns}
        known = frozenset(t for t in terms if dfs[t][1] > 0 or t in self.title_terms)
        return Candidates(
            keys=keys, passages=LazyPassages(where), sources=sources,
            dates=[self.records[src].date for src in sources], counts=cat("counts", (0,), np.int64),
            passage_vectors=cat("pv", (0, dim), np.float32), sentence_vectors=cat("sv", (0, dim), np.float32),
            window_vectors=cat("wv", (0, dim), np.float32), columns=columns,
            sentence_tf=cat("stf", (0, q), np.float32), sentence_len=cat("slen", (0,), np.int64),
            passage_tf=cat("ptf", (0, q), np.float32), passage_len=cat("plen", (0,), np.int64),
            sentence_df={t: d[0] for t, d in dfs.items()}, passage_df={t: d[1] for t, d in dfs.items()},
            known_terms=known, stats=self.stats,
        )

    # ---- the whole index, for evaluation, tests and merging -------------------------------------------------

    def rows(self) -> Iterator[tuple[Segment, np.ndarray]]:
        """Each segment with its live passage rows, in index order."""
        for seg, live in zip(self.segments, self.live, strict=True):
            yield seg, np.flatnonzero(live)

    @cached_property
    def passages(self) -> list[Passage]:
        return [p for seg, rows in self.rows() for p in seg.passages(rows)]

    def _vectors(self, kind: str) -> np.ndarray:
        parts = []
        for seg, rows in self.rows():
            array = getattr(seg, f"{kind}_vectors")
            if kind != "passage":
                rows = seg.sentence_rows(rows)
            parts.append(np.asarray(array[rows], dtype=np.float32))
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), dtype=np.float32)

    @cached_property
    def passage_vectors(self) -> np.ndarray:
        return self._vectors("passage")

    @cached_property
    def sentence_vectors(self) -> np.ndarray:
        return self._vectors("sentence")

    @cached_property
    def window_vectors(self) -> np.ndarray:
        return self._vectors("window")

    @cached_property
    def sentence_owner(self) -> np.ndarray:
        counts = [len(p.sentences) for p in self.passages]
        return np.repeat(np.arange(len(self.passages), dtype=np.int64), counts)

    def sentence_rows(self, passage_row: int) -> range:
        """Rows in `sentence_vectors` of the sentences of passage `passage_row` (in `passages` order)."""
        start = int(np.searchsorted(self.sentence_owner, passage_row, side="left"))
        return range(start, start + len(self.passages[passage_row].sentences))

    def check(self) -> None:
        """Read every part of the index once: raise IndexCorruptError if any is damaged."""
        for seg in self.segments:
            seg.check()

    def check_fully(self) -> IndexCheck:
        """Sum every byte of every segment against its checksums, parse every passage, and check that the
        manifest's documents are the segments' rows: IndexCorruptError naming the first damage found."""
        where = self.path if self.path is not None else Path("?")
        checked, unverified = 0, []
        for seg in self.segments:
            seg.verify()
            seg.check(every_passage=True)
            if seg.sums is None:
                unverified.append(seg.name)
            else:
                checked += sum(size for size, _ in seg.sums.values())
        for seg, live in zip(self.segments, self.live, strict=True):
            rows = np.bincount(np.asarray(seg.passage_source)[live], minlength=len(seg.sources))
            for i, source in enumerate(seg.sources):
                rec = self.records.get(source)
                if rec is not None and rec.segment == seg.name and rows[i] != rec.passages:
                    raise damaged(where, f"the manifest gives {source} {rec.passages} passages, segment "
                                         f"{seg.name} holds {rows[i]}")
        names = {seg.name for seg in self.segments}
        for rec in self.records.values():
            if rec.passages and rec.segment not in names:
                raise damaged(where, f"{rec.source} is in segment {rec.segment}, which the manifest does not list")
        notes = (f"{len(unverified)} segment(s) written before checksums were kept, not summed: "
                 f"{', '.join(unverified)}",) if unverified else ()
        return IndexCheck(f"index at {where}", len(self.records), self.size, len(self.segments), checked, notes)

    def close(self) -> None:
        for seg in self.segments:
            seg.close()


class LazyPassages(Sequence[Passage]):
    """Candidate passages parsed from their segment only when looked at (most candidates never are)."""

    def __init__(self, where: list[tuple[Segment, int]]) -> None:
        self._where = where
        self._cache: dict[int, Passage] = {}

    def __len__(self) -> int:
        return len(self._where)

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        hit = self._cache.get(i)
        if hit is None:
            seg, row = self._where[i]
            hit = self._cache[i] = seg.passage(row)
        return hit


def _count(lengths: np.ndarray, ids: np.ndarray, local: np.ndarray, n_vocab: int) -> np.ndarray:
    """tf of the question's columns (`local`: their ids in this segment, -1 when absent) in each row, given the
    rows' lengths and their token ids concatenated."""
    tf = np.zeros((len(lengths), len(local)), dtype=np.float32)
    present = local >= 0
    if present.any() and len(lengths):
        column = np.full(n_vocab, -1, dtype=np.int64)
        column[local[present]] = np.flatnonzero(present)
        hit = column[ids]
        owner = np.repeat(np.arange(len(lengths)), lengths)
        mask = hit >= 0
        np.add.at(tf, (owner[mask], hit[mask]), 1.0)
    return tf


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` highest finite scores (unordered)."""
    finite = np.isfinite(scores)
    if finite.sum() <= k:
        return np.flatnonzero(finite)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.isfinite(scores[part])]


def _sub_ptr(ptr: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The pointer array of the CSR rows `rows` alone (their token ids: `Segment.tokens_of`)."""
    out = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(ptr[rows + 1] - ptr[rows], out=out[1:])
    return out
