"""The local vector store: a directory of numpy vectors and passage metadata, replaced atomically.

Layout: `CURRENT` names the live generation folder; each generation holds `manifest.json`,
`passages.jsonl`, `passage_vectors.npy`, `sentence_vectors.npy` and `window_vectors.npy`. A write builds a new
generation beside the old one and then swaps `CURRENT` with an atomic rename, so a crash or
Ctrl-C at any point leaves the previous index whole.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import IndexCorruptError, IndexMissingError, ModelMismatchError
from qa.passages import Passage

FORMAT = 2
_CURRENT = "CURRENT"


@dataclass
class DocumentRecord:
    """What the index remembers of one ingested document."""

    source: str
    content_hash: str
    title: str | None
    date: str | None
    passages: int


@dataclass
class IndexData:
    """An index in memory; the vectors are memory-mapped, not read whole."""

    model: str
    dim: int
    documents: dict[str, DocumentRecord]
    passages: list[Passage]
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray
    window_vectors: np.ndarray  # each sentence with its neighbours, one row per sentence
    path: Path | None = None
    sentence_owner: np.ndarray = field(init=False)  # passage row of each sentence row

    def __post_init__(self) -> None:
        counts = [len(p.sentences) for p in self.passages]
        self.sentence_owner = np.repeat(np.arange(len(self.passages), dtype=np.int64), counts)
        n_sentences = len(self.sentence_owner)
        if (n_sentences != len(self.sentence_vectors) or n_sentences != len(self.window_vectors)
                or len(self.passages) != len(self.passage_vectors)):
            raise IndexCorruptError("index vectors and passages disagree in number: re-ingest the corpus")

    def sentence_rows(self, passage_row: int) -> range:
        """Rows in `sentence_vectors` of the sentences of one passage."""
        start = int(np.searchsorted(self.sentence_owner, passage_row, side="left"))
        return range(start, start + len(self.passages[passage_row].sentences))


def exists(index_dir: Path) -> bool:
    return (index_dir / _CURRENT).is_file()


def _live_generation(index_dir: Path) -> Path:
    try:
        name = (index_dir / _CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexMissingError(f"no index at {index_dir}: run `qa ingest PATH` first") from None
    except OSError as exc:
        raise IndexCorruptError(f"cannot read index at {index_dir}: {exc.strerror}") from None
    gen = index_dir / name
    if not name or "/" in name or not gen.is_dir():
        raise IndexCorruptError(f"index at {index_dir} is damaged (missing {name!r}): re-ingest with `qa ingest`")
    return gen


def open_index(index_dir: Path, model: str | None = None) -> IndexData:
    """Open the live index; with `model`, refuse an index built with a different model."""
    gen = _live_generation(index_dir)
    try:
        manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise IndexCorruptError(f"index at {index_dir} has format {manifest.get('format')}, expected {FORMAT}: re-ingest")
        if model is not None and manifest["model"] != model:
            raise ModelMismatchError(
                f"index at {index_dir} was built with model {manifest['model']!r}, not {model!r}: "
                f"re-ingest with --model {model} into a new --index, or use --model {manifest['model']}"
            )
        with open(gen / "passages.jsonl", encoding="utf-8") as fh:
            passages = [Passage.from_dict(json.loads(line)) for line in fh if line.strip()]
        pv = np.load(gen / "passage_vectors.npy", mmap_mode="r")
        sv = np.load(gen / "sentence_vectors.npy", mmap_mode="r")
        wv = np.load(gen / "window_vectors.npy", mmap_mode="r")
        docs = {d["source"]: DocumentRecord(**d) for d in manifest["documents"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorruptError(f"index at {index_dir} cannot be read ({exc}): re-ingest with `qa ingest`") from None
    return IndexData(manifest["model"], int(manifest["dim"]), docs, passages, pv, sv, wv, path=index_dir)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, write: Any) -> None:
    with open(path, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())


@contextmanager
def write_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's writer lock, so two ingests cannot interleave."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def write_index(index_dir: Path, data: IndexData) -> None:
    """Write `data` as the new live generation of the index at `index_dir`, atomically.

    Call under `write_lock`. Old generations and leftovers of interrupted writes are removed after the swap.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = index_dir / f".tmp-{name}"
    tmp.mkdir()
    manifest = {
        "format": FORMAT,
        "model": data.model,
        "dim": data.dim,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "documents": [vars(d) for d in data.documents.values()],
    }
    _write_file(tmp / "manifest.json", lambda fh: fh.write(json.dumps(manifest, indent=1).encode()))
    _write_file(
        tmp / "passages.jsonl",
        lambda fh: fh.writelines((json.dumps(p.to_dict(), ensure_ascii=False) + "\n").encode() for p in data.passages),
    )
    _write_file(tmp / "passage_vectors.npy", lambda fh: np.save(fh, np.ascontiguousarray(data.passage_vectors, dtype=np.float32)))
    _write_file(tmp / "sentence_vectors.npy", lambda fh: np.save(fh, np.ascontiguousarray(data.sentence_vectors, dtype=np.float32)))
    _write_file(tmp / "window_vectors.npy", lambda fh: np.save(fh, np.ascontiguousarray(data.window_vectors, dtype=np.float32)))
    _fsync_dir(tmp)
    tmp.rename(index_dir / name)
    pointer = index_dir / f".{_CURRENT}.tmp"
    _write_file(pointer, lambda fh: fh.write(name.encode()))
    os.replace(pointer, index_dir / _CURRENT)  # the commit point
    _fsync_dir(index_dir)
    for old in index_dir.iterdir():
        if old.name != name and (old.name.startswith("gen-") or old.name.startswith(".tmp-gen-")):
            shutil.rmtree(old, ignore_errors=True)
