"""Connecting to PostgreSQL: one-line errors that never show the password, the schema our tables live in,
and the advisory lock that keeps two ingests apart."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from qa.errors import StoreUnavailableError

try:  # the driver is an optional extra: `pip install qa-articles[postgres]`
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict
except ImportError:  # pragma: no cover - exercised only without the extra
    psycopg = None  # type: ignore[assignment]

DEFAULT_SCHEMA = "qa"


def is_postgres_dsn(value: str) -> bool:
    """Whether a --store value names a PostgreSQL database rather than a folder."""
    return value.startswith(("postgresql://", "postgres://"))


_URL_PASSWORD = re.compile(r"://[^:/@?#]*:([^@/?#]*)@")
_KV_PASSWORD = re.compile(r"password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def _passwords(dsn: str) -> list[str]:
    found = [m.group(1) for m in _URL_PASSWORD.finditer(dsn)]
    found += [m.group(1).strip("'") for m in _KV_PASSWORD.finditer(dsn)]
    return [p for p in found if p]


def scrub(message: str, dsn: str) -> str:
    """One line, with any password of `dsn` blanked out (libpq may echo parts of a malformed address)."""
    line = " ".join(message.split())
    for secret in sorted(_passwords(dsn), key=len, reverse=True):
        line = line.replace(secret, "***")
    return line


def describe(dsn: str) -> str:
    """Where a DSN points, for messages: database, host and port, never the password."""
    try:
        info = conninfo_to_dict(dsn)
    except Exception:  # a malformed address: say nothing that could hold a secret
        return "the PostgreSQL store given"
    host = str(info.get("host") or "localhost")
    port = f":{info['port']}" if info.get("port") else ""
    return f"PostgreSQL database {info.get('dbname') or info.get('user') or '(default)'!s} on {host}{port}"


def connect(dsn: str) -> psycopg.Connection[Any]:
    if psycopg is None:
        raise StoreUnavailableError("PostgreSQL support is not installed: pip install 'qa-articles[postgres]'")
    try:
        info = conninfo_to_dict(dsn)
    except psycopg.Error as exc:
        raise StoreUnavailableError(f"bad PostgreSQL address: {scrub(str(exc), dsn)}") from None
    extra: dict[str, Any] = {"autocommit": True}  # a query is one statement: no BEGIN/COMMIT round trips
    if "connect_timeout" not in info:
        extra["connect_timeout"] = 10
    if "application_name" not in info:
        extra["application_name"] = "qa"
    try:
        return psycopg.connect(dsn, **extra)
    except psycopg.Error as exc:
        raise StoreUnavailableError(f"cannot connect to {describe(dsn)}: {scrub(str(exc), dsn)}") from None


@contextmanager
def errors(dsn: str) -> Iterator[None]:
    """Turn the server's operational failures into one line; programming errors stay as they are."""
    if psycopg is None:  # pragma: no cover
        yield
        return
    try:
        yield
    except (psycopg.OperationalError, psycopg.errors.InsufficientPrivilege,
            psycopg.errors.ReadOnlySqlTransaction) as exc:
        raise StoreUnavailableError(f"{describe(dsn)}: {scrub(str(exc), dsn)}") from None


def lock_key(schema: str) -> str:
    """The advisory-lock name under which ingests into `schema` are serialised (hashed by the server)."""
    return f"qa-ingest:{schema}"


def vector_schema(conn: psycopg.Connection[Any]) -> str | None:
    row = conn.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'vector'").fetchone()
    return row[0] if row else None


def use_schema(conn: psycopg.Connection[Any], schema: str, vector_schema: str) -> None:
    """Our tables unqualified, the vector type and operators from wherever pgvector was installed."""
    conn.execute(sql.SQL("SET search_path TO {}, {}").format(sql.Identifier(schema), sql.Identifier(vector_schema)))


def installed(conn: psycopg.Connection[Any], schema: str) -> bool:
    row = conn.execute("SELECT to_regclass(format('%%I.qa_schema', %s::text))", [schema]).fetchone()
    return row is not None and row[0] is not None
