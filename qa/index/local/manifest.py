"""The manifest of a local index: which segments hold which documents, and the `CURRENT` pointer that names
the live manifest. An ingest writes a new manifest and switches `CURRENT` with an atomic rename, so a
reader always sees the old index or the new one, and a crash at any moment leaves the previous one whole.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from qa.errors import IndexMissingError
from qa.index.contract import DocumentRecord
from qa.index.local.segment import _fsync_dir, _write_bytes, damaged, remove_folder

FORMAT = 3
_CURRENT = "CURRENT"


def exists(index_dir: Path) -> bool:
    return (index_dir / _CURRENT).is_file()


def read_manifest(index_dir: Path) -> dict:
    try:
        name = (index_dir / _CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexMissingError(f"no index at {index_dir}: run `qa ingest PATH` first") from None
    except OSError as exc:
        raise damaged(index_dir, exc.strerror or "unreadable") from None
    if name.startswith("gen-"):
        raise damaged(index_dir, "it was written by an older version of qa")
    if not name.startswith("manifest-") or "/" in name:
        raise damaged(index_dir, f"CURRENT names {name[:40]!r}")
    try:
        manifest = json.loads((index_dir / name).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Moved() from None
    except (OSError, ValueError) as exc:
        raise damaged(index_dir, f"{name}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        got = manifest.get("format") if isinstance(manifest, dict) else None
        raise damaged(index_dir, f"format {got}, this version reads {FORMAT}")
    manifest["_name"] = name
    return manifest


class Moved(Exception):
    """The manifest named by CURRENT was replaced between two reads: read CURRENT again."""


def current_name(index_dir: Path) -> str | None:
    try:
        return (index_dir / _CURRENT).read_text(encoding="utf-8").strip()
    except OSError:
        return None


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


def commit(index_dir: Path, model: str, dim: int, documents: list[DocumentRecord], segments: list[str],
           backend: str = "torch") -> None:
    """Make a new manifest of `documents` in `segments` the live index, atomically; then remove what no
    manifest refers to any more (the previous manifest, merged segments, leftovers of killed writes).

    Call under `write_lock`, after the segments are written.
    """
    name = f"manifest-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.json"
    manifest = {
        "format": FORMAT,
        "model": model,
        "backend": backend,  # which embedding backend made the vectors (see qa.embedding.factory.vector_kind)
        "dim": dim,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "segments": segments,
        "documents": [asdict(d) for d in documents],
    }
    _write_bytes(index_dir / name, json.dumps(manifest, ensure_ascii=False, indent=0).encode())
    pointer = index_dir / f".{_CURRENT}.tmp"
    _write_bytes(pointer, name.encode())
    os.replace(pointer, index_dir / _CURRENT)  # the commit point
    _fsync_dir(index_dir)
    live = {name, *segments}
    for entry in index_dir.iterdir():
        if entry.name in live:
            continue
        if entry.name.startswith(("seg-", ".tmp-seg-", "gen-", ".tmp-gen-")):
            remove_folder(entry)
        elif entry.name.startswith("manifest-"):
            entry.unlink(missing_ok=True)
