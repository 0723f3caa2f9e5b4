"""Rows of a .npy file read with positioned reads: the same values as indexing the whole array."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.index.local.rowfile import RowFile
from qa.index.local.segment import expand_ranges


@pytest.fixture(scope="module")
def arrays(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[np.ndarray, Path]]:
    folder = tmp_path_factory.mktemp("rows")
    rng = np.random.default_rng(5)
    out = {"vectors": rng.standard_normal((500, 7)).astype(np.float16), "tokens": rng.integers(0, 10**6, 2_000).astype(np.int32)}
    saved = {}
    for name, array in out.items():
        np.save(folder / f"{name}.npy", array)
        saved[name] = (array, folder / f"{name}.npy")
    return saved


@settings(max_examples=80, deadline=None)
@given(data=st.data(), name=st.sampled_from(["vectors", "tokens"]))
def test_ranges_are_the_arrays_rows(arrays: dict[str, tuple[np.ndarray, Path]], data: st.DataObject, name: str) -> None:
    array, path = arrays[name]
    # ascending ranges that may touch (read together) but never overlap, some empty
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(array)), max_size=40))))
    starts, counts = [], []
    for a, b in zip(cuts[::2], cuts[1::2], strict=False):
        starts.append(a)
        counts.append(data.draw(st.integers(0, b - a)))
    starts_a, counts_a = np.array(starts, dtype=np.int64), np.array(counts, dtype=np.int64)
    rows = RowFile(path)
    try:
        got = rows.ranges(starts_a, counts_a)
        assert got.dtype == array.dtype and np.array_equal(got, array[expand_ranges(starts_a, counts_a)])
        picked = np.unique(np.array(cuts[:-1] or [0], dtype=np.int64)) if len(array) else np.zeros(0, np.int64)
        assert np.array_equal(rows.rows(picked), array[picked])
    finally:
        rows.close()


def test_a_truncated_file_is_refused(arrays: dict[str, tuple[np.ndarray, Path]], tmp_path: Path) -> None:
    _, path = arrays["vectors"]
    cut = tmp_path / "cut.npy"
    cut.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="truncated"):
        RowFile(cut)
