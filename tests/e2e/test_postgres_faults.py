"""The PostgreSQL store under faults, with a real PostgreSQL (pgserver) on a local socket: an ingest killed
with SIGKILL leaves the store as it was and the next one lands; the bot reconnects after the server restarts
and answers the next question; two ingests of different folders into one database, from two processes at
once, both land; a bot keeps answering while another process ingests. Each ends with `qa check`'s test of
every row, and a file name that is not UTF-8 goes in and comes out exactly."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.bot import Bot
from qa.config import resolve
from qa.errors import StoreUnavailableError
from qa.index.pipeline import ingest_paths
from qa.index.postgres import PostgresIndex
from tests.support.hostile_files import GOOD_ARTICLE, not_utf8_name
from tests.support.index_checks import make_corpus
from tests.support.paths import ROOT, SEEDS
from tests.support.tiny_embedder import TinyEmbedder

pytestmark = pytest.mark.e2e
PLEDGE = "How much did the Biden administration pledge to the Haiti mission?"
WIND = "How much did the Lake Turkana wind farm produce in March 2025?"


class Worker:
    """`python -m tests.support.store_worker` in the background: started on `go()`, its lines collected."""

    def __init__(self, dsn: str, paths: list[Path], delay: float = 0.0) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.support.store_worker", dsn, *map(str, paths),
                                      "--delay", str(delay)], cwd=ROOT, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for("ready")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def wait_for(self, prefix: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not any(line.startswith(prefix) for line in self.lines):
            assert time.monotonic() < deadline and (self.proc.poll() is None or prefix == "done"), \
                (self.lines, self.proc.stderr.read() if self.proc.poll() is not None else "")
            time.sleep(0.02)

    def finish(self, timeout: float = 120) -> int:
        code = self.proc.wait(timeout)
        assert self.proc.stderr is not None
        err = self.proc.stderr.read()
        assert "Traceback" not in err, err
        return code


def contents(dsn: str) -> tuple[dict, int]:
    store = PostgresIndex(dsn).open()
    try:
        return {s: (r.content_hash, r.passages) for s, r in store.documents().items()}, store.passage_count()
    finally:
        store.close()


def corpus(tmp_path: Path, name: str, articles: int, seed: int) -> Path:
    folder = make_corpus(tmp_path / name, articles=articles, seed=seed, paragraphs=4)
    for f in folder.glob("0*.txt"):  # only generated articles: the two folders share no document
        f.unlink()
    return folder


def test_an_ingest_killed_with_sigkill_leaves_the_store_as_it_was_and_the_next_lands(
        pg_database: str, tmp_path: Path) -> None:
    ingest_paths([SEEDS], PostgresIndex(pg_database), TinyEmbedder())
    before = contents(pg_database)
    more = corpus(tmp_path, "more", articles=120, seed=3)  # several batches of passages, embedded in turn
    worker = Worker(pg_database, [SEEDS, more], delay=0.3)
    worker.go()
    worker.wait_for("encode 1")  # inside its transaction: documents inserted, the first passages on their way
    worker.proc.send_signal(signal.SIGKILL)
    worker.proc.wait(10)
    assert contents(pg_database) == before
    PostgresIndex(pg_database).check()
    report = ingest_paths([SEEDS, more], PostgresIndex(pg_database), TinyEmbedder())  # the lock was released
    assert len(report.added) == 120 and len(report.skipped) == 5
    PostgresIndex(pg_database).check()


def test_two_ingests_of_different_folders_from_two_processes_both_land(pg_database: str, tmp_path: Path) -> None:
    ingest_paths([SEEDS], PostgresIndex(pg_database), TinyEmbedder())
    a, b = corpus(tmp_path, "a", articles=15, seed=4), corpus(tmp_path, "b", articles=15, seed=5)
    workers = [Worker(pg_database, [a], delay=0.02), Worker(pg_database, [b], delay=0.02)]
    for w in workers:
        w.go()
    assert [w.finish() for w in workers] == [0, 0]
    documents, passages = contents(pg_database)
    assert {Path(s).parent.name for s in documents} == {"seeds", "gen0", "gen1", "gen2"}
    assert len(documents) == 5 + 30 and passages == sum(n for _, n in documents.values())
    PostgresIndex(pg_database).check()


def test_a_bot_answers_throughout_another_process_s_ingest(pg_database: str, tmp_path: Path) -> None:
    ingest_paths([SEEDS], PostgresIndex(pg_database), TinyEmbedder())
    bot = Bot(resolve(store=pg_database, reader="none"), embedder=TinyEmbedder())
    more = corpus(tmp_path, "more", articles=20, seed=6)
    (more / "wind.txt").write_text(GOOD_ARTICLE, encoding="utf-8")
    worker = Worker(pg_database, [more], delay=0.05)
    worker.go()
    answers = []
    while worker.proc.poll() is None:
        answers.append(bot.ask(PLEDGE))
    assert worker.finish() == 0 and len(answers) >= 3
    assert all("38.5 billion" in (a.answer or "") for a in answers)
    time.sleep(1.1)  # the bot looks for a new generation at most once a second
    assert Path(bot.ask(WIND).citations[0].source).name == "wind.txt"


def test_a_name_that_is_not_utf8_goes_in_and_comes_out_exactly(pg_database: str, tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    path = not_utf8_name(folder)
    report = ingest_paths([folder], PostgresIndex(pg_database), TinyEmbedder())
    assert not report.errors and report.added == [str(path.resolve())]
    assert list(contents(pg_database)[0]) == [str(path.resolve())]
    bot = Bot(resolve(store=pg_database, reader="none"), embedder=TinyEmbedder())
    assert bot.ask(WIND).citations[0].source.endswith("caf\\xe9-news.txt")
    os.unlink(path)
    assert ingest_paths([folder], PostgresIndex(pg_database), TinyEmbedder()).removed == [str(path.resolve())]


@pytest.fixture
def own_server() -> Iterator[object]:
    """A PostgreSQL of this test's own, to restart (the session's serves the other tests)."""
    import pgserver

    base = Path(tempfile.mkdtemp(prefix="qa-pg-restart-"))
    try:
        server = pgserver.get_server(base / "data", cleanup_mode="delete")
    except Exception as exc:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"pgserver cannot start PostgreSQL here: {type(exc).__name__}: {exc}")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(base, ignore_errors=True)


def test_the_bot_reconnects_after_the_server_restarts_and_answers_the_next_question(own_server: object) -> None:
    from pgserver import _commands

    dsn = own_server.get_uri()  # type: ignore[attr-defined]
    ingest_paths([SEEDS], PostgresIndex(dsn), TinyEmbedder())
    bot = Bot(resolve(store=dsn, reader="none"), embedder=TinyEmbedder())
    assert "38.5 billion" in (bot.ask(PLEDGE).answer or "")

    def stop() -> None:
        _commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=own_server.pgdata,  # type: ignore[attr-defined]
                         user=own_server.system_user)  # type: ignore[attr-defined]

    stop()
    with pytest.raises(StoreUnavailableError) as down:  # while it is down: one line, no traceback
        bot.ask(PLEDGE)
    assert "\n" not in str(down.value)
    own_server.ensure_postgres_running()  # type: ignore[attr-defined]
    assert "38.5 billion" in (bot.ask(PLEDGE).answer or "")
    stop()  # and a restart between two questions, unnoticed but for the reconnection
    own_server.ensure_postgres_running()  # type: ignore[attr-defined]
    assert "38.5 billion" in (bot.ask(PLEDGE).answer or "")
