"""The manifest of a local index: which segments hold which documents, and the `CURRENT` pointer that names
the live manifest. An ingest writes a new manifest and switches `CURRENT` with an atomic rename, so a
reader always sees the old index or the new one, and a crash at any moment leaves the previous one whole.

A manifest's name ends in the CRC32 of its bytes (`manifest-<time>-<id>-crc<8 hex>.json`), and the manifest holds
the CRC32 of each segment's checksum list (see `qa.index.local.checksums`): so the few bytes of `CURRENT` pin
everything below them, and a changed byte anywhere is found.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from qa.errors import IndexMissingError
from qa.index.contract import DocumentRecord
from qa.index.local import checksums
from qa.index.local.disk import fsync_dir as _fsync_dir
from qa.index.local.disk import json_bytes, remove_folder, writing
from qa.index.local.disk import write_bytes as _write_bytes
from qa.index.local.segment import damaged

FORMAT = 3
_CURRENT = "CURRENT"
_POINTER_TMP = f".{_CURRENT}.tmp"


def exists(index_dir: Path) -> bool:
    return (index_dir / _CURRENT).is_file()


_NAME_CRC = re.compile(r"-crc([0-9a-f]{8})\.json$")


def _pointer(index_dir: Path) -> str:
    """The manifest `CURRENT` names. FileNotFoundError when there is no pointer; IndexCorruptError when it
    is not one."""
    try:
        raw = (index_dir / _CURRENT).read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise damaged(index_dir, f"CURRENT: {exc.strerror or 'unreadable'}") from None
    try:
        name = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise damaged(index_dir, "CURRENT holds bytes that are not a manifest name") from None
    return name


def read_manifest(index_dir: Path) -> dict:
    try:
        name = _pointer(index_dir)
    except FileNotFoundError:
        raise IndexMissingError(f"no index at {index_dir}", index=str(index_dir)) from None
    if name.startswith("gen-"):
        raise damaged(index_dir, "it was written by an older version of qa")
    if not name.startswith("manifest-") or not name.endswith(".json") or "/" in name or any(c.isspace() for c in name):
        raise damaged(index_dir, f"CURRENT names {name[:40]!r}")
    try:
        data = (index_dir / name).read_bytes()
    except FileNotFoundError:
        if current_name(index_dir) == name:  # not replaced by a commit meanwhile: named, but not there
            raise damaged(index_dir, f"CURRENT names {name}, which does not exist") from None
        raise Moved() from None
    except OSError as exc:
        raise damaged(index_dir, f"{name}: {exc.strerror or exc}") from None
    crc = _NAME_CRC.search(name)  # none in a manifest written before checksums were kept
    if crc is not None and checksums.crc_bytes(data) != crc.group(1):
        raise damaged(index_dir, f"{name} does not match its checksum (bytes changed on disk)")
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise damaged(index_dir, f"{name}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        got = manifest.get("format") if isinstance(manifest, dict) else None
        raise damaged(index_dir, f"format {got}, this version reads {FORMAT}")
    manifest["_name"] = name
    return manifest


class Moved(Exception):
    """The manifest named by CURRENT was replaced between two reads: read CURRENT again."""


def current_name(index_dir: Path) -> str | None:
    """The manifest `CURRENT` names now (a new one for every commit), read cheaply; None when there is none."""
    try:
        return (index_dir / _CURRENT).read_bytes().decode("ascii", "replace").strip()
    except OSError:
        return None


def remove_leftovers(index_dir: Path) -> None:
    """Remove what writes killed midway left (temporary segments and pointers): call under `write_lock`."""
    if not index_dir.is_dir():
        return
    for entry in index_dir.iterdir():
        if entry.name.startswith((".tmp-", ".tmp-gen-")):
            remove_folder(entry) if entry.is_dir() else entry.unlink(missing_ok=True)
        elif entry.name == _POINTER_TMP:
            entry.unlink(missing_ok=True)


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
           backend: str = "torch", paths: list[str] | None = None) -> None:
    """Make a new manifest of `documents` in `segments` the live index, atomically; then remove what no
    manifest refers to any more (the previous manifest, merged segments, leftovers of killed writes).
    StorageError when it cannot be written: then the previous manifest stays live.

    Call under `write_lock`, after the segments are written.
    """
    manifest = {
        "format": FORMAT,
        "model": model,
        "backend": backend,  # which embedding backend made the vectors (see qa.embedding.factory.vector_kind)
        "dim": dim,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "segments": segments,
        # the CRC32 of each segment's checksum list (none for a segment written before they were kept)
        "checksums": {s: checksums.crc_bytes((index_dir / s / checksums.LIST).read_bytes())
                      for s in segments if (index_dir / s / checksums.LIST).is_file()},
        "documents": [asdict(d) for d in documents],
        "paths": list(paths or []),  # the files and folders the index was built from (`qa repl`'s /reindex)
    }
    data = json_bytes(manifest)
    name = f"manifest-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}-crc{checksums.crc_bytes(data)}.json"
    pointer = index_dir / _POINTER_TMP
    # an interrupt that lands just after the rename must not remove the manifest that is now live
    with writing(index_dir, len(data), [index_dir / name, pointer], done=lambda: current_name(index_dir) == name):
        _write_bytes(index_dir / name, data)
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
