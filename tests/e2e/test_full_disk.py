"""A really full disk (a 1 MB tmpfs, where the test may mount one): `qa ingest` ends with one line saying how
much space it needed, leaves no temporary folder behind, and the previous index goes on answering; every
later ingest fails the same clean way until there is room. (Without mount rights the same path is taken
with an injected ENOSPC: tests/unit/qa/index/local/test_index_checks_itself.py.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.config import DEFAULT_MODEL
from qa.embedding import ensure_export
from tests.support.hostile_files import long_line
from tests.support.paths import ROOT

pytestmark = pytest.mark.e2e
QA = str(Path(sys.executable).parent / "qa")
PLEDGE = "How much did the Biden administration pledge to the Haiti mission?"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    if shutil.which("mount") is None or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def qa(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "300", "NO_COLOR": "1"}
    return subprocess.run([QA, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def used(disk: Path) -> int:
    st = os.statvfs(disk)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def test_a_full_disk_is_one_line_leaves_nothing_behind_and_the_old_index_answers(
        small_disk: Path, seeds_copy: Path, _shared_cache: Path) -> None:
    ensure_export(DEFAULT_MODEL, "onnx", _shared_cache / "qa")
    index = small_disk / "idx"
    assert qa("ingest", str(seeds_copy), "--index", str(index)).returncode == 0
    before = used(small_disk)
    long_line(seeds_copy / "transcript.txt", megabytes=0.5)  # over a megabyte of index: more than is left
    for _ in range(2):
        proc = qa("ingest", str(seeds_copy), "--index", str(index))
        assert proc.returncode == 1, proc.stderr
        assert re.fullmatch(rf"error: no space left on the disk of the index at {re.escape(str(index))} \(needed "
                            r"about \d+ MB\); the previous index is unchanged\n", proc.stderr), proc.stderr
        assert not [p.name for p in index.iterdir() if ".tmp" in p.name]
        assert used(small_disk) <= before + 64 * 1024  # the failed write holds no space
    proc = qa("ask", "--index", str(index), PLEDGE)
    assert proc.returncode == 0 and "38.5 billion" in proc.stdout, proc.stderr
    (seeds_copy / "transcript.txt").unlink()
    proc = qa("ingest", str(seeds_copy), "--index", str(index))
    assert proc.returncode == 0 and "5 unchanged" in proc.stdout, proc.stderr
