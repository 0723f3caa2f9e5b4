"""Bad files at ingest, beside the real seeds: binary, not UTF-8, empty, 50 MB on one line, symlink loops,
unreadable, a named pipe, deleted during the ingest. Each is skipped (or, for another encoding, read with a
warning) with one line naming it; every other file is indexed; `qa ingest` says by its exit code whether
anything was skipped: 0 nothing, 3 something (the rest indexed), 1 everything."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path

import pytest

from adapters import main as cli
from adapters.cli import commands
from adapters.common.exits import EXIT_ERROR, EXIT_SKIPPED
from qa.bot import Bot
from qa.documents import MAX_FILE_BYTES, find_files, load_file
from qa.errors import SourceError
from qa.index import local as store
from qa.index import pipeline as ingest
from qa.index.local import ingest_paths
from qa.passages import split_document
from tests.support.paths import ROOT, SEEDS
from tests.support.tiny_embedder import TinyEmbedder

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
LATIN1_TEXT = ("Le président Ruto a reçu à Nairobi l’envoyé américain, qui a promis 38 millions d’euros "
               "pour la mission de sécurité en Haïti.\n")
MARATHON = ("Naivasha marathon ends in a sprint finish\n\n"
            "The Lake Naivasha marathon in 2025 was won by Wanjiru Kamau in two hours and eleven minutes.\n")
HUGE_BYTES = 50 * 1024 * 1024


def write_huge(path: Path) -> None:
    """50 MB of prose on a single line, written in large chunks."""
    chunk = b"The president spoke with the envoy about trade and the mission. " * 16384  # ~1 MB
    with path.open("wb") as f:
        for _ in range(HUGE_BYTES // len(chunk)):
            f.write(chunk)
        f.write(chunk[: HUGE_BYTES - f.tell()])


def make_bad_corpus(corpus: Path, elsewhere: Path) -> dict[str, str]:
    """Put one of each kind of bad file beside the seeds already in `corpus`.

    Returns each bad path (relative to `corpus`) with the words its one-line reason must contain.
    Also adds two good files: a Windows-1252 article and, through a symlinked folder, a UTF-8 one.
    """
    expected: dict[str, str] = {}

    def bad(name: str, reason: str, data: bytes | None = None) -> Path:
        path = corpus / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if data is not None:
            path.write_bytes(data)
        expected[name] = reason
        return path

    bad("image.txt", "binary file", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    rng = random.Random(7)
    noise = bytes(rng.randrange(1, 256) for _ in range(20000))  # binary without a NUL byte
    bad("noise.md", "binary file", noise)
    bad("empty.txt", "empty file", b"")
    bad("blank.md", "empty file", b"\n   \n\t\n")
    write_huge(bad("huge.txt", "too large (50 MB; files over 5 MB"))
    os.symlink("loop_b.txt", bad("loop_a.txt", "symlink loop"))
    os.symlink("loop_a.txt", bad("loop_b.txt", "symlink loop"))
    os.symlink("nowhere.txt", bad("dangling.txt", "broken symlink"))
    (corpus / "sub").mkdir()
    os.symlink("..", bad("sub/back", "symlink loop (leads back to"))
    os.mkfifo(bad("pipe.txt", "not a regular file"))
    if not AS_ROOT:  # root reads a file whatever its mode
        unreadable = bad("secret.txt", "cannot read (Permission denied)", MARATHON.encode())
        unreadable.chmod(0)
    (corpus / "latin1.txt").write_bytes(LATIN1_TEXT.encode("cp1252"))
    elsewhere.mkdir()
    (elsewhere / "marathon.txt").write_text(MARATHON, encoding="utf-8")
    os.symlink(elsewhere, corpus / "linked")
    return expected


GOOD = [p.name for p in sorted(SEEDS.glob("*.txt"))] + ["latin1.txt", "marathon.txt"]


@pytest.fixture
def bad_corpus(seeds_copy: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    return seeds_copy, make_bad_corpus(seeds_copy, tmp_path / "elsewhere")


def problem_files(lines: list[str], corpus: Path) -> dict[str, str]:
    """Each problem line keyed by the corpus path it starts with."""
    found = {}
    for line in lines:
        assert "\n" not in line and "Traceback" not in line, line
        m = re.match(re.escape(str(corpus)) + r"/(.+?): (.*)$", line)
        assert m, line
        found[m.group(1)] = m.group(2)
    return found


def test_ingest_skips_each_bad_file_with_one_line_and_indexes_the_rest(
        bad_corpus: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    corpus, expected = bad_corpus
    index = tmp_path / "idx"
    tracemalloc.start()
    try:
        report = ingest_paths([corpus], index, TinyEmbedder())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < HUGE_BYTES / 2, "the 50 MB file was read into memory"

    reported = problem_files(report.errors, corpus)
    assert set(reported) == set(expected)
    for name, reason in expected.items():
        assert reason in reported[name], (name, reported[name])

    indexed = store.open_index(index).documents()
    assert sorted(Path(s).name for s in indexed) == sorted(GOOD)
    assert sorted(report.added) == sorted(indexed)
    latin1 = next(p for p in store.open_index(index).passages if p.source.endswith("latin1.txt"))
    assert "président Ruto a reçu à Nairobi l’envoyé" in latin1.text


def test_qa_ingest_process_warns_a_line_per_skipped_file_and_exits_3(
        bad_corpus: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    corpus, expected = bad_corpus
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "60", "NO_COLOR": "1"}
    proc = subprocess.run([str(Path(sys.executable).parent / "qa"), "ingest", str(corpus), "--index", str(tmp_path / "idx")],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert proc.returncode == EXIT_SKIPPED == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    skipped = [line.removeprefix("warning: skipped ") for line in proc.stderr.splitlines() if line.startswith("warning: skipped ")]
    others = [line for line in proc.stderr.splitlines() if not line.startswith("warning: skipped ")]
    assert problem_files(skipped, corpus).keys() == expected.keys()
    assert all(re.fullmatch(r"warning: \S*latin1\.txt: not UTF-8 .*read as Windows-1252", line) for line in others), others
    assert re.search(rf"^7 added, 0 updated, 0 removed, 0 unchanged; {len(expected)} skipped; \d+ passages in the index$",
                     proc.stdout, re.M), proc.stdout
    assert sorted(re.findall(r"^\s+added \S*/(\S+)$", proc.stdout, re.M)) == sorted(GOOD)


@pytest.fixture
def tiny_bot(monkeypatch: pytest.MonkeyPatch) -> None:
    """`qa ingest` with the tiny embedder: what is skipped and the exit code do not depend on the model."""
    monkeypatch.setattr(commands, "Bot", lambda settings: Bot(settings, embedder=TinyEmbedder()))


def test_exit_code_says_whether_anything_was_skipped(seeds_copy: Path, tmp_path: Path, tiny_bot: None,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    index = ["--index", str(tmp_path / "idx")]
    assert cli.main(["ingest", str(seeds_copy), *index]) == 0
    assert capsys.readouterr().err.strip() == ""

    (seeds_copy / "image.txt").write_bytes(b"\x00\x01\x02" * 100)
    assert cli.main(["ingest", str(seeds_copy), *index]) == EXIT_SKIPPED  # the seeds are unchanged, one skipped
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"warning: skipped {seeds_copy / 'image.txt'}: binary file, not text"]
    assert "0 added, 0 updated, 0 removed, 5 unchanged; 1 skipped" in out

    assert cli.main(["ingest", str(seeds_copy / "image.txt"), *index]) == EXIT_ERROR  # nothing readable
    out, err = capsys.readouterr()
    assert out == "" and err.splitlines() == [f"error: {seeds_copy / 'image.txt'}: binary file, not text"]
    assert len(store.open_index(tmp_path / "idx").documents()) == 5


def test_a_file_read_with_a_fallback_encoding_is_indexed_with_a_warning(
        seeds_copy: Path, tmp_path: Path, tiny_bot: None, capsys: pytest.CaptureFixture[str]) -> None:
    latin1 = seeds_copy / "latin1.txt"
    latin1.write_bytes(LATIN1_TEXT.encode("cp1252"))
    assert cli.main(["ingest", str(seeds_copy), "--index", str(tmp_path / "idx")]) == 0  # nothing was skipped
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"warning: {latin1}: not UTF-8 (bad byte at offset 5); read as Windows-1252"]
    assert "6 added" in out


def test_a_file_deleted_between_listing_and_reading(seeds_copy: Path) -> None:
    files, problems = find_files([seeds_copy])
    assert problems == [] and len(files) == 5
    files[2].unlink()
    with pytest.raises(SourceError) as caught:
        load_file(files[2])
    assert str(caught.value) == f"{files[2]}: gone before it could be read (deleted or moved during the ingest)"
    assert load_file(files[3]).blocks


def test_ingest_goes_on_when_a_listed_file_vanishes(seeds_copy: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    victim = next(seeds_copy.glob("002_*.txt")).resolve()

    def list_then_delete(paths: list[Path]) -> tuple[list[Path], list[str]]:
        listed = find_files(paths)
        victim.unlink()  # another process removes the file after the folder was listed
        return listed

    monkeypatch.setattr(ingest, "find_files", list_then_delete)
    report = ingest_paths([seeds_copy], tmp_path / "idx", TinyEmbedder())
    assert report.errors == [f"{victim}: gone before it could be read (deleted or moved during the ingest)"]
    assert len(report.added) == 4 and str(victim) not in report.added


def test_a_50_mb_single_line_file_is_refused_unread(tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    write_huge(huge)
    tracemalloc.start()
    try:
        with pytest.raises(SourceError, match=r"huge\.txt: too large \(50 MB; files over 5 MB are not read"):
            load_file(huge)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024


def test_a_single_line_file_just_under_the_limit_is_read_and_split(tmp_path: Path) -> None:
    sentence = "The president spoke with Rubio about the Haiti mission on Tuesday. "
    path = tmp_path / "long.txt"
    path.write_text(sentence * (MAX_FILE_BYTES // len(sentence)), encoding="utf-8")
    assert path.stat().st_size <= MAX_FILE_BYTES
    doc = load_file(path)
    (block,) = doc.blocks
    passages = split_document(doc)
    assert sum(len(p.sentences) for p in passages) == MAX_FILE_BYTES // len(sentence)


def _runs_within(code: str, seconds: float) -> bool:
    """Whether `code` finishes in a fresh interpreter within `seconds` (a quadratic loop would not)."""
    try:
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def test_long_pathological_lines_are_parsed_in_linear_time() -> None:
    # Each input made a regular expression backtrack over the whole line, once per character.
    code = """
from qa.documents import parse_text
from qa.documents.web import visible_text
n = 1_000_000
parse_text("x.md", "[" * n + "\\n", markdown=True)
parse_text("x.md", "[a](" * (n // 4) + "\\n", markdown=True)
parse_text("x.txt", "Read also" + " " * n + "x\\n")
visible_text("<" * n)
visible_text("<script " * (n // 8))
"""
    assert _runs_within(code, 60)


def test_a_long_run_of_dots_is_split_in_linear_time() -> None:
    # 100,000 dots take minutes with the quadratic pattern, milliseconds with a linear one.
    assert _runs_within("from qa.text.sentences import split_spans; split_spans('Dots ' + '.' * 100_000 + 'x')", 10)


def test_symlink_loops_are_reported_not_followed(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "a" / "b").mkdir(parents=True)
    shutil.copy(next(SEEDS.glob("003_*.txt")), corpus / "a" / "b" / "rubio.txt")
    os.symlink(corpus, corpus / "a" / "b" / "top")  # a folder that leads back to the corpus
    os.symlink("self.txt", corpus / "self.txt")
    files, problems = find_files([corpus, corpus / "self.txt"])
    assert files == [(corpus / "a" / "b" / "rubio.txt").resolve()]
    assert problems == [
        f"{corpus / 'self.txt'}: symlink loop",  # met in the folder
        f"{corpus / 'a' / 'b' / 'top'}: symlink loop (leads back to {corpus.resolve()}), not followed",
        f"{corpus / 'self.txt'}: symlink loop",  # and named on its own
    ]


def test_a_folder_reached_twice_is_read_once(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "real").mkdir(parents=True)
    (corpus / "real" / "story.txt").write_text(MARATHON, encoding="utf-8")
    os.symlink(corpus / "real", corpus / "alias")  # not a loop: another way into the same folder
    files, problems = find_files([corpus])
    assert files == [(corpus / "real" / "story.txt").resolve()] and problems == []


def test_a_named_pipe_does_not_block_the_ingest(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)
    outcome: list[BaseException] = []
    reader = threading.Thread(target=lambda: outcome.append(pytest.raises(SourceError, load_file, pipe).value),
                              daemon=True)
    reader.start()
    reader.join(timeout=10)  # opening a pipe for reading would wait for a writer forever
    assert not reader.is_alive(), "load_file blocked on a named pipe"
    assert str(outcome[0]) == f"{pipe}: not a regular file"


@pytest.mark.skipif(AS_ROOT, reason="running as root: a file without read permission is still readable")
def test_a_file_without_read_permission(seeds_copy: Path, tmp_path: Path) -> None:
    secret = seeds_copy / "secret.txt"
    secret.write_text(MARATHON, encoding="utf-8")
    secret.chmod(0)
    report = ingest_paths([seeds_copy], tmp_path / "idx", TinyEmbedder())
    assert report.errors == [f"{secret.resolve()}: cannot read (Permission denied)"]
    assert len(report.added) == 5


def test_binary_detection_does_not_reject_text_with_a_few_escape_codes(tmp_path: Path) -> None:
    path = tmp_path / "colours.txt"
    path.write_bytes(b"Ruto spoke with \x1b[31mRubio\x1b[0m about trade\x07 and the Haiti mission.\n" * 20)
    assert load_file(path).blocks
