"""`qa watch` with a broken Word file dropped in among the articles: one `skipped` line for it, and the files
added after it are still indexed (an exception from the Word parser used to end the watch)."""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

import pytest

from adapters.cli import watch
from qa.bot import Bot
from qa.index.local import open_index
from tests.support.hostile_files import GOOD_ARTICLE, docx_truncated_xml
from tests.support.paths import SEEDS
from tests.support.tiny_embedder import TinyEmbedder


def test_a_broken_word_file_is_skipped_and_the_files_after_it_are_indexed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(watch, "Bot", lambda settings: Bot(settings, embedder=TinyEmbedder()))
    folder, index = tmp_path / "articles", tmp_path / "idx"
    folder.mkdir()
    (folder / "first.txt").write_text(next(SEEDS.glob("000_*.txt")).read_text(encoding="utf-8"), encoding="utf-8")
    args = argparse.Namespace(paths=[str(folder)], index=str(index), model=None, backend=None, store=None,
                              reader=None, reader_model=None)
    stop = threading.Event()
    result: list[int] = []
    runner = threading.Thread(target=lambda: result.append(watch.cmd_watch(args, stop=stop)), daemon=True)
    runner.start()

    def indexed() -> set[str]:
        try:
            return {Path(s).name for s in open_index(index).documents()}
        except Exception:
            return set()

    def wait_until(names: set[str], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not names <= indexed():
            assert time.monotonic() < deadline and runner.is_alive(), (indexed(), capsys.readouterr())
            time.sleep(0.1)

    try:
        wait_until({"first.txt"})
        docx_truncated_xml(folder / "broken.docx")
        time.sleep(1.0)  # its own burst
        (folder / "after.txt").write_text(GOOD_ARTICLE, encoding="utf-8")
        wait_until({"first.txt", "after.txt"})
    finally:
        stop.set()
        runner.join(timeout=10)
    assert result == [0]
    out, err = capsys.readouterr()
    skipped = [line for line in err.splitlines() if "broken.docx" in line]
    assert skipped and all(line.startswith("warning: skipped ") and "not a readable Word document" in line
                           for line in skipped), err
    assert "Traceback" not in err and "broken.docx" not in indexed()
