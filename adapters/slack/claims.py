"""Which bot process answers an event, when several run behind a load balancer: the first to claim the event's
key. In PostgreSQL (with `--store`) a small table shared by every replica; otherwise an SQLite file in the
state folder, one per index, shared by the processes of one machine. Claims older than a day are forgotten."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from qa.config import Settings

CLAIM_DAYS = 1.0  # Slack redelivers an event for minutes, not days: a day-old claim will never be asked for again
_PRUNE_EVERY_S = 600.0


class Claims(Protocol):
    def claim(self, key: str) -> bool:
        """True for the first process (and call) to claim `key`, False for every later one."""
        ...

    def close(self) -> None: ...


class SqliteClaims:
    """Claims in an SQLite file: one machine, any number of processes (SQLite locks the file)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, at REAL NOT NULL)")
        self._lock = threading.Lock()
        self._pruned = 0.0

    def claim(self, key: str) -> bool:
        now = time.time()
        with self._lock:
            if now - self._pruned > _PRUNE_EVERY_S:
                self._db.execute("DELETE FROM claims WHERE at < ?", [now - CLAIM_DAYS * 86400])
                self._pruned = now
            return self._db.execute("INSERT OR IGNORE INTO claims (key, at) VALUES (?, ?)", [key, now]).rowcount == 1

    def close(self) -> None:
        self._db.close()


class PostgresClaims:
    """Claims in the PostgreSQL database of the store, for replicas on several machines."""

    def __init__(self, dsn: str) -> None:
        from qa.index.postgres.connection import connect, errors

        self._errors = errors
        self._dsn = dsn
        self._conn: Any = connect(dsn)
        self._conn.autocommit = True
        # replicas starting together would race on CREATE TABLE IF NOT EXISTS: one at a time
        with errors(dsn), self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('qa_slack_claims', 0))")
            self._conn.execute("CREATE TABLE IF NOT EXISTS qa_slack_claims "
                               "(key text PRIMARY KEY, claimed timestamptz NOT NULL DEFAULT now())")
        self._lock = threading.Lock()
        self._pruned = 0.0

    def claim(self, key: str) -> bool:
        with self._lock, self._errors(self._dsn):
            now = time.time()
            if now - self._pruned > _PRUNE_EVERY_S:
                self._conn.execute("DELETE FROM qa_slack_claims WHERE claimed < now() - make_interval(days => 1)")
                self._pruned = now
            row = self._conn.execute("INSERT INTO qa_slack_claims (key) VALUES (%s) ON CONFLICT DO NOTHING "
                                     "RETURNING key", [key]).fetchone()
            return row is not None

    def close(self) -> None:
        self._conn.close()


def claims_for(settings: Settings) -> Claims:
    """The claims every replica of this bot shares: in the store's database, or beside the local index."""
    if settings.store:
        return PostgresClaims(settings.store)
    # in the state folder (beside the feedback log), one file per index: never inside an article folder
    key = hashlib.sha256(str(settings.index_dir.resolve()).encode()).hexdigest()[:12]
    return SqliteClaims(settings.feedback_log.parent / f"slack-claims-{key}.sqlite")
