"""The tables of the PostgreSQL store, in their own schema, and what they record of how they were built."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qa.errors import IndexCorruptError, StoreUnavailableError
from qa.index.contract import IndexInfo
from qa.index.postgres.connection import installed, psycopg, sql, use_schema, vector_schema
from qa.index.postgres.encoding import from_db

SCHEMA_VERSION = 1
HNSW_INDEX = "CREATE INDEX passages_embedding ON passages USING hnsw (embedding vector_ip_ops)"
TABLES = ("passages", "documents", "term_stats", "corpus_stats", "date_stats", "qa_schema")


@dataclass
class Meta:
    version: int
    model: str
    dim: int
    backend: str = "torch"


def read_meta(conn: psycopg.Connection[Any], where: str) -> Meta:
    try:
        row = conn.execute("SELECT version, model, dim, backend FROM qa_schema").fetchone()
    except psycopg.errors.UndefinedColumn:
        row = None
    if row is None:
        raise IndexCorruptError(f"{where} has an unreadable qa_schema table", store=where)
    meta = Meta(int(row[0]), str(row[1]), int(row[2]), str(row[3]))
    if meta.version > SCHEMA_VERSION or meta.version < 1:
        raise IndexCorruptError(
            f"{where} has store schema version {meta.version}, this qa knows version {SCHEMA_VERSION}: "
            "upgrade qa, or use another database or schema for this one", fix="upgrade", store=where)
    return meta


def create_tables(conn: psycopg.Connection[Any], model: str, dim: int, backend: str) -> None:
    ddl = f"""
    CREATE TABLE qa_schema (
        version integer NOT NULL, model text NOT NULL, dim integer NOT NULL, backend text NOT NULL,
        created timestamptz NOT NULL DEFAULT now(), generation bigint NOT NULL DEFAULT 0,
        paths text[] NOT NULL DEFAULT '{{}}');  -- the files and folders the store was built from
    CREATE TABLE documents (
        id bigserial PRIMARY KEY, source text NOT NULL UNIQUE, content_hash text NOT NULL,
        title text, date text, passages integer NOT NULL);
    CREATE TABLE passages (
        id bigserial PRIMARY KEY,  -- insertion order, which is the order candidates come back in
        document bigint NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
        source text NOT NULL,
        date text,
        data jsonb NOT NULL,  -- Passage.to_dict()
        embedding vector({int(dim)}) NOT NULL,
        sentence_vectors bytea NOT NULL,  -- little-endian float32, one row of dim per sentence
        window_vectors bytea NOT NULL,
        sentence_tokens text[] NOT NULL,  -- each sentence's tokens joined by spaces
        tokens text NOT NULL,  -- tokens of passage_text, joined by spaces
        vocab text[] NOT NULL,  -- content terms of passage_text and title, as counted in term_stats.vocab
        tsv tsvector NOT NULL);
    CREATE INDEX passages_document ON passages (document);
    {HNSW_INDEX};
    CREATE INDEX passages_tsv ON passages USING gin (tsv);
    CREATE TABLE term_stats (
        token text PRIMARY KEY,
        sentences integer NOT NULL CHECK (sentences >= 0),
        passages integer NOT NULL CHECK (passages >= 0),
        vocab integer NOT NULL CHECK (vocab >= 0));
    CREATE TABLE corpus_stats (
        one boolean PRIMARY KEY DEFAULT true CHECK (one),
        passages bigint NOT NULL CHECK (passages >= 0), sentences bigint NOT NULL CHECK (sentences >= 0),
        passage_tokens bigint NOT NULL, sentence_tokens bigint NOT NULL);
    INSERT INTO corpus_stats VALUES (true, 0, 0, 0, 0);
    CREATE TABLE date_stats (date text PRIMARY KEY, passages integer NOT NULL CHECK (passages >= 0));
    """
    for statement in (s.strip() for s in ddl.split(";")):
        if statement:
            conn.execute(statement)  # static DDL; the dimension is the only value in it, an int
    conn.execute("INSERT INTO qa_schema (version, model, dim, backend) VALUES (%s, %s, %s, %s)",
                 [SCHEMA_VERSION, model, dim, backend])


def enter_schema(conn: psycopg.Connection[Any], schema: str, where: str) -> bool:
    """Make `schema` (and pgvector) usable on `conn`, creating them if needed; whether the store's tables exist."""
    found = vector_schema(conn)
    if found is None:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedFile,
                psycopg.errors.FeatureNotSupported) as exc:
            raise StoreUnavailableError(
                f"{where} lacks the pgvector extension and it cannot be created here "
                f"({' '.join(str(exc).split())}): ask its administrator to run CREATE EXTENSION vector") from None
        found = vector_schema(conn)
        assert found is not None
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    use_schema(conn, schema, found)
    return installed(conn, schema)


def drop_tables(conn: psycopg.Connection[Any], schema: str) -> None:
    for table in TABLES:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(schema, table)))


def info(meta: Meta) -> IndexInfo:
    return IndexInfo(meta.model, meta.backend, meta.dim)


def ensure_generation(conn: psycopg.Connection[Any]) -> None:
    """Stores made before the generation counter (or the record of their paths) get it at their next ingest."""
    conn.execute("ALTER TABLE qa_schema ADD COLUMN IF NOT EXISTS generation bigint NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE qa_schema ADD COLUMN IF NOT EXISTS paths text[] NOT NULL DEFAULT '{}'")


def read_paths(run: Any) -> list[str]:
    """The files and folders the store was built from, through `run(query, params)` (one row); none for a store
    made before they were recorded."""
    try:
        row = run("SELECT paths FROM qa_schema", None)
    except psycopg.errors.UndefinedColumn:
        return []
    return [from_db(p) for p in (row[0] if row and row[0] else [])]


def bump_generation(conn: psycopg.Connection[Any]) -> None:
    conn.execute("UPDATE qa_schema SET generation = generation + 1")


def read_generation(run: Any, where: str) -> str:
    """The commit counter through `run(query, params)` (one row); "0" for a store never written since it came."""
    try:
        row = run("SELECT generation FROM qa_schema", None)
    except psycopg.errors.UndefinedColumn:
        return "0"
    if row is None:
        raise IndexCorruptError(f"{where} has an unreadable qa_schema table", store=where)
    return str(row[0])
