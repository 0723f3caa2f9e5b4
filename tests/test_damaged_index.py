"""A damaged index (a cut vectors file, garbage metadata, a missing folder) is reported in one line that names
the index and the fix, `qa ingest --rebuild`, never as a traceback or as wrong answers; the fix then works.

Files are picked by pattern only (`**/*.npy`, `**/*.json*`, everything else), so the tests hold for any layout
of the index folder: every file of the kind is damaged in turn, on its own copy of a healthy index.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from index_checks import ROOT, SEEDS, Snapshot, difference, snapshot
from tiny_embedder import TinyEmbedder

from qa import store
from qa.errors import IndexCorruptError, IndexMissingError
from qa.ingest import ingest_paths

FIX = "qa ingest --rebuild"
QA = Path(sys.executable).parent / "qa"
PLEDGE = "How much did the Biden administration pledge to the Haiti mission?"
PLEDGE_FILE = SEEDS / "002_55bcac6e1997eb79.txt"

Damage = Callable[[Path], None]


def _cut_to(size: Callable[[int], int]) -> Damage:
    def cut(path: Path) -> None:
        with open(path, "r+b") as fh:
            fh.truncate(size(path.stat().st_size))
    return cut


def _write(data: bytes) -> Damage:
    def write(path: Path) -> None:
        path.write_bytes(data)
    return write


def _resave(change: Callable[[np.ndarray], np.ndarray]) -> Damage:
    """Replace a vectors file with a well-formed one holding other rows: the kind of damage numpy cannot see."""
    def resave(path: Path) -> None:
        array = np.load(path)
        with open(path, "wb") as fh:
            np.save(fh, change(array))
    return resave


def _delete(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


VECTORS = "**/*.npy"
METADATA = "**/*.json*"
# name -> (which files, what is done to each)
DAMAGES: dict[str, tuple[str, Damage]] = {
    "vectors emptied": (VECTORS, _cut_to(lambda n: 0)),
    "vectors cut in the header": (VECTORS, _cut_to(lambda n: 40)),
    "vectors cut in half": (VECTORS, _cut_to(lambda n: n // 2)),
    "vectors missing the last byte": (VECTORS, _cut_to(lambda n: n - 1)),
    "vectors missing a row": (VECTORS, _resave(lambda a: a[:-1])),
    "vectors of the wrong width": (VECTORS, _resave(lambda a: a[:, :-1])),
    "metadata of binary garbage": (METADATA, _write(b"\x00\xff\xfe\x81 garbage \x9c")),
    "metadata not JSON": (METADATA, _write(b"{not json at all")),
    "metadata emptied": (METADATA, _write(b"")),
    "metadata a JSON list": (METADATA, _write(b"[]\n")),
    "metadata JSON null": (METADATA, _write(b"null\n")),
    "metadata cut in half": (METADATA, _cut_to(lambda n: n // 2)),
}
# damage to any other file, or a deleted file or folder, may also be harmless (a lock file, a leftover)
MAYBE_HARMLESS: dict[str, Damage] = {
    "other file of garbage": _write(b"\x00garbage\n"),
    "file or folder deleted": _delete,
}


def targets(index: Path, pattern: str) -> list[Path]:
    """Paths under `index` that `pattern` names, relative to it ("everything" for the maybe-harmless damages)."""
    if pattern == "other":
        found = [p for p in index.rglob("*") if p.is_file() and not p.match("*.npy") and ".json" not in p.name]
    elif pattern == "any":
        found = list(index.rglob("*"))
    else:
        found = [p for p in index.glob(pattern) if p.is_file()]
    return sorted(p.relative_to(index) for p in found)


def damaged_copy(healthy: Path, work: Path, rel: Path, damage: Damage) -> Path:
    index = work / ("idx-" + "-".join(rel.parts).replace(".", "_"))
    shutil.copytree(healthy, index, symlinks=True)
    damage(index / rel)
    return index


def clear(message: str, index: Path) -> str | None:
    """What is wrong with an error message for a damaged index, or None: it must be one line naming the
    index and the fix."""
    if "\n" in message.strip():
        return f"more than one line: {message!r}"
    if str(index) not in message:
        return f"does not name the index: {message!r}"
    if FIX not in message:
        return f"does not say `{FIX}`: {message!r}"
    return None


# ---- the store: open_index raises IndexCorruptError, ingest --rebuild repairs --------------------------------

@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("tiny-index") / "index"
    report = ingest_paths([SEEDS], index, TinyEmbedder())
    assert len(report.added) == 5
    return index


@pytest.fixture(scope="module")
def healthy(tiny_index: Path) -> Snapshot:
    return snapshot(tiny_index)


def check_damaged(index: Path, healthy: Snapshot, may_be_harmless: bool) -> list[str]:
    """The problems with how the store treats one damaged index: opening it, a plain ingest, and a rebuild."""
    problems = []
    try:
        opened = snapshot(index)
    except IndexCorruptError as exc:
        if (why := clear(str(exc), index)) is not None:
            problems.append(f"open_index: {why}")
    except IndexMissingError as exc:
        # only when the damage took away what makes the folder an index; then a plain ingest builds a new one
        if store.exists(index) or str(index) not in str(exc) or "qa ingest" not in str(exc):
            problems.append(f"open_index: IndexMissingError {exc}")
    except Exception as exc:  # a traceback for the user
        problems.append(f"open_index raised {exc!r}")
    else:
        if not may_be_harmless:
            problems.append("open_index read it without an error")
        elif (diff := difference(opened, healthy)) is not None:
            problems.append(f"open_index read it without an error, but wrongly: {diff}")
    # a plain ingest repairs it or says how to; it never fails with something else
    try:
        ingest_paths([SEEDS], index, TinyEmbedder())
    except IndexCorruptError as exc:
        if (why := clear(str(exc), index)) is not None:
            problems.append(f"plain ingest: {why}")
    except Exception as exc:
        problems.append(f"plain ingest raised {exc!r}")
    else:
        if (diff := difference(snapshot(index), healthy)) is not None:
            problems.append(f"plain ingest left a wrong index: {diff}")
    try:
        ingest_paths([SEEDS], index, TinyEmbedder(), rebuild=True)
        if (diff := difference(snapshot(index), healthy)) is not None:
            problems.append(f"after ingest --rebuild: {diff}")
    except Exception as exc:
        problems.append(f"ingest --rebuild raised {exc!r}")
    return problems


@pytest.mark.parametrize("damage", [*DAMAGES, *MAYBE_HARMLESS])
def test_store_reports_damage_clearly_and_rebuild_repairs_it(
    damage: str, tiny_index: Path, healthy: Snapshot, tmp_path: Path,
) -> None:
    if damage in DAMAGES:
        pattern, hurt = DAMAGES[damage]
    else:
        pattern, hurt = ("other" if damage.startswith("other") else "any"), MAYBE_HARMLESS[damage]
    found = targets(tiny_index, pattern)
    assert found, f"no file matches {pattern} in {sorted(p.name for p in tiny_index.rglob('*'))}"
    problems = []
    for rel in found:
        index = damaged_copy(tiny_index, tmp_path, rel, hurt)
        problems += [f"{rel}: {p}" for p in check_damaged(index, healthy, damage in MAYBE_HARMLESS)]
    assert not problems, "\n".join(problems)


# ---- the command line: `qa ask` prints one error line, `qa ingest --rebuild` repairs ------------------------

def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "80"}  # narrow: a long message must still be one line


def qa(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(QA), *args], input=stdin, capture_output=True, text=True, cwd=ROOT, env=_env(),
                          timeout=300)


# a selection, to keep the real model's start-up to a few runs: each kind of file, each kind of damage
CLI_DAMAGES = ["vectors emptied", "vectors cut in half", "vectors missing a row", "vectors of the wrong width",
               "metadata of binary garbage", "metadata a JSON list", "metadata emptied"]


def ask_problem(index: Path) -> str | None:
    proc = qa("ask", "--index", str(index), PLEDGE)
    lines = proc.stderr.strip().splitlines()
    if "Traceback" in proc.stderr:
        return f"a traceback: {proc.stderr.strip().splitlines()[-1]}"
    if proc.returncode == 0:
        return f"it answered: {proc.stdout.strip()[:100]!r}"
    if len(lines) != 1 or not lines[0].startswith("error:"):
        return f"not one `error:` line: {proc.stderr!r}"
    return clear(lines[0], index)


@pytest.mark.parametrize("damage", [*CLI_DAMAGES, "folder deleted"])
def test_qa_ask_on_a_damaged_index_prints_one_line_naming_it_and_the_fix(
    damage: str, seeds_index: Path, tmp_path: Path,
) -> None:
    if damage == "folder deleted":
        found = sorted(p.relative_to(seeds_index) for p in seeds_index.rglob("*") if p.is_dir())
        hurt: Damage = _delete
    else:
        pattern, hurt = DAMAGES[damage]
        found = targets(seeds_index, pattern)
    assert found
    indexes = [damaged_copy(seeds_index, tmp_path, rel, hurt) for rel in found]
    with ThreadPoolExecutor(2) as pool:  # each run only starts Python: two at a time on two cores
        results = list(pool.map(ask_problem, indexes))
    problems = [f"{rel}: {why}" for rel, why in zip(found, results, strict=True) if why is not None]
    assert not problems, "\n".join(problems)


def test_qa_ingest_rebuild_repairs_a_damaged_index_and_qa_ask_answers_again(seeds_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(seeds_index, index, symlinks=True)
    for path in targets(index, VECTORS)[:1]:
        _cut_to(lambda n: n // 2)(index / path)
    for path in targets(index, METADATA):
        _write(b"\x00 garbage")(index / path)
    assert qa("ask", "--index", str(index), PLEDGE).returncode != 0

    # one article is enough to show the repair, and embeds in a fraction of the time of all five
    proc = qa("ingest", "--rebuild", str(PLEDGE_FILE), "--index", str(index))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "1 added" in proc.stdout
    proc = qa("ask", "--json", "--index", str(index), PLEDGE)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert not answer["abstained"] and "38.5 billion" in answer["answer"]
    assert answer["citations"][0]["source"].endswith("002_55bcac6e1997eb79.txt")
