"""An ingest into a PostgreSQL store in a process of its own, for the fault tests: killed, or run beside
another ingest or a bot.

    python -m tests.support.store_worker DSN PATH... [--delay SECONDS]
        One ingest with the tiny embedder into the store at DSN. Prints `ready` once imported and starts when
        it reads a line on stdin; prints `encode N` after each call to the embedder (`--delay` sleeps that long
        in each, so the ingest lasts long enough to be hit) and `done P` when it committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from qa.index.pipeline import ingest_paths
from qa.index.postgres import PostgresIndex
from tests.support.ingest_worker import ReportingEmbedder


def main(argv: list[str]) -> int:
    delay = 0.0
    if "--delay" in argv:
        i = argv.index("--delay")
        delay = float(argv[i + 1])
        del argv[i:i + 2]
    dsn, paths = argv[0], [Path(p) for p in argv[1:]]
    embedder = ReportingEmbedder(delay)
    print("ready", flush=True)
    if not sys.stdin.readline():
        return 0
    report = ingest_paths(paths, PostgresIndex(dsn), embedder)
    print(f"done {report.passages}", flush=True)
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
