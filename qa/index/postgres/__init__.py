"""The PostgreSQL store: passages, vectors (pgvector) and full-text search in one database."""

from __future__ import annotations

from pathlib import Path

from qa.embedding import Embedder
from qa.index.pipeline import IngestReport, Progress
from qa.index.pipeline import ingest_paths as _ingest_paths
from qa.index.postgres.connection import DEFAULT_SCHEMA, describe, is_postgres_dsn
from qa.index.postgres.store import PgStore
from qa.index.postgres.target import PostgresIndex


def ingest_paths_pg(paths: list[Path], dsn: str, embedder: Embedder, *, rebuild: bool = False,
                    progress: Progress | None = None, schema: str = DEFAULT_SCHEMA) -> IngestReport:
    """`qa.index.pipeline.ingest_paths` into the PostgreSQL store at `dsn`."""
    return _ingest_paths(paths, PostgresIndex(dsn, schema), embedder, rebuild=rebuild, progress=progress)


__all__ = ["DEFAULT_SCHEMA", "PgStore", "PostgresIndex", "describe", "ingest_paths_pg", "is_postgres_dsn"]
