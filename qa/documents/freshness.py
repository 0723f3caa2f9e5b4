"""Whether an indexed article is still as it was when it was read: one rule for its citations and its whole view.

The rule: an article has changed when the document its file gives now (read as an ingest reads it; for a feed
entry, the entry's own text) is not the document that was indexed, or when the file is gone or unreadable. A file
whose bytes are those it had at the ingest has not changed, which a stat tells almost always (the file is hashed
only when its size or modification time moved), so checking every citation of every answer costs next to
nothing; a file whose bytes moved is read again, once per change.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from qa.documents.files import size_limit
from qa.documents.load import load_path
from qa.errors import SourceError

T = TypeVar("T")


class _ByStat(Generic[T]):
    """Values computed from a file, each remembered with the file's stat (size and modification time) and computed
    again only when that moved; safe to share between threads."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[tuple[int, int], T]] = {}
        self._lock = threading.Lock()

    def get(self, path: str, compute: Callable[[os.stat_result], T]) -> T | None:
        """`compute(stat)` for the file at `path`, or what it gave at the same stat; None when the file is gone."""
        try:
            info = os.stat(path)
        except OSError:
            return None
        key = (info.st_size, info.st_mtime_ns)
        with self._lock:
            seen = self._seen.get(path)
        if seen is not None and seen[0] == key:
            return seen[1]
        value = compute(info)
        with self._lock:
            self._seen[path] = (key, value)
        return value


class FileCheck:
    """Remembers, per file, the stat it was last hashed at and the hash; safe to share between threads."""

    def __init__(self) -> None:
        self._hashes: _ByStat[str | None] = _ByStat()

    def current_hash(self, path: str) -> str | None:
        """SHA-256 of the file's bytes now; None when it is gone, unreadable or no longer an article-sized file."""
        def digest(info: os.stat_result) -> str | None:
            if info.st_size > size_limit(Path(path)):
                return None
            try:
                with open(path, "rb") as f:
                    return hashlib.sha256(f.read()).hexdigest()
            except OSError:
                return None
        return self._hashes.get(path, digest)

    def changed(self, path: str, file_hash: str | None) -> bool:
        """True when the file read with hash `file_hash` has since changed or vanished (False when the hash
        is unknown: an index built before files' hashes were kept)."""
        return file_hash is not None and self.current_hash(path) != file_hash


class Freshness:
    """The rule above, remembering per file the stat it was last read at and the documents it gave then; safe to
    share between threads."""

    def __init__(self) -> None:
        self.files = FileCheck()
        self._documents: _ByStat[dict[str, str] | None] = _ByStat()

    def documents_now(self, path: str) -> dict[str, str] | None:
        """The content hash of each document the file at `path` gives now, by source; None when it is gone or
        cannot be read as an article."""
        def read(info: os.stat_result) -> dict[str, str] | None:
            try:
                docs, _skipped = load_path(Path(path))
            except SourceError:
                return None
            return {d.source: d.content_hash for d in docs}
        return self._documents.get(path, read)

    def changed(self, source: str, content_hash: str, path: str, file_hash: str | None = None) -> bool:
        """Whether the indexed document `source` (`content_hash` when indexed, read from the file at `path`,
        whose bytes then hashed to `file_hash` when known) has changed since it was indexed."""
        if file_hash is not None and self.files.current_hash(path) == file_hash:
            return False
        now = self.documents_now(path)
        return now is None or now.get(source) != content_hash
