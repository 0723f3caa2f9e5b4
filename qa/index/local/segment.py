"""One immutable segment of the embedded store: passages, float16 vectors, token ids, and search indexes.

A segment is written once, into a temporary folder that is renamed into place, and never changed. Its
files: `segment.json` (counts and the sources it holds), `vocab.json` (its token strings), `passages.jsonl`
with `passage_offsets.npy` (so one passage is read without parsing the rest), `passage_source.npy`,
`sentence_start.npy`, the vectors `passage_vectors.npy`, `sentence_vectors.npy`, `window_vectors.npy`
(float16), the BM25 tokens of every sentence and passage as id arrays (`*_tokens.npy` with `*_token_ptr.npy`),
`df.npy` (in how many sentences and passages each token occurs), `bm25/` (a bm25s passage index for
choosing candidates, each term's postings highest score first), for a large segment `ann.usearch` (an HNSW index
of the passage vectors), and last `checksums.json`, the size and CRC32 of every other file
(see `qa.index.local.checksums`).
"""

from __future__ import annotations

import json
import os
import uuid
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from qa.errors import IndexCorruptError
from qa.index.local import checksums
from qa.index.local.disk import fsync_dir as _fsync_dir
from qa.index.local.disk import json_bytes, writing
from qa.index.local.disk import remove_folder as remove_folder  # a segment is removed as a folder
from qa.index.local.disk import write_bytes as _write_bytes
from qa.index.local.rowfile import RowFile
from qa.passages import Passage

ANN_MIN_PASSAGES = 20_000  # below this an exact scan of the passage vectors is as fast as the graph
_ANN_FILE = "ann.usearch"
ANN_EXPANSION = 256
# read row by row at question time (see qa.index.local.rowfile); the rest is memory-mapped
_ROW_FILES = ("passage_vectors", "sentence_vectors", "window_vectors", "passage_tokens", "sentence_tokens")


@dataclass
class SegmentData:
    """What goes into a new segment, in memory; vectors float32 or float16, token ids into `vocab`."""

    passages: list[Passage]
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray
    window_vectors: np.ndarray
    vocab: list[str]
    sentence_token_ptr: np.ndarray  # (S+1,) int64
    sentence_tokens: np.ndarray  # int32 ids into vocab
    passage_token_ptr: np.ndarray  # (P+1,) int64
    passage_tokens: np.ndarray


def damaged(index_dir: Path, why: str) -> IndexCorruptError:
    """The one error for an index that cannot be read, naming it and the fix."""
    return IndexCorruptError(f"the index at {index_dir} is damaged ({why})", index=str(index_dir))


def _save(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as fh:
        np.save(fh, np.ascontiguousarray(array))
        fh.flush()
        os.fsync(fh.fileno())


def expand_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The concatenated ranges starts[i] .. starts[i] + counts[i]."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    return np.arange(total, dtype=np.int64) + offsets


def row_sets(ptr: np.ndarray, ids: np.ndarray, n_vocab: int) -> np.ndarray:
    """For each token id, in how many rows of the CSR (ptr, ids) it occurs at least once."""
    if len(ids) == 0:
        return np.zeros(n_vocab, dtype=np.int64)
    rows = np.repeat(np.arange(len(ptr) - 1, dtype=np.int64), np.diff(ptr))
    pairs = rows * n_vocab + ids
    pairs.sort()  # a sort and a neighbour test: several times faster than np.unique's hash on millions
    first = np.ones(len(pairs), dtype=bool)
    np.not_equal(pairs[1:], pairs[:-1], out=first[1:])
    return np.bincount(pairs[first] % n_vocab, minlength=n_vocab)


def _size_estimate(data: SegmentData, dim: int) -> int:
    """About how many bytes the segment of `data` takes on disk (for a message when they do not fit)."""
    vectors = (len(data.passage_vectors) + 2 * len(data.sentence_vectors)) * dim * 2
    tokens = 4 * (len(data.sentence_tokens) + len(data.passage_tokens))
    text = sum(len(p.text) + 400 for p in data.passages)  # each passage's JSON line: its text and its fields
    return vectors + 3 * tokens + text


def write_segment(index_dir: Path, data: SegmentData, dim: int) -> str:
    """Write `data` as a new segment of the index at `index_dir`; return its name. Durable once returned.
    StorageError when it cannot be written (a full disk): then nothing of it is left behind."""
    name = f"seg-{uuid.uuid4().hex[:12]}"
    tmp = index_dir / f".tmp-{name}"
    with writing(index_dir, _size_estimate(data, dim), [tmp]):
        tmp.mkdir(parents=True)
        _write_segment_files(tmp, data, dim)
        _write_bytes(tmp / checksums.LIST, checksums.write_list(tmp))
        _fsync_dir(tmp)
        tmp.rename(index_dir / name)
    return name


def _write_segment_files(tmp: Path, data: SegmentData, dim: int) -> None:
    sources = list(dict.fromkeys(p.source for p in data.passages))
    source_id = {s: i for i, s in enumerate(sources)}
    n_vocab = len(data.vocab)
    df = np.stack([row_sets(data.sentence_token_ptr, data.sentence_tokens, n_vocab),
                   row_sets(data.passage_token_ptr, data.passage_tokens, n_vocab)], axis=1).astype(np.int32)
    lines = [json_bytes(p.to_dict()) + b"\n" for p in data.passages]
    offsets = np.zeros(len(lines) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in lines], out=offsets[1:])
    counts = [len(p.sentences) for p in data.passages]
    sentence_start = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=sentence_start[1:])
    from qa.text.lexical import terms

    titles = {p.title for p in data.passages if p.title}
    title_terms = sorted({t for title in titles for t in terms(title)})
    meta = {"passages": len(data.passages), "sentences": int(sentence_start[-1]), "dim": dim, "sources": sources,
            "title_terms": title_terms, "postings": "impact"}
    _write_bytes(tmp / "segment.json", json_bytes(meta))
    _write_bytes(tmp / "vocab.json", json_bytes(data.vocab))
    _write_bytes(tmp / "passages.jsonl", b"".join(lines))
    _save(tmp / "passage_offsets.npy", offsets)
    _save(tmp / "passage_source.npy", np.array([source_id[p.source] for p in data.passages], dtype=np.int32))
    _save(tmp / "sentence_start.npy", sentence_start)
    # np.asarray with a dtype copies only what is not of that type already: a large index's arrays mostly are
    for label in ("passage", "sentence", "window"):
        _save(tmp / f"{label}_vectors.npy", np.asarray(getattr(data, f"{label}_vectors"), dtype=np.float16).reshape(-1, dim))
    _save(tmp / "sentence_token_ptr.npy", np.asarray(data.sentence_token_ptr, dtype=np.int64))
    _save(tmp / "sentence_tokens.npy", np.asarray(data.sentence_tokens, dtype=np.int32))
    _save(tmp / "passage_token_ptr.npy", np.asarray(data.passage_token_ptr, dtype=np.int64))
    _save(tmp / "passage_tokens.npy", np.asarray(data.passage_tokens, dtype=np.int32))
    _save(tmp / "df.npy", df)
    _write_lexical_index(tmp / "bm25", data)
    if len(data.passages) >= ANN_MIN_PASSAGES:
        _write_ann(tmp / _ANN_FILE, np.asarray(data.passage_vectors, dtype=np.float32).reshape(-1, dim))


def _write_lexical_index(folder: Path, data: SegmentData) -> None:
    """A bm25s index of the passages, used only to choose candidates (the final BM25 uses store-wide counts)."""
    import bm25s
    from bm25s.tokenization import Tokenized

    ptr, ids = data.passage_token_ptr, data.passage_tokens
    # bm25s wants every document to hold a token; id n_vocab stands for "empty"
    docs = [ids[ptr[i]:ptr[i + 1]].tolist() or [len(data.vocab)] for i in range(len(ptr) - 1)]
    vocab = {t: i for i, t in enumerate(data.vocab)} | {"\x00": len(data.vocab)}
    index = bm25s.BM25(method="atire", k1=1.2, b=0.9)
    index.index(Tokenized(ids=docs, vocab=vocab), show_progress=False)
    # each term's postings highest score first (bm25s sums a column in any order): a question then reads
    # only the head of a long list (see Segment.lexical_top)
    scores = index.scores
    indptr = np.asarray(scores["indptr"])
    term = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    order = np.lexsort((-np.asarray(scores["data"]), term))
    scores["data"], scores["indices"] = np.asarray(scores["data"])[order], np.asarray(scores["indices"])[order]
    index.save(str(folder))
    for f in folder.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())


def _write_ann(path: Path, vectors: np.ndarray) -> None:
    from usearch.index import Index

    index = Index(ndim=vectors.shape[1], metric="ip", dtype="i8", connectivity=16, expansion_add=128,
                  expansion_search=96)
    index.add(np.arange(len(vectors), dtype=np.uint64), vectors, threads=os.cpu_count() or 1)
    index.save(str(path))
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


LEXICAL_BUDGET = 262_144  # postings read at most from the head of each list per question


def impact_top(data: np.ndarray, indices: np.ndarray, spans: list[tuple[int, int]], k: int, n_rows: int,
               budget: int = LEXICAL_BUDGET) -> tuple[np.ndarray, np.ndarray]:
    """The `k` rows (of `n_rows`) with the highest summed score over postings lists `spans`, each ordered by
    score, highest first, with those sums.

    Every posting is added up (cheaper here than early termination: see README, "Speed and scale"), except
    that a list longer than `budget` is read only at its head, which holds its highest scores. The result is
    exact when no list is that long; otherwise no row returned falls short of the true `k`-th best score by
    more than the sum of the cut lists' first unread scores."""
    acc = np.zeros(n_rows, dtype=np.float32)
    for lo, hi in spans:
        head = slice(lo, min(hi, lo + budget))
        acc[indices[head]] += data[head]  # a row appears once in a term's postings
    hit = np.count_nonzero(acc)
    best = np.argpartition(-acc, k - 1)[:k] if hit > k else np.flatnonzero(acc)
    return best.astype(np.int64), acc[best]


class Segment:
    """A segment opened for reading: the rows a question needs (passages, vectors, token ids) read with
    positioned reads on demand, the other arrays memory-mapped."""

    def __init__(self, folder: Path, sums_crc: str | None = None) -> None:
        """Open the segment in `folder`; `sums_crc` is the CRC32 of its checksum list as the manifest records
        it (None for a segment written before checksums were kept: then it is read unchecked)."""
        self.folder = folder
        self.name = folder.name
        self._text = -1  # passages.jsonl, read with os.pread
        self._rows: dict[str, RowFile] = {}
        self._closers: list[weakref.finalize] = []
        try:
            # checked before anything is parsed: a flipped bit in a header must not become a huge allocation
            self.sums = checksums.read_list(folder, sums_crc)
            whole = {name: (folder / name).read_bytes() for name in ("segment.json", "vocab.json")}
            if self.sums is not None:
                checksums.verify(folder, self.sums, full=False, data=whole)
            meta = json.loads(whole["segment.json"])
            self.vocab: list[str] = json.loads(whole["vocab.json"])
            self.sources: list[str] = meta["sources"]
            self.title_terms: list[str] | None = meta.get("title_terms")  # None in segments written before it was kept
            self.impact_ordered = meta.get("postings") == "impact"  # False in segments written before it was
            self.size = int(meta["passages"])
            load = self._load
            self.offsets = load("passage_offsets.npy", self.size + 1)
            self.passage_source = load("passage_source.npy", self.size)
            self.sentence_start = load("sentence_start.npy", self.size + 1)
            self.sentences = int(meta["sentences"])
            self.passage_vectors = load("passage_vectors.npy", self.size)
            self.sentence_vectors = load("sentence_vectors.npy", self.sentences)
            self.window_vectors = load("window_vectors.npy", self.sentences)
            self.sentence_token_ptr = load("sentence_token_ptr.npy", self.sentences + 1)
            self.sentence_tokens = load("sentence_tokens.npy", int(self.sentence_token_ptr[-1]))
            self.passage_token_ptr = load("passage_token_ptr.npy", self.size + 1)
            self.passage_tokens = load("passage_tokens.npy", int(self.passage_token_ptr[-1]))
            self.df = load("df.npy", len(self.vocab))
            dim = int(meta["dim"])
            for name, array, width in (("passage_vectors", self.passage_vectors, dim), ("sentence_vectors",
                                       self.sentence_vectors, dim), ("window_vectors", self.window_vectors, dim),
                                       ("df", self.df, 2)):
                if array.ndim != 2 or array.shape[1] != width:
                    raise ValueError(f"{name}.npy has shape {array.shape}, expected rows of {width}")
            self._text = os.open(folder / "passages.jsonl", os.O_RDONLY)
            self._closers.append(weakref.finalize(self, os.close, self._text))  # also when collected unclosed
            if os.fstat(self._text).st_size != int(self.offsets[-1]):
                raise ValueError("passages.jsonl is truncated")
            for name in _ROW_FILES:
                self._rows[name] = RowFile(folder / f"{name}.npy")
        except (OSError, ValueError, KeyError, TypeError, EOFError, IndexError, OverflowError, MemoryError) as exc:
            self.close()
            raise damaged(folder.parent, f"segment {folder.name}: {exc}") from None
        self.token_id = {t: i for i, t in enumerate(self.vocab)}

    def _load(self, name: str, rows: int) -> np.ndarray:
        # a plain array over the mapped file: indexing a np.memmap costs a Python call per access
        array = np.asarray(np.load(self.folder / name, mmap_mode="r"))
        if len(array) != rows:
            raise ValueError(f"{name} holds {len(array)} rows, expected {rows}")
        return array

    def sentence_rows(self, rows: np.ndarray) -> np.ndarray:
        """Rows of the sentence arrays that belong to passage `rows`, in order."""
        sp = self.sentence_start
        return expand_ranges(sp[rows], sp[rows + 1] - sp[rows])

    def passage(self, row: int) -> Passage:
        """Passage `row`, parsed from its own line only."""
        start, end = int(self.offsets[row]), int(self.offsets[row + 1])
        try:
            return Passage.from_dict(json.loads(os.pread(self._text, end - start, start)))
        except (ValueError, KeyError, TypeError) as exc:
            raise damaged(self.folder.parent, f"segment {self.name}: passage {row}: {exc}") from None

    def verify(self) -> None:
        """Sum every byte of every file against the checksums written with it: IndexCorruptError when one
        differs. (Opening sums only the small files.)"""
        if self.sums is None:
            return
        try:
            checksums.verify(self.folder, self.sums, full=True)
        except (OSError, ValueError) as exc:
            raise damaged(self.folder.parent, f"segment {self.name}: {exc}") from None

    def check(self, every_passage: bool = False) -> None:
        """Read what a question reads lazily (the passages, the candidate indexes): raise if it is damaged.
        A large segment's passages are sampled, so that an incremental ingest stays fast, unless
        `every_passage` is asked for."""
        sample = self.size > ANN_MIN_PASSAGES and not every_passage
        rows = np.linspace(0, self.size - 1, 1000).astype(int) if sample else range(self.size)
        for row in rows:
            self.passage(int(row))
        self.bm25  # noqa: B018
        self.ann  # noqa: B018

    def vectors_of(self, kind: str, rows: np.ndarray) -> np.ndarray:
        """float32 vectors of passage `rows` (ascending): their passage vectors for `kind` "passage", else
        the sentence or window vectors of all their sentences, in order."""
        if kind == "passage":
            found = self._rows["passage_vectors"].rows(rows)
        else:
            sp = self.sentence_start
            found = self._rows[f"{kind}_vectors"].ranges(sp[rows], sp[rows + 1] - sp[rows])
        return found.astype(np.float32)

    def tokens_of(self, kind: str, ptr: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The token ids of the sentence or passage `rows` (ascending, `kind` "sentence" or "passage"),
        concatenated; `ptr` is that kind's token pointer array."""
        return self._rows[f"{kind}_tokens"].ranges(ptr[rows], ptr[rows + 1] - ptr[rows])

    def passages(self, rows: Sequence[int] | np.ndarray | None = None) -> Iterator[Passage]:
        for r in range(self.size) if rows is None else rows:
            yield self.passage(int(r))

    @cached_property
    def passage_vectors32(self) -> np.ndarray:
        """The passage vectors as float32 in memory, for an exact scan of a small segment."""
        return np.asarray(self.passage_vectors, dtype=np.float32)

    @cached_property
    def ann(self) -> object | None:
        """The HNSW index of the passage vectors, memory-mapped, when the segment is large enough to have one."""
        path = self.folder / _ANN_FILE
        if not path.exists():
            return None
        from usearch.index import Index

        try:
            index = Index.restore(str(path), view=True)
        except (OSError, ValueError, RuntimeError) as exc:
            raise damaged(self.folder.parent, f"segment {self.name}: {_ANN_FILE}: {exc}") from None
        if index is None or len(index) != self.size:
            raise damaged(self.folder.parent, f"segment {self.name}: {_ANN_FILE} does not match its passages")
        # the graph is searched wider than the default: with int8 vectors the nearest 100 then hold the
        # exact top 10 (bench/scale.py measures it)
        index.expansion_search = ANN_EXPANSION  # type: ignore[misc]
        return index

    @cached_property
    def bm25(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
        """The bm25s passage index as (scores, passage ids, pointers, vocabulary), memory-mapped."""
        import bm25s

        try:
            index = bm25s.BM25.load(str(self.folder / "bm25"), mmap=True, show_progress=False, verbosity=0)
            s = index.scores
            data, indices, indptr = s["data"], s["indices"], s["indptr"]
            if not len(indptr) or int(indptr[-1]) != len(data) or len(data) != len(indices):
                raise ValueError("its arrays disagree")
        except (OSError, ValueError, KeyError, TypeError, EOFError, AttributeError, IndexError) as exc:
            raise damaged(self.folder.parent, f"segment {self.name}: bm25 index: {exc}") from None
        return data, indices, indptr, index.vocab_dict

    def lexical_top(self, terms: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """(passage rows sorted, bm25s scores) of the `k` passages of the segment scoring highest over `terms`
        (segment-local statistics; see `impact_top`)."""
        data, indices, indptr, vocab = self.bm25
        spans = []
        for t in dict.fromkeys(terms):
            tid = vocab.get(t)
            if tid is not None and tid + 1 < len(indptr) and indptr[tid + 1] > indptr[tid]:
                spans.append((int(indptr[tid]), int(indptr[tid + 1])))
        if not spans:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        # a list ordered by row, in a segment written before impact order, is read whole: its head is no better
        budget = LEXICAL_BUDGET if self.impact_ordered else len(indices)
        rows, scores = impact_top(data, indices, spans, k, self.size, budget)
        order = np.argsort(rows)
        return rows[order], scores[order]

    def close(self) -> None:
        for rows in self._rows.values():
            rows.close()
        for closer in self._closers:
            closer()
