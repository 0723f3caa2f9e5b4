"""Whether an indexed file is still as it was when it was read: a stat first, a hash only when its size or
modification time moved, so checking every citation of every answer costs next to nothing."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from qa.documents.files import size_limit


class FileCheck:
    """Remembers, per file, the stat it was last hashed at and the hash; safe to share between threads."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[tuple[int, int], str | None]] = {}
        self._lock = threading.Lock()

    def current_hash(self, path: str) -> str | None:
        """SHA-256 of the file's bytes now; None when it is gone, unreadable or no longer an article-sized file."""
        try:
            info = os.stat(path)
        except OSError:
            return None
        key = (info.st_size, info.st_mtime_ns)
        with self._lock:
            seen = self._seen.get(path)
        if seen is not None and seen[0] == key:
            return seen[1]
        digest: str | None = None
        if info.st_size <= size_limit(Path(path)):
            try:
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
            except OSError:
                digest = None
        with self._lock:
            self._seen[path] = (key, digest)
        return digest

    def changed(self, path: str, file_hash: str | None) -> bool:
        """True when the file read with hash `file_hash` has since changed or vanished (False when the hash
        is unknown: an index built before files' hashes were kept)."""
        return file_hash is not None and self.current_hash(path) != file_hash
