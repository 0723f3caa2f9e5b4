"""Bytes to disk for the local index: durable writes, JSON that keeps every file name as the file system gave
it, and write failures (a full disk above all) turned into one StorageError that says what was needed."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qa.errors import StorageError

# A file name that is not valid UTF-8 reaches Python as a str with lone surrogates (U+DC80..U+DCFF stand for
# the raw bytes). JSON can hold them only as \u escapes, which read back to the same str: the name is kept
# exactly, and the file is still UTF-8.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def json_bytes(obj: Any) -> bytes:
    """`obj` as UTF-8 JSON, lone surrogates (from file names that are not UTF-8) kept as \\u escapes."""
    text = json.dumps(obj, ensure_ascii=False)
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text).encode("utf-8")


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` and wait until it is on disk."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def remove_folder(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _megabytes(n: int) -> str:
    return f"{max(1, round(n / (1024 * 1024)))} MB"


def _nearly_full(index_dir: Path, needed: int) -> bool:
    """Whether the disk of `index_dir` has less room left than `needed`: numpy reports a write the disk cut
    short as "N requested and M written", an OSError without an errno."""
    try:
        st = os.statvfs(index_dir)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < needed


@contextmanager
def writing(index_dir: Path, needed: int, leftovers: list[Path], done: Callable[[], bool] = lambda: False,
            ) -> Iterator[None]:
    """Write part of the index at `index_dir`, about `needed` bytes of it: on any failure (an interrupt
    included) the paths in `leftovers`, the files and folders of this write, are removed unless `done()` says
    the write took effect after all, and an OSError becomes a StorageError of one line (for a full disk, how
    much was needed)."""
    try:
        yield
    except BaseException as exc:
        if not done():
            for path in leftovers:
                if path.is_dir() and not path.is_symlink():
                    remove_folder(path)
                else:
                    path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            if exc.errno in (errno.ENOSPC, errno.EDQUOT) or (exc.errno is None and _nearly_full(index_dir, needed)):
                raise StorageError(f"no space left on the disk of the index at {index_dir} (needed about "
                                   f"{_megabytes(needed)}); the previous index is unchanged") from None
            raise StorageError(f"cannot write the index at {index_dir} ({exc.strerror or exc}); the previous "
                               "index is unchanged") from None
        raise
