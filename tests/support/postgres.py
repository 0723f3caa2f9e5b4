"""A real PostgreSQL with pgvector for the tests, started from the `pgserver` package (no Docker, no system
server), and a schema of its own for each test that writes."""

from __future__ import annotations

import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """A real PostgreSQL with pgvector for the session, in a temporary directory."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            import pgserver
    except ImportError:
        pytest.skip("pgserver is not installed: pip install -e '.[postgres]'")
    # Not under pytest's basetemp: pgserver opens every parent folder to its own user when run as root,
    # and pytest closes its basetemp again at the start of any other session.
    base = Path(tempfile.mkdtemp(prefix="qa-pg-"))
    try:
        server = pgserver.get_server(base / "data", cleanup_mode="delete")
    except Exception as exc:  # initdb or pg_ctl failed: say why, once
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"pgserver cannot start PostgreSQL here: {type(exc).__name__}: {exc}")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def schema(pg_dsn: str) -> Iterator[str]:
    """A schema of its own for one test, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:10]}"
    yield name
    import psycopg

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def pg_database(pg_dsn: str) -> Iterator[str]:
    """The address of a database of its own for one test (as a user gives `--store`), dropped afterwards."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    info = conninfo_to_dict(pg_dsn)
    host, user = info.get("host", ""), info.get("user", "postgres")
    yield f"postgresql://{user}@/{name}?host={host}" if str(host).startswith("/") else make_conninfo(pg_dsn, dbname=name)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
