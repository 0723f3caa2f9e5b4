"""`qa watch` keeps the index in step with its folder, and running front ends (the Slack bot over HTTP, the REPL
in its pty) answer from a new index generation committed by another process, with no restart."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.bot import Bot
from qa.config import resolve
from qa.embedding import Embedder
from qa.index.local import ingest_paths, open_index
from qa.index.open import target_for
from tests.support.paths import ROOT, SEEDS
from tests.support.repl_pty import Spawn, plain
from tests.support.slack_fake.webapi import SlackAPIServer
from tests.support.slack_process import SECRET, Running, qa_env, signed_mention

NEW_ARTICLE = """date 2025-03-10 Nairobi
Kenya and the US sign a fisheries pact

Kenya and the United States signed a fisheries pact in Mombasa on Monday.
Under the pact, the US Coast Guard will help patrol the Kenyan coast for illegal trawlers.
"""
NEW_QUESTION = "Who will help patrol the Kenyan coast for illegal trawlers?"


def _ctrl_c_as_in_a_terminal() -> None:
    """A process started in the background of a script (as CI may start the tests) inherits an ignored SIGINT;
    the watch is started as from a terminal, where Ctrl-C reaches it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def seed(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}*.txt"))


class Watching:
    """`qa watch FOLDER --index DIR` in the background, its stdout collected line by line."""

    def __init__(self, folder: Path, where: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "adapters", "watch", str(folder), *where],
                                     cwd=folder.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, preexec_fn=_ctrl_c_as_in_a_terminal)
        self.lines: list[str] = []
        self.errors: list[str] = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.errors), daemon=True).start()

    @staticmethod
    def _read(stream: object, into: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            into.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float, after: int = 0) -> float:
        """Seconds until a line after the first `after` matches `pattern`."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if any(re.search(pattern, line) for line in self.lines[after:]):
                return time.monotonic() - start
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in {self.lines} / {self.errors}")


@pytest.fixture
def watching(tmp_path: Path) -> Iterator[tuple[Watching, Path, Path]]:
    folder, index = tmp_path / "articles", tmp_path / "idx"
    folder.mkdir()
    shutil.copy(seed("000_"), folder)
    w = Watching(folder, ["--index", str(index)], qa_env(tmp_path))
    try:
        w.wait_for(r"^watching ", timeout=120)
        yield w, folder, index
    finally:
        if w.proc.poll() is None:
            w.proc.kill()


def test_qa_watch_ingests_each_added_edited_and_deleted_file_within_seconds(
        watching: tuple[Watching, Path, Path], embedder: Embedder) -> None:
    w, folder, index = watching
    bot = Bot(resolve(index=index, reader="none"), embedder=embedder)
    assert bot.ask(NEW_QUESTION).abstained or "Coast Guard" not in (bot.ask(NEW_QUESTION).answer or "")

    mark = len(w.lines)
    (folder / "fisheries.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    assert w.wait_for(r"^\s+added \S*fisheries\.txt$", timeout=15, after=mark) < 8.0
    answer = bot.ask(NEW_QUESTION)
    assert "Coast Guard" in (answer.answer or "") and answer.citations[0].source.endswith("fisheries.txt")

    mark = len(w.lines)
    (folder / "fisheries.txt").write_text(NEW_ARTICLE.replace("Coast Guard", "Navy"), encoding="utf-8")
    assert w.wait_for(r"^\s+updated \S*fisheries\.txt$", timeout=15, after=mark) < 8.0
    assert "Navy" in (bot.ask(NEW_QUESTION).answer or "")

    mark = len(w.lines)
    (folder / "fisheries.txt").unlink()
    assert w.wait_for(r"^\s+removed \S*fisheries\.txt$", timeout=15, after=mark) < 8.0
    gone = bot.ask(NEW_QUESTION)
    assert not any(c.source.endswith("fisheries.txt") for c in gone.citations + gone.nearest)

    w.proc.send_signal(signal.SIGINT)  # Ctrl-C
    assert w.proc.wait(20) == 0
    assert w.lines[-1] == "stopped watching" and "Traceback" not in "\n".join(w.errors)


def test_a_burst_of_files_makes_a_few_ingests_and_a_growing_file_is_read_whole(
        watching: tuple[Watching, Path, Path]) -> None:
    w, folder, index = watching
    mark = len(w.lines)
    burst = folder / "burst"
    burst.mkdir()
    for i in range(100):
        (burst / f"note-{i:03}.txt").write_text(f"Note {i} says the ferry number {i} sailed on time.\n",
                                                encoding="utf-8")
    w.wait_for(r"^101 added|; 101 passages|^\d+ added, .*; 1\d\d passages", timeout=60, after=mark)
    deadline = time.monotonic() + 30
    while len(open_index(index).documents()) < 101 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(open_index(index).documents()) == 101
    summaries = [line for line in w.lines[mark:] if re.match(r"^\d+ added, ", line)]
    assert 1 <= len(summaries) <= 5, summaries

    mark = len(w.lines)
    growing = folder / "growing.txt"
    with growing.open("w", encoding="utf-8") as f:  # written over two seconds, a line every 0.1 s
        for i in range(20):
            f.write(f"Line {i} of the growing article says the harbour opened berth {i}.\n")
            f.flush()
            time.sleep(0.1)
    w.wait_for(r"^\s+added \S*growing\.txt$", timeout=15, after=mark)
    time.sleep(2.5)  # long enough for a second ingest, had the file been read half-written
    assert not any("updated" in line and "growing" in line for line in w.lines[mark:]), w.lines[mark:]
    texts = [p.text for p in open_index(index).passages if p.source == str(growing.resolve())]
    assert "berth 0." in texts[0] and "berth 19." in texts[-1]


def test_the_slack_bot_answers_from_an_ingest_made_by_another_process(tmp_path: Path, embedder: Embedder) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "idx"
    corpus.mkdir()
    shutil.copy(seed("003_"), corpus)
    ingest_paths([corpus], index, embedder)
    env = qa_env(tmp_path, SLACK_BOT_TOKEN="xoxb-live", SLACK_SIGNING_SECRET=SECRET)
    with SlackAPIServer() as api:
        env["SLACK_API_URL"] = api.url
        running = Running(["--http", "--port", "0", "--index", str(index)], env, "Answering Slack at")
        try:
            url = running.wait_ready().split()[3].replace("0.0.0.0", "127.0.0.1")
            assert signed_mention(url, "Who did Ruto call in January 2025?", "C0LIVE", "EvLive1") == 200
            [first] = api.wait_for("chat.postMessage")
            assert "Rubio" in first.params["text"]

            (corpus / "fisheries.txt").write_text(NEW_ARTICLE, encoding="utf-8")
            ingest = subprocess.run([sys.executable, "-m", "adapters", "ingest", str(corpus), "--index", str(index)],
                                    cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
            assert ingest.returncode == 0, ingest.stderr
            committed = time.monotonic()
            assert signed_mention(url, NEW_QUESTION, "C0LIVE", "EvLive2", ts="1712000001.000200") == 200
            replies = api.wait_for("chat.postMessage", count=2)
            assert time.monotonic() - committed < 5.0
            assert "Coast Guard" in replies[1].params["text"] and "fisheries" in replies[1].params["text"]
        finally:
            assert running.stop() == 0
    assert "Traceback" not in "".join(running.lines)


def test_the_repl_answers_from_an_ingest_made_by_another_process(tmp_path: Path, spawn: Spawn,
                                                                 embedder: Embedder) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "idx"
    corpus.mkdir()
    shutil.copy(seed("003_"), corpus)
    ingest_paths([corpus], index, embedder)
    repl = spawn(["--index", str(index)])
    repl.wait_prompt()
    assert "Rubio" in plain(repl.run("Who did Ruto call in January 2025?", until="score"))
    (corpus / "fisheries.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    ingest = subprocess.run([sys.executable, "-m", "adapters", "ingest", str(corpus), "--index", str(index)],
                            cwd=ROOT, env=qa_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert ingest.returncode == 0, ingest.stderr
    text = plain(repl.run(NEW_QUESTION, until="score"))
    assert "Coast Guard" in text and "fisheries.txt" in text


def test_qa_watch_keeps_a_postgresql_store_in_step(tmp_path: Path, pg_database: str) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(seed("000_"), folder)
    w = Watching(folder, ["--store", pg_database], qa_env(tmp_path))
    proc = w.proc
    try:
        w.wait_for(r"^watching ", timeout=120)
        mark = len(w.lines)
        (folder / "fisheries.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        w.wait_for(r"^\s+added \S*fisheries\.txt$", timeout=15, after=mark)
        store = target_for(resolve(store=pg_database)).open()
        try:
            assert sorted(Path(s).name for s in store.documents())[-1] == "fisheries.txt"
        finally:
            store.close()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
