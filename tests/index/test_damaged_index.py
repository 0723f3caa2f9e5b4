"""A damaged index (a cut vectors file, garbage metadata, a missing folder) is reported in one line that names
the index and the fix, `qa ingest --rebuild`, never as a traceback or as wrong answers; the fix then works.

Files are picked by pattern only (`**/*.npy`, `**/*.json*`, everything else), so the tests hold for any layout
of the index folder: every file of the kind is damaged in turn, on its own copy of a healthy index. A store may
read some files only when it needs them (a candidate index used only by large indexes, say), so the rule is:
opening the index, reading all of it and answering a question either fails with the clear error, or gives
exactly what the healthy index gives.
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

from adapters.common.advice import with_advice
from qa.embedding import Embedder
from qa.errors import INGEST, REBUILD, IndexCorruptError, IndexMissingError
from qa.index import local as store
from qa.index.local import ingest_paths
from qa.pipeline import Pipeline
from qa.retrieval.retriever import Retriever
from tests.support.index_checks import Snapshot, difference, make_corpus, snapshot, snapshot_of
from tests.support.paths import ROOT, SEEDS
from tests.support.tiny_embedder import TinyEmbedder

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
    """Replace an array file with a well-formed one holding other rows: damage numpy itself cannot see."""
    def resave(path: Path) -> None:
        array = np.load(path)
        with open(path, "wb") as fh:
            np.save(fh, change(array))
    return resave


def _fewer_columns(array: np.ndarray) -> np.ndarray:
    return array[:, :-1] if array.ndim == 2 else array[:-1]


def _delete(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


VECTORS = "**/*.npy"
METADATA = "**/*.json*"
OTHER = "other files"
ANYTHING = "every file and folder"
# name -> (which files, what is done to each)
DAMAGES: dict[str, tuple[str, Damage]] = {
    "vectors emptied": (VECTORS, _cut_to(lambda n: 0)),
    "vectors cut in the header": (VECTORS, _cut_to(lambda n: 40)),
    "vectors cut in half": (VECTORS, _cut_to(lambda n: n // 2)),
    "vectors missing a row": (VECTORS, _resave(lambda a: a[:-1])),
    "vectors of the wrong width": (VECTORS, _resave(_fewer_columns)),
    "metadata of binary garbage": (METADATA, _write(b"\x00\xff\xfe\x81 garbage \x9c")),
    "metadata emptied": (METADATA, _write(b"")),
    "metadata a JSON list": (METADATA, _write(b"[]\n")),
    "metadata cut in half": (METADATA, _cut_to(lambda n: n // 2)),
    "other file of garbage": (OTHER, _write(b"\x00garbage\n")),
    "file or folder deleted": (ANYTHING, _delete),
}


def targets(index: Path, pattern: str) -> list[Path]:
    """Paths under `index` that `pattern` names, relative to it."""
    if pattern == OTHER:
        found = [p for p in index.rglob("*") if p.is_file() and p.suffix != ".npy" and ".json" not in p.name]
    elif pattern == ANYTHING:
        found = list(index.rglob("*"))
    else:
        found = [p for p in index.glob(pattern) if p.is_file()]
    return sorted(p.relative_to(index) for p in found)


def damaged_copy(healthy: Path, work: Path, rel: Path, damage: Damage) -> Path:
    index = work / ("idx-" + "-".join(rel.parts).replace(".", "_"))
    shutil.copytree(healthy, index, symlinks=True)
    damage(index / rel)
    return index


def clear(said: str | IndexCorruptError, index: Path) -> str | None:
    """What is wrong with the error for a damaged index, or None: one line naming the index and the fix. The core's
    error carries no command-line advice (its `fix` is REBUILD): the command line words it, as `qa ask` shows it."""
    if isinstance(said, IndexCorruptError):
        if "qa " in str(said) or said.fix != REBUILD:
            return f"the core's error words the command line's advice, or no fix: {str(said)!r} ({said.fix})"
        said = with_advice(said)
    message = said
    if "\n" in message.strip():
        return f"more than one line: {message!r}"
    if str(index) not in message:
        return f"does not name the index: {message!r}"
    if FIX not in message:
        return f"does not say `{FIX}`: {message!r}"
    return None


def answer(data: object, embedder: Embedder, question: str = PLEDGE) -> dict:
    return Pipeline(Retriever(data, embedder)).ask(question, k=3, mode="hybrid").to_json()  # type: ignore[arg-type]


def probe(index: Path, embedder: Embedder, healthy: Snapshot, healthy_answer: dict) -> tuple[str, str | None]:
    """How the store treats a damaged index, as (outcome, what is wrong or None): it opens it, reads all of it
    and answers a question. Outcomes: "error" (IndexCorruptError), "missing" (no index left: IndexMissingError),
    "harmless" (all as healthy), "wrong", "crash"."""
    try:
        data = store.open_index(index)
        got = snapshot_of(data)
        said = answer(data, embedder)
    except IndexCorruptError as exc:
        return "error", clear(exc, index)
    except IndexMissingError as exc:
        # only when the damage took away what makes the folder an index: then a plain ingest builds a new one
        ok = not store.exists(index) and str(index) in str(exc) and exc.fix == INGEST and "qa " not in str(exc)
        return "missing", None if ok else f"IndexMissingError: {exc}"
    except Exception as exc:  # the user would see a traceback
        return "crash", f"raised {exc!r}"
    if (diff := difference(got, healthy)) is not None:
        return "wrong", f"read without an error, but wrongly: {diff}"
    if said != healthy_answer:
        return "wrong", f"read without an error, but answers {said['answer']!r}, not {healthy_answer['answer']!r}"
    return "harmless", None


# ---- the store: a clear IndexCorruptError or the healthy index; ingest --rebuild repairs ----------------------

@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("tiny-index") / "index"
    report = ingest_paths([SEEDS], index, TinyEmbedder())
    assert len(report.added) == 5
    return index


def check_repairs(index: Path, healthy: Snapshot) -> list[str]:
    """A plain ingest repairs the damaged index or gives the clear error; `--rebuild` always repairs it."""
    problems = []
    try:
        ingest_paths([SEEDS], index, TinyEmbedder())
    except IndexCorruptError as exc:
        if (why := clear(exc, index)) is not None:
            problems.append(f"plain ingest: {why}")
    except Exception as exc:
        problems.append(f"plain ingest raised {exc!r}")
    else:
        try:
            diff = difference(snapshot(index), healthy)
        except Exception as exc:
            diff = f"cannot be opened: {exc!r}"
        if diff is not None:
            problems.append(f"a plain ingest went through, but the index is not repaired: {diff}")
    try:
        ingest_paths([SEEDS], index, TinyEmbedder(), rebuild=True)
        if (diff := difference(snapshot(index), healthy)) is not None:
            problems.append(f"after ingest --rebuild: {diff}")
    except Exception as exc:
        problems.append(f"ingest --rebuild raised {exc!r}")
    return problems


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_store_reports_damage_clearly_and_rebuild_repairs_it(damage: str, tiny_index: Path, tmp_path: Path) -> None:
    healthy, tiny = snapshot(tiny_index), TinyEmbedder()
    healthy_answer = answer(store.open_index(tiny_index), tiny)
    pattern, hurt = DAMAGES[damage]
    found = targets(tiny_index, pattern)
    assert found, f"no file matches {pattern} in {sorted(p.name for p in tiny_index.rglob('*'))}"
    problems = []
    for rel in found:
        index = damaged_copy(tiny_index, tmp_path, rel, hurt)
        _, why = probe(index, tiny, healthy, healthy_answer)
        problems += [f"{rel}: {why}"] if why else []
        problems += [f"{rel}: {p}" for p in check_repairs(index, healthy)]
    assert not problems, "\n".join(problems)


def test_damage_to_files_a_large_index_reads_when_answering_is_caught_too(tmp_path: Path) -> None:
    """Past a few thousand passages a store may pick candidates with indexes of its own, read only when a
    question comes: damage to those must give the clear error too, or leave the answers as they were."""
    corpus = make_corpus(tmp_path / "corpus", articles=260, seed=8)
    healthy_dir = tmp_path / "index"
    ingest_paths([corpus], healthy_dir, TinyEmbedder())
    tiny = TinyEmbedder()
    healthy_answer = answer(store.open_index(healthy_dir), tiny)
    problems = []
    for damage in ("vectors emptied", "metadata of binary garbage", "other file of garbage"):
        pattern, hurt = DAMAGES[damage]
        for rel in targets(healthy_dir, pattern):
            index = damaged_copy(healthy_dir, tmp_path / damage.replace(" ", "-"), rel, hurt)
            try:
                said = answer(store.open_index(index), tiny)
            except IndexCorruptError as exc:
                why = clear(exc, index)
            except Exception as exc:
                why = f"raised {exc!r}"
            else:
                why = None if said == healthy_answer else f"answers {said['answer']!r}, not {healthy_answer['answer']!r}"
            problems += [f"{damage}, {rel}: {why}"] if why else []
            shutil.rmtree(index)
    assert not problems, "\n".join(problems)


# ---- the command line: `qa ask` prints one error line, `qa ingest --rebuild` repairs ------------------------

def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "80"}  # narrow: a long message must still be one line


def qa(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(QA), *args], capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=300)


def ask_problem(index: Path, missing: bool = False) -> str | None:
    """What is wrong with `qa ask` on a damaged index, or None; `missing`: the damage left no index at all,
    and the message may ask for a plain `qa ingest`."""
    proc = qa("ask", "--index", str(index), PLEDGE)
    lines = proc.stderr.strip().splitlines()
    if "Traceback" in proc.stderr:
        return f"a traceback: {lines[-1]}"
    if proc.returncode == 0:
        return f"it answered: {proc.stdout.strip()[:100]!r}"
    if len(lines) != 1 or not lines[0].startswith("error:"):
        return f"not one `error:` line: {proc.stderr!r}"
    if missing:
        return None if str(index) in lines[0] and "qa ingest" in lines[0] else f"unclear: {lines[0]!r}"
    return clear(lines[0], index)


# (not "vectors of the wrong width": a store that misses it loads the model to fail later, for seconds a run;
# the store test above covers it)
@pytest.mark.parametrize("damage", ["vectors emptied", "vectors cut in half", "metadata of binary garbage",
                                    "metadata a JSON list", "file or folder deleted"])
def test_qa_ask_on_a_damaged_index_prints_one_line_naming_it_and_the_fix(
    damage: str, seeds_index: Path, embedder: Embedder, tmp_path: Path,
) -> None:
    """Every file the damage applies to is tried in process; `qa ask` itself (a few seconds each) runs on one
    damaged index for each way the store reacted (a QA error, another exception, a wrong index)."""
    healthy = snapshot(seeds_index)
    healthy_answer = answer(store.open_index(seeds_index), embedder)
    pattern, hurt = DAMAGES[damage]
    found = targets(seeds_index, pattern)
    by_outcome: dict[str, tuple[Path, bool]] = {}
    for rel in found:
        index = damaged_copy(seeds_index, tmp_path, rel, hurt)
        outcome, why = probe(index, embedder, healthy, healthy_answer)
        if outcome != "harmless":  # e.g. "error: clear", "crash: raised EOFError", "error: does not name the index"
            kind = why.split("(")[0].split(":")[0] if why else "clear"
            by_outcome.setdefault(f"{outcome}: {kind}", (index, outcome == "missing"))
    assert by_outcome, f"the store noticed none of these damages: {[str(p) for p in found]}"
    chosen = list(by_outcome.values())
    with ThreadPoolExecutor(2) as pool:  # mostly Python start-up: two at a time on two cores
        results = list(pool.map(lambda case: ask_problem(*case), chosen))
    problems = [f"{index.name}: {why}" for (index, _), why in zip(chosen, results, strict=True) if why is not None]
    assert not problems, "\n".join(problems)


def test_qa_ingest_rebuild_repairs_a_damaged_index_and_qa_ask_answers_again(seeds_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(seeds_index, index, symlinks=True)
    for path in targets(index, VECTORS):
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
    said = json.loads(proc.stdout)
    assert not said["abstained"] and "38.5 billion" in said["answer"]
    assert said["citations"][0]["source"].endswith("002_55bcac6e1997eb79.txt")
