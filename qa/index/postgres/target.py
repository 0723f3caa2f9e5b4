"""A PostgreSQL database (and schema) as an `IndexTarget`: opened for questions, written by an ingest in one
transaction under an advisory lock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from qa.errors import IndexMissingError
from qa.index.contract import IndexCheck
from qa.index.postgres.check import check_store
from qa.index.postgres.connection import (
    DEFAULT_SCHEMA,
    connect,
    describe,
    errors,
    installed,
    lock_key,
    sql,
    use_schema,
    vector_schema,
)
from qa.index.postgres.store import PgStore
from qa.index.postgres.writer import PgWriter


class PostgresIndex:
    """The store in `schema` of the database at `dsn`."""

    def __init__(self, dsn: str, schema: str = DEFAULT_SCHEMA) -> None:
        self.dsn = dsn
        self.schema = schema
        self.where = f"{describe(dsn)} (schema {schema})"

    def exists(self) -> bool:
        conn = connect(self.dsn)
        try:
            with errors(self.dsn):
                return installed(conn, self.schema)
        finally:
            conn.close()

    def open(self, model: str | None = None) -> PgStore:
        return PgStore(self.dsn, model, schema=self.schema)

    @contextmanager
    def writer(self, rebuild: bool = False) -> Iterator[PgWriter]:
        conn = connect(self.dsn)
        try:
            with errors(self.dsn):
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [lock_key(self.schema)])
                    writer = PgWriter(conn, self.schema, describe(self.dsn), rebuild)
                    yield writer
                    if writer.staging is not None and writer.retired is None:  # nothing was committed
                        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                            sql.Identifier(writer.staging)))
                if writer.retired is not None:
                    # after the swap is committed: waits only for the questions still reading the old tables
                    with conn.transaction():
                        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                            sql.Identifier(writer.retired)))
        finally:
            conn.close()

    def check(self) -> IndexCheck:
        conn = connect(self.dsn)
        try:
            with errors(self.dsn):
                found = vector_schema(conn)
                if found is None or not installed(conn, self.schema):
                    raise IndexMissingError(f"no qa store in {self.where}", store=self.where)
                use_schema(conn, self.schema, found)
                return check_store(conn, self.where)
        finally:
            conn.close()

    def generation(self) -> str | None:
        try:
            with self.open() as store:
                return store.generation()
        except IndexMissingError:
            return None
