"""Every byte of a local index is checked: eight bytes flipped in any file of it (the pointer, the manifest,
every file of a segment) give the one "damaged" line, from opening the index, from `qa check` and from
`qa ask`; a plain ingest then finds the damage and rebuilds. A pointer that is not text, a disk that fills up
midway and the temporary folders a killed ingest leaves behind are each handled the same way: one line, the
previous index answering, nothing left on disk."""

from __future__ import annotations

import errno
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from adapters import main as cli
from adapters.cli import commands
from adapters.common.advice import with_advice
from adapters.common.exits import EXIT_ERROR
from qa.bot import Bot
from qa.errors import REBUILD, IndexCorruptError, StorageError
from qa.index.local import LocalIndex, ingest_paths, open_index, segment
from qa.pipeline import Pipeline
from qa.retrieval.retriever import Retriever
from tests.support.index_checks import difference, snapshot
from tests.support.paths import SEEDS
from tests.support.tiny_embedder import TinyEmbedder

FIX = "qa ingest --rebuild"
QUESTION = "How much did the Biden administration pledge to the Haiti mission?"


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("healthy") / "index"
    ingest_paths([SEEDS], index, TinyEmbedder())
    return index


@pytest.fixture
def tiny_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """`qa ingest` and `qa ask` with the tiny embedder and no reader: no model is loaded."""
    monkeypatch.setattr(commands, "Bot", lambda settings: Bot(settings.with_(reader="none"), embedder=TinyEmbedder()))


def index_files(index: Path) -> list[Path]:
    """Every file that holds the index's data (the lock file is empty: it is only ever locked)."""
    return sorted(p.relative_to(index) for p in index.rglob("*") if p.is_file() and p.name != ".lock")


def flip(path: Path, rng: random.Random, width: int = 8) -> None:
    data = bytearray(path.read_bytes())
    at = rng.randrange(0, max(1, len(data) - width))
    for i in range(at, min(len(data), at + width)):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def one_clear_line(said: str | IndexCorruptError, index: Path) -> bool:
    """One line naming the index and the fix: the command line's words; the core's error has the fix as a field."""
    if isinstance(said, IndexCorruptError):
        if "qa " in str(said) or said.fix != REBUILD:
            return False
        said = with_advice(said)
    return "\n" not in said and f"the index at {index} is damaged" in said and FIX in said


def answer(index: Path) -> dict:
    return Pipeline(Retriever(open_index(index), TinyEmbedder())).ask(QUESTION, k=3, mode="hybrid").to_json()


def test_bytes_flipped_in_any_file_are_the_damaged_line_and_a_plain_ingest_repairs_them(
        healthy: Path, tmp_path: Path) -> None:
    before, rng, problems = snapshot(healthy), random.Random(25), []
    files = index_files(healthy)
    kinds = {p.name for p in files}
    assert {"CURRENT", "passage_vectors.npy", "passages.jsonl", "vocab.json", "checksums.json"} <= kinds
    assert any(p.name.startswith("manifest-") for p in files) and any("bm25" in p.parts for p in files)
    for rel in files:
        index = tmp_path / "-".join(rel.parts)
        shutil.copytree(healthy, index)
        flip(index / rel, rng)
        for what, read in (("open", lambda i=index: answer(i)), ("check", lambda i=index: LocalIndex(i).check())):
            try:
                read()
                problems.append(f"{rel}: {what} did not notice")
            except IndexCorruptError as exc:
                if not one_clear_line(exc, index):
                    problems.append(f"{rel}: {what}: {exc}")
            except Exception as exc:  # a traceback for the user
                problems.append(f"{rel}: {what} raised {exc!r}")
        report = ingest_paths([SEEDS], index, TinyEmbedder())
        if len(report.added) != 5 or difference(snapshot(index), before) is not None:
            problems.append(f"{rel}: a plain ingest did not repair it ({len(report.skipped)} unchanged)")
        shutil.rmtree(index)
    assert not problems, "\n".join(problems)


def test_qa_ask_and_qa_check_on_flipped_vectors_print_one_line(healthy: Path, tmp_path: Path, tiny_cli: None,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    index = tmp_path / "index"
    shutil.copytree(healthy, index)
    flip(next(index.glob("seg-*/sentence_vectors.npy")), random.Random(1))
    for command in (["ask", "--reader", "none", QUESTION], ["check"]):
        assert cli.main([*command, "--index", str(index)]) == EXIT_ERROR
        out, err = capsys.readouterr()
        assert out == "" and len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
        assert one_clear_line(err.strip(), index) and "sentence_vectors.npy" in err
    assert cli.main(["ingest", str(SEEDS), "--index", str(index)]) == 0
    assert "5 added" in capsys.readouterr().out
    assert cli.main(["check", "--index", str(index)]) == 0
    assert capsys.readouterr().out.startswith(f"ok: index at {index}: 5 documents")


def test_a_pointer_that_is_not_text_is_damage_that_ingest_and_rebuild_repair(healthy: Path, tmp_path: Path) -> None:
    for rebuild in (False, True):
        index = tmp_path / f"index-{rebuild}"
        shutil.copytree(healthy, index)
        (index / "CURRENT").write_bytes(b"manifest-\xff\xfe\x81.json")
        with pytest.raises(IndexCorruptError) as err:
            open_index(index)
        assert one_clear_line(err.value, index)
        report = ingest_paths([SEEDS], index, TinyEmbedder(), rebuild=rebuild)
        assert len(report.added) == 5 and difference(snapshot(index), snapshot(healthy)) is None


def test_a_killed_ingest_s_temporary_files_are_removed_by_the_next_ingest(healthy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(healthy, index)
    (index / ".tmp-seg-0123456789ab").mkdir()
    (index / ".tmp-seg-0123456789ab" / "passage_vectors.npy").write_bytes(b"\0" * 100_000)
    (index / ".CURRENT.tmp").write_bytes(b"manifest-")
    report = ingest_paths([SEEDS], index, TinyEmbedder())  # nothing to change: the leftovers still go
    assert len(report.skipped) == 5
    assert not [p.name for p in index.iterdir() if p.name.startswith(".tmp") or p.name.endswith(".tmp")]


def test_a_full_disk_is_one_line_leaves_no_temporary_folder_and_the_previous_index_answers(
        healthy: Path, seeds_copy: Path, tmp_path: Path, tiny_cli: None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """ENOSPC injected where numpy writes the vectors (a real full disk: tests/e2e/test_full_disk.py)."""
    index = tmp_path / "index"
    ingest_paths([seeds_copy], index, TinyEmbedder())
    before = answer(index)
    real_save = segment._save

    def full(path: Path, array: np.ndarray) -> None:
        if "vectors" in path.name:
            path.write_bytes(b"\x93NUMPY half")
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(path, array)

    monkeypatch.setattr(segment, "_save", full)
    (seeds_copy / "new.txt").write_text("Port news\n\nThe port of Lamu handled 40 ships in May 2025.\n", encoding="utf-8")
    for attempt in range(2):  # every later ingest fails the same clean way, and leaves nothing either
        assert cli.main(["ingest", str(seeds_copy), "--index", str(index)]) == EXIT_ERROR
        out, err = capsys.readouterr()
        assert err.startswith(f"error: no space left on the disk of the index at {index} (needed about ")
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert not [p.name for p in index.iterdir() if p.name.startswith(".tmp")], attempt
    assert answer(index) == before
    with pytest.raises(StorageError):
        ingest_paths([seeds_copy], index, TinyEmbedder())
    monkeypatch.undo()
    assert len(ingest_paths([seeds_copy], index, TinyEmbedder()).added) == 1
