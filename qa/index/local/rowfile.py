"""Chosen rows of a .npy file, read with positioned reads instead of through a memory map.

A question reads a few hundred scattered rows of arrays with millions. Through a map, every page fault
brings in the pages around the row as well (64 KB on Linux), so a long-running process ends up holding
most of each file; a positioned read costs the bytes asked for and nothing stays mapped. Reads are
thread-safe: they carry their own offset.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path

import numpy as np


class RowFile:
    """Rows of the 2-D (or 1-D) C-ordered array saved in the .npy file at `path`."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(fh)
            self.offset = fh.tell()
        if fortran:
            raise ValueError(f"{path.name} is not in row order")
        self.shape: tuple[int, ...] = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.row_bytes = self.dtype.itemsize * int(np.prod(self.shape[1:], dtype=np.int64))
        self._fd = os.open(path, os.O_RDONLY)
        self.close = weakref.finalize(self, os.close, self._fd)  # closed when closed or collected, once
        if os.fstat(self._fd).st_size < self.offset + self.shape[0] * self.row_bytes:
            self.close()
            raise ValueError(f"{path.name} is truncated")

    def ranges(self, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Rows starts[i] .. starts[i] + counts[i] - 1 for each i, concatenated (`starts` ascending, the
        ranges apart: as the rows of sorted passages are). Touching ranges are read at once."""
        starts = np.asarray(starts, dtype=np.int64)
        counts = np.asarray(counts, dtype=np.int64)
        total = int(counts.sum())
        out = np.empty((total, *self.shape[1:]), dtype=self.dtype)
        if total == 0:
            return out
        keep = counts > 0
        starts, counts = starts[keep], counts[keep]
        ends = starts + counts
        # a range that begins where the previous one ends is read with it
        first = np.ones(len(starts), dtype=bool)
        first[1:] = starts[1:] != ends[:-1]
        run_start = starts[first]
        run_end = ends[np.r_[np.flatnonzero(first)[1:] - 1, len(starts) - 1]]
        view = memoryview(out.reshape(-1).view(np.uint8).data)
        at = 0
        for a, b in zip(run_start.tolist(), run_end.tolist(), strict=True):
            n = (b - a) * self.row_bytes
            got = os.preadv(self._fd, [view[at:at + n]], self.offset + a * self.row_bytes)
            if got != n:
                raise OSError(f"short read: {got} of {n} bytes")
            at += n
        return out

    def rows(self, rows: np.ndarray) -> np.ndarray:
        """The rows `rows` (ascending, distinct), in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        return self.ranges(rows, np.ones(len(rows), dtype=np.int64))
