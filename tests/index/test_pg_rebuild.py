"""`qa ingest --rebuild` on PostgreSQL while the bot answers: readers get the old store until the swap and the
new one after it, never an error, and nothing of the old schema is left."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

from qa.bot import Bot
from qa.config import resolve
from qa.index.postgres.target import PostgresIndex
from tests.support.paths import SEEDS

QUESTION = "Who did Ruto call in January 2025?"


def test_readers_answer_from_the_old_store_then_the_new_one_during_a_rebuild(
        pg_database: str, embedder: Any, tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    for f in sorted(SEEDS.glob("*.txt")):
        if f.name[:3] in ("003", "004"):
            shutil.copy(f, old)
        else:  # three copies each, so that the rebuild takes long enough to be asked during
            for copy in range(3):
                shutil.copy(f, new / f"{f.stem}-{copy}.txt")
    # full vectors: about three times the embedding, so that the rebuild lasts long enough to be asked during
    writer_bot = Bot(resolve(store=pg_database, reader="none", vectors="full"), embedder=embedder)
    writer_bot.ingest([old])
    reader_bot = Bot(resolve(store=pg_database, reader="none"), embedder=embedder)
    first = reader_bot.ask(QUESTION)
    assert {Path(c.source).name[:3] for c in first.citations} <= {"003", "004"}

    seen: list[frozenset[str]] = []
    answered_at: list[float] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def ask_again_and_again() -> None:
        while not stop.is_set():
            try:
                answer = reader_bot.ask(QUESTION)
                seen.append(frozenset(Path(c.source).name[:3] for c in answer.citations + answer.nearest))
                answered_at.append(time.monotonic())
            except BaseException as exc:  # any failure at all is what this test looks for
                errors.append(exc)

    readers = [threading.Thread(target=ask_again_and_again) for _ in range(2)]
    for t in readers:
        t.start()
    time.sleep(0.5)
    started = time.monotonic()
    report = writer_bot.ingest([new], rebuild=True)
    ended = time.monotonic()
    time.sleep(2.5)  # the readers notice the new generation within a second
    stop.set()
    for t in readers:
        t.join(30)
    assert errors == []
    assert len(report.added) == 9 and len(report.removed) == 2
    olds = [i for i, s in enumerate(seen) if s and s <= {"003", "004"}]
    news = [i for i, s in enumerate(seen) if s and not s & {"003", "004"}]
    assert olds and news, "answers came from the old store during the rebuild, then from the new one"
    assert max(olds) < min(news) + 2 * len(readers), "no answer from the old store once the new one was seen"
    during = [i for i in olds if started + 0.3 < answered_at[i] < ended - 0.1]
    assert ended - started > 1.0 and len(during) >= 2, (
        f"readers kept answering while the rebuild ran ({ended - started:.1f} s): {len(during)} answers")
    target = PostgresIndex(pg_database)
    assert target.exists()
    with target.writer() as w:  # the old schema and the staging one are gone
        rows = w.conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'qa\\_\\_%'").fetchall()
    assert rows == []
