"""The PostgreSQL store: passages, their vectors (pgvector, HNSW) and full-text search in one database.

For corpora that outgrow one machine's memory. The store answers `candidates()` in one SQL statement:
the passages nearest to the question's vector (HNSW over the passage vectors), the best full-text matches
of its content terms (GIN over a tsvector of our own stemmed tokens), every passage when the store is
small, and the corpus statistics BM25 needs. `qa.retrieval` then scores those candidates exactly as it
scores the embedded store's, so both stores give the same answers whenever the candidates hold the
passages that matter.

Layout, in its own PostgreSQL schema (`qa` unless told otherwise), so it lives beside other data:
`qa_schema` (version, model, dimension), `documents`, `passages` (Passage JSON, vector, the sentence
and window vectors as float32 bytes, token lists, tsvector), `term_stats` (per token: in how many
sentences, passages and passage-or-title vocabularies it occurs), `corpus_stats` and `date_stats`.
The statistics tables are kept exact by ingest, which adds what it inserts and subtracts what it
deletes, in the same transaction as the rows themselves.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa.candidates import Candidates, CorpusStats, count_columns, question_columns
from qa.documents import Document
from qa.embedder import Embedder
from qa.errors import (
    IndexCorruptError,
    IndexMissingError,
    ModelMismatchError,
    StoreUnavailableError,
)
from qa.ingest import IngestReport, Progress, embed_passages, plan_changes, read_paths
from qa.lexical import terms, tokens
from qa.passages import Passage, split_document
from qa.representation import passage_text, sentence_texts
from qa.store import DocumentRecord

try:  # the driver is an optional extra: `pip install qa-articles[postgres]`
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict
except ImportError:  # pragma: no cover - exercised only without the extra
    psycopg = None  # type: ignore[assignment]

SCHEMA_VERSION = 1
DEFAULT_SCHEMA = "qa"
# Passages embedded and written per step, so a large ingest never holds all its vectors in memory. A multiple
# of embed_passages' batch, so the model sees the same batches as in the embedded store (bit-equal vectors).
INGEST_BATCH = 512
_EF_SEARCH_DEFAULT = 40  # pgvector's own default
_EF_SEARCH_MAX = 1000  # pgvector's ceiling
_MAX_LEXEME_BYTES = 2046  # PostgreSQL refuses longer tsvector lexemes
_BULK_MIN = 1000  # passages into an empty table from which the HNSW index is built after loading
_ANALYZE_MIN = 1000  # passages added in one ingest after which the table's statistics are refreshed
_HNSW_INDEX = "CREATE INDEX passages_embedding ON passages USING hnsw (embedding vector_ip_ops)"


def is_postgres_dsn(value: str) -> bool:
    """Whether a --store value names a PostgreSQL database rather than a folder."""
    return value.startswith(("postgresql://", "postgres://"))


# --- connection, and errors that never show the password -------------------------------------------------

_URL_PASSWORD = re.compile(r"://[^:/@?#]*:([^@/?#]*)@")
_KV_PASSWORD = re.compile(r"password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def _passwords(dsn: str) -> list[str]:
    found = [m.group(1) for m in _URL_PASSWORD.finditer(dsn)]
    found += [m.group(1).strip("'") for m in _KV_PASSWORD.finditer(dsn)]
    return [p for p in found if p]


def _scrub(message: str, dsn: str) -> str:
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


def _connect(dsn: str) -> psycopg.Connection[Any]:
    if psycopg is None:
        raise StoreUnavailableError("PostgreSQL support is not installed: pip install 'qa-articles[postgres]'")
    try:
        info = conninfo_to_dict(dsn)
    except psycopg.Error as exc:
        raise StoreUnavailableError(f"bad PostgreSQL address: {_scrub(str(exc), dsn)}") from None
    extra: dict[str, Any] = {"autocommit": True}  # a query is one statement: no BEGIN/COMMIT round trips
    if "connect_timeout" not in info:
        extra["connect_timeout"] = 10
    if "application_name" not in info:
        extra["application_name"] = "qa"
    try:
        return psycopg.connect(dsn, **extra)
    except psycopg.Error as exc:
        raise StoreUnavailableError(f"cannot connect to {describe(dsn)}: {_scrub(str(exc), dsn)}") from None


@contextmanager
def _errors(dsn: str) -> Iterator[None]:
    """Turn the server's operational failures into one line; programming errors stay as they are."""
    if psycopg is None:  # pragma: no cover
        yield
        return
    try:
        yield
    except (psycopg.OperationalError, psycopg.errors.InsufficientPrivilege,
            psycopg.errors.ReadOnlySqlTransaction) as exc:
        raise StoreUnavailableError(f"{describe(dsn)}: {_scrub(str(exc), dsn)}") from None


def _lock_key(schema: str) -> str:
    """The advisory-lock name under which ingests into `schema` are serialised (hashed by the server)."""
    return f"qa-ingest:{schema}"


def _vector_schema(conn: psycopg.Connection[Any]) -> str | None:
    row = conn.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'vector'").fetchone()
    return row[0] if row else None


def _use_schema(conn: psycopg.Connection[Any], schema: str, vector_schema: str) -> None:
    """Our tables unqualified, the vector type and operators from wherever pgvector was installed."""
    conn.execute(sql.SQL("SET search_path TO {}, {}").format(sql.Identifier(schema), sql.Identifier(vector_schema)))


def _installed(conn: psycopg.Connection[Any], schema: str) -> bool:
    row = conn.execute("SELECT to_regclass(format('%%I.qa_schema', %s::text))", [schema]).fetchone()
    return row is not None and row[0] is not None


@dataclass
class _Meta:
    version: int
    model: str
    dim: int
    backend: str = "torch"


def _read_meta(conn: psycopg.Connection[Any], where: str) -> _Meta:
    try:
        row = conn.execute("SELECT version, model, dim, backend FROM qa_schema").fetchone()
    except psycopg.errors.UndefinedColumn:
        row = None
    if row is None:
        raise IndexCorruptError(f"{where} has an unreadable qa_schema table: re-ingest with --rebuild")
    meta = _Meta(int(row[0]), str(row[1]), int(row[2]), str(row[3]))
    if meta.version > SCHEMA_VERSION or meta.version < 1:
        raise IndexCorruptError(
            f"{where} has store schema version {meta.version}, this qa knows version {SCHEMA_VERSION}: "
            "upgrade qa, or use another database or schema for this one")
    return meta


# --- schema ------------------------------------------------------------------------------------------

_TABLES = ("passages", "documents", "term_stats", "corpus_stats", "date_stats", "qa_schema")


def _create_tables(conn: psycopg.Connection[Any], model: str, dim: int, backend: str) -> None:
    ddl = f"""
    CREATE TABLE qa_schema (
        version integer NOT NULL, model text NOT NULL, dim integer NOT NULL, backend text NOT NULL,
        created timestamptz NOT NULL DEFAULT now());
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
    {_HNSW_INDEX};
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


def _prepare(conn: psycopg.Connection[Any], schema: str, embedder: Embedder, rebuild: bool, where: str) -> None:
    """Create the schema on first use, or check the one there; called in the ingest transaction, under its lock."""
    vector_schema = _vector_schema(conn)
    if vector_schema is None:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedFile,
                psycopg.errors.FeatureNotSupported) as exc:
            raise StoreUnavailableError(
                f"{where} lacks the pgvector extension and it cannot be created here "
                f"({' '.join(str(exc).split())}): ask its administrator to run CREATE EXTENSION vector") from None
        vector_schema = _vector_schema(conn)
        assert vector_schema is not None
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    _use_schema(conn, schema, vector_schema)
    if _installed(conn, schema):
        if rebuild:
            for table in _TABLES:
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(schema, table)))
        else:
            meta = _read_meta(conn, where)
            if meta.model != embedder.name:
                raise ModelMismatchError(
                    f"{where} (schema {schema}) was built with model {meta.model!r}, not {embedder.name!r}: "
                    "use --rebuild to re-embed everything with the new model, or another --store")
            return
    _create_tables(conn, embedder.name, embedder.dim, str(getattr(embedder, "backend", "torch")))


# --- statistics kept by ingest -------------------------------------------------------------------------

@dataclass
class _Delta:
    """What an ingest adds to (+1) and removes from (-1) the statistics tables."""

    sentences: Counter[str] = field(default_factory=Counter)
    passages: Counter[str] = field(default_factory=Counter)
    vocab: Counter[str] = field(default_factory=Counter)
    dates: Counter[str] = field(default_factory=Counter)
    n_passages: int = 0
    n_sentences: int = 0
    passage_tokens: int = 0
    sentence_tokens: int = 0

    def add(self, sentence_tokens: Sequence[Sequence[str]], passage_tokens: Sequence[str], vocab: Iterable[str],
            date: str | None, sign: int) -> None:
        for toks in sentence_tokens:
            self.sentences.update({t: sign for t in set(toks)})
            self.sentence_tokens += sign * max(1, len(toks))  # BM25 counts an empty text as one token
        self.passages.update({t: sign for t in set(passage_tokens)})
        self.vocab.update({t: sign for t in set(vocab)})
        if date:
            self.dates[date] += sign
        self.n_passages += sign
        self.n_sentences += sign * len(sentence_tokens)
        self.passage_tokens += sign * max(1, len(passage_tokens))

    def apply(self, conn: psycopg.Connection[Any]) -> None:
        touched = sorted(set(self.sentences) | set(self.passages) | set(self.vocab))
        if touched:
            # not INSERT ... ON CONFLICT: the CHECKs would refuse the proposed row of a negative delta
            conn.execute(
                "WITH d AS (SELECT * FROM unnest(%s::text[], %s::integer[], %s::integer[], %s::integer[])"
                " AS d(token, s, p, v)),"
                " up AS (UPDATE term_stats t SET sentences = t.sentences + d.s, passages = t.passages + d.p,"
                " vocab = t.vocab + d.v FROM d WHERE t.token = d.token RETURNING t.token)"
                " INSERT INTO term_stats SELECT * FROM d WHERE token NOT IN (SELECT token FROM up)",
                [touched, [self.sentences[t] for t in touched], [self.passages[t] for t in touched],
                 [self.vocab[t] for t in touched]])
            conn.execute("DELETE FROM term_stats WHERE token = ANY(%s) AND sentences = 0 AND passages = 0"
                         " AND vocab = 0", [touched])
        dates = sorted(self.dates)
        if dates:
            conn.execute(
                "WITH d AS (SELECT * FROM unnest(%s::text[], %s::integer[]) AS d(date, n)),"
                " up AS (UPDATE date_stats t SET passages = t.passages + d.n FROM d WHERE t.date = d.date"
                " RETURNING t.date)"
                " INSERT INTO date_stats SELECT * FROM d WHERE date NOT IN (SELECT date FROM up)",
                [dates, [self.dates[d] for d in dates]])
            conn.execute("DELETE FROM date_stats WHERE date = ANY(%s) AND passages = 0", [dates])
        conn.execute(
            "UPDATE corpus_stats SET passages = passages + %s, sentences = sentences + %s,"
            " passage_tokens = passage_tokens + %s, sentence_tokens = sentence_tokens + %s",
            [self.n_passages, self.n_sentences, self.passage_tokens, self.sentence_tokens])


def _lexeme(token: str) -> str:
    """A token as a quoted tsvector/tsquery lexeme, taken as it is (no parser, no stemming)."""
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def _tsvector(toks: Sequence[str]) -> str:
    """tsvector input for our own tokens with their positions. Not to_tsvector('simple', ...): its parser
    splits tokens such as "x86_64" that qa.lexical keeps whole, and the question would then never match."""
    positions: dict[str, list[int]] = {}
    for i, t in enumerate(toks):
        if len(t.encode()) <= _MAX_LEXEME_BYTES:
            positions.setdefault(t, []).append(min(i + 1, 16383))
    return " ".join(f"{_lexeme(t)}:{','.join(map(str, ps[:256]))}" for t, ps in positions.items())


def _vector_text(v: np.ndarray) -> str:
    # repr of the float32 value as a double parses back to the same float32: no precision is lost
    return "[" + ",".join(map(repr, np.asarray(v, dtype=np.float32).tolist())) + "]"


def _le32(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a, dtype="<f4").tobytes()


# --- ingest ------------------------------------------------------------------------------------------

def _write(conn: psycopg.Connection[Any], passages: list[Passage], doc_ids: dict[str, int], pv: np.ndarray,
           sv: np.ndarray, wv: np.ndarray, delta: _Delta) -> None:
    """Insert one batch of embedded passages (COPY), counting them into `delta`."""
    cur = conn.cursor()
    with cur.copy("COPY passages (document, source, date, data, embedding, sentence_vectors, window_vectors,"
                  " sentence_tokens, tokens, vocab, tsv) FROM STDIN") as copy:
        s = 0
        for i, p in enumerate(passages):
            n = len(p.sentences)
            sent_toks = [tokens(t) for t in sentence_texts(p)]
            text = passage_text(p)
            ptoks = tokens(text)
            vocab = sorted(set(terms(text)) | set(terms(p.title or "")))
            delta.add(sent_toks, ptoks, vocab, p.date, +1)
            copy.write_row((doc_ids[p.source], p.source, p.date, json.dumps(p.to_dict(), ensure_ascii=False),
                            _vector_text(pv[i]), _le32(sv[s:s + n]), _le32(wv[s:s + n]),
                            [" ".join(t) for t in sent_toks], " ".join(ptoks), vocab, _tsvector(ptoks)))
            s += n


def ingest_documents_pg(
    docs: list[Document],
    store: str,
    embedder: Embedder,
    *,
    roots: Iterable[Path] = (),
    protect: set[str] | None = None,
    report: IngestReport | None = None,
    rebuild: bool = False,
    progress: Progress | None = None,
    schema: str = DEFAULT_SCHEMA,
) -> IngestReport:
    """Bring the PostgreSQL store at DSN `store` up to date with `docs`, by the rules of `qa.ingest`.

    Unchanged documents (same content hash) keep their rows; indexed documents under one of `roots` that
    are not in `docs` are removed; everything else is left alone. The whole ingest is one transaction,
    so a failure or a kill leaves the store as it was; concurrent ingests wait for each other.
    """
    report = report or IngestReport()
    root_paths = [Path(r).resolve() for r in roots]
    where = describe(store)
    conn = _connect(store)
    try:
        with _errors(store), conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [_lock_key(schema)])
            _prepare(conn, schema, embedder, rebuild, where)
            indexed = _documents(conn)
            keep, fresh = plan_changes(indexed, docs, root_paths, protect or set(), report)
            if report.changed:
                delta = _Delta()
                _delete(conn, [s for s in indexed if s not in keep], delta)
                _insert(conn, fresh, embedder, delta, progress)
                delta.apply(conn)
            row = conn.execute("SELECT passages FROM corpus_stats").fetchone()
            report.passages = int(row[0]) if row else 0
    finally:
        conn.close()
    return report


def _delete(conn: psycopg.Connection[Any], sources: list[str], delta: _Delta) -> None:
    if not sources:
        return
    rows = conn.execute(
        "DELETE FROM passages WHERE document IN (SELECT id FROM documents WHERE source = ANY(%s))"
        " RETURNING sentence_tokens, tokens, vocab, date", [sources]).fetchall()
    for sent, toks, vocab, date in rows:
        delta.add([s.split() for s in sent], toks.split(), vocab, date, -1)
    conn.execute("DELETE FROM documents WHERE source = ANY(%s)", [sources])


def _insert(conn: psycopg.Connection[Any], fresh: list[Document], embedder: Embedder, delta: _Delta,
            progress: Progress | None) -> None:
    split = [split_document(d) for d in fresh]
    if not fresh:
        return
    rows = conn.execute(
        "INSERT INTO documents (source, content_hash, title, date, passages)"
        " SELECT s, h, t, d, n FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::integer[])"
        " WITH ORDINALITY AS u(s, h, t, d, n, i) ORDER BY i RETURNING id, source",
        [[d.source for d in fresh], [d.content_hash for d in fresh], [d.title for d in fresh],
         [d.date for d in fresh], [len(ps) for ps in split]]).fetchall()
    doc_ids = {source: int(i) for i, source in rows}
    flat = [p for ps in split for p in ps]
    total = len(flat)
    # Filling an empty table (first ingest, --rebuild): building the HNSW graph once at the end is faster than
    # growing it row by row. Never on a table with rows: DROP INDEX would block every query until the commit.
    empty = conn.execute("SELECT NOT EXISTS (SELECT 1 FROM passages)").fetchone()
    bulk = total >= _BULK_MIN and bool(empty and empty[0])
    if bulk:
        conn.execute("DROP INDEX passages_embedding")
    for start in range(0, total, INGEST_BATCH):
        chunk = flat[start:start + INGEST_BATCH]
        step = None
        if progress is not None:
            def step(done: int, _n: int, offset: int = start) -> None:
                progress(offset + done, total)
        pv, sv, wv = embed_passages(chunk, embedder, step)
        _write(conn, chunk, doc_ids, pv, sv, wv, delta)
    if bulk:
        conn.execute(_HNSW_INDEX)
    if bulk or total > _ANALYZE_MIN:
        conn.execute("ANALYZE passages")  # the planner's row estimates decide whether the indexes are used


def ingest_paths_pg(
    paths: list[Path],
    store: str,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    schema: str = DEFAULT_SCHEMA,
) -> IngestReport:
    """Ingest files and folders (recursively) into the PostgreSQL store, like `qa.ingest.ingest_paths`.

    Bad files are reported in `errors`; a file that was indexed before and cannot be read now keeps its rows.
    """
    report = IngestReport()
    docs, roots, unreadable = read_paths(paths, report)
    if not docs and not roots:
        return report
    return ingest_documents_pg(docs, store, embedder, roots=roots, rebuild=rebuild, progress=progress,
                               report=report, protect=unreadable, schema=schema)


def _documents(conn: psycopg.Connection[Any]) -> dict[str, DocumentRecord]:
    rows = conn.execute("SELECT source, content_hash, title, date, passages FROM documents ORDER BY id").fetchall()
    return {r[0]: DocumentRecord(r[0], r[1], r[2], r[3], int(r[4])) for r in rows}


# --- queries -----------------------------------------------------------------------------------------

# One statement, so one round trip. `dense`: nearest passage vectors by inner product (the HNSW index;
# vectors are L2-normalised, so this is cosine). `lexical`: passages holding any of the question's
# content terms (GIN; the tsquery is a scalar subquery so the planner can use the index), ranked by the summed IDF of the terms they hold, then ts_rank; a term in more than a
# tenth of a large store is left out of the match, since it would pull in most of the table and rank low
# anyway. `everything`: all passages when the store holds no more than `limit`. Then the statistics.
_CANDIDATES = """
WITH st AS (SELECT passages, sentences, passage_tokens, sentence_tokens FROM corpus_stats),
qtok AS (SELECT token, sentences, passages, vocab FROM term_stats WHERE token = ANY(%(tokens)s::text[])),
qterm AS (
    SELECT q.lexeme, q.lexeme::tsquery AS tsq,
           ln(1 + (st.passages - t.passages + 0.5) / (t.passages + 0.5)) AS idf
    FROM unnest(%(terms)s::text[], %(lexemes)s::text[]) AS q(term, lexeme)
    JOIN qtok t ON t.token = q.term CROSS JOIN st
    WHERE t.passages > 0 AND t.passages <= greatest(%(limit)s, st.passages / 10)),
dense AS (
    SELECT id FROM passages WHERE source <> ALL(%(exclude)s::text[])
    ORDER BY embedding <#> %(vector)s::vector LIMIT %(limit)s),
tq AS (SELECT string_agg(lexeme, ' | ')::tsquery AS q FROM qterm),
lexical AS (
    SELECT p.id FROM passages p
    WHERE p.tsv @@ (SELECT q FROM tq) AND p.source <> ALL(%(exclude)s::text[])
    ORDER BY (SELECT sum(qt.idf) FROM qterm qt WHERE p.tsv @@ qt.tsq) DESC, ts_rank(p.tsv, (SELECT q FROM tq)) DESC,
             p.id
    LIMIT %(limit)s),
everything AS (
    SELECT id FROM passages
    WHERE (SELECT passages FROM st) <= %(limit)s AND source <> ALL(%(exclude)s::text[])
    LIMIT %(limit)s),  -- the LIMIT changes nothing but tells the planner how few rows to expect
c AS MATERIALIZED (
    SELECT p.* FROM (SELECT id FROM dense UNION SELECT id FROM lexical UNION SELECT id FROM everything) u
    JOIN passages p ON p.id = u.id)
SELECT st.passages, st.sentences, st.passage_tokens, st.sentence_tokens,
    (SELECT array_agg(date) FROM date_stats WHERE passages > 0),
    (SELECT jsonb_object_agg(token, jsonb_build_array(sentences, passages, vocab)) FROM qtok),
    agg.ids, agg.data, agg.pv, agg.sv, agg.wv, agg.ptok,
    (SELECT array_agg(s.t ORDER BY c.id, s.n) FROM c, unnest(c.sentence_tokens) WITH ORDINALITY AS s(t, n))
FROM st, (SELECT array_agg(id ORDER BY id) AS ids, jsonb_agg(data ORDER BY id) AS data,
                 string_agg(vector_send(embedding), ''::bytea ORDER BY id) AS pv,
                 string_agg(sentence_vectors, ''::bytea ORDER BY id) AS sv,
                 string_agg(window_vectors, ''::bytea ORDER BY id) AS wv,
                 array_agg(tokens ORDER BY id) AS ptok FROM c) AS agg
"""


def _as_stored(vectors: np.ndarray) -> np.ndarray:
    return vectors.astype(np.float16).astype(np.float32)


class PgStore:
    """A PostgreSQL store opened for questions; implements `qa.candidates.CandidateSource`.

    Each query is one statement on an autocommit connection, so an ingest committed meanwhile is seen
    by the next question without reopening. Safe to share between threads (queries are serialised).
    """

    def __init__(self, dsn: str, model: str | None = None, *, schema: str = DEFAULT_SCHEMA) -> None:
        """Open the store at `dsn`; with `model`, refuse a store built with a different model."""
        self.dsn = dsn
        self.schema = schema
        self.where = describe(dsn)
        self._lock = threading.Lock()
        self._ef_search = _EF_SEARCH_DEFAULT
        self._conn = self._open()
        try:
            with _errors(dsn):
                meta = _read_meta(self._conn, self.where)
        except BaseException:
            self.close()
            raise
        if model is not None and meta.model != model:
            self.close()
            raise ModelMismatchError(
                f"{self.where} (schema {schema}) was built with model {meta.model!r}, not {model!r}: "
                f"re-ingest with --model {model} and --rebuild, or use --model {meta.model}")
        self.model = meta.model
        self.dim = meta.dim
        self.backend = meta.backend

    def _open(self) -> psycopg.Connection[Any]:
        conn = _connect(self.dsn)
        try:
            with _errors(self.dsn):
                vector_schema = _vector_schema(conn)
                if vector_schema is None or not _installed(conn, self.schema):
                    raise IndexMissingError(
                        f"no qa store in {self.where} (schema {self.schema}): run `qa ingest PATH` with this --store first")
                _use_schema(conn, self.schema, vector_schema)
                if self._ef_search != _EF_SEARCH_DEFAULT:
                    conn.execute(sql.SQL("SET hnsw.ef_search = {}").format(sql.Literal(self._ef_search)))
        except BaseException:
            conn.close()
            raise
        return conn

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> PgStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, query: str, params: Any) -> Any:
        """Execute and fetch one row; after a dropped connection (a server restart), reconnect once."""
        with self._lock, _errors(self.dsn):
            for attempt in (1, 2):
                try:
                    # binary results: the vector bytes come as they are, not hex-encoded
                    return self._conn.execute(query, params, binary=True).fetchone()
                except psycopg.OperationalError:
                    if attempt == 2 or not self._conn.closed and not self._conn.broken:
                        raise
                    self._conn = self._open()
        raise AssertionError("unreachable")

    def _ensure_ef_search(self, limit: int) -> None:
        # HNSW returns at most ef_search rows; twice the limit leaves room for rows the exclude filter drops
        wanted = max(_EF_SEARCH_DEFAULT, min(_EF_SEARCH_MAX, 2 * limit))
        if wanted != self._ef_search:
            with self._lock, _errors(self.dsn):
                self._conn.execute(sql.SQL("SET hnsw.ef_search = {}").format(sql.Literal(wanted)))
            self._ef_search = wanted

    def documents(self) -> dict[str, DocumentRecord]:
        """Every ingested document by source, in ingest order (like `IndexData.documents`)."""
        with self._lock, _errors(self.dsn):
            return _documents(self._conn)

    def candidates(self, vector: np.ndarray, tokens: list[str], terms: list[str], limit: int,
                   exclude: set[str] | None = None) -> Candidates:
        """Up to `limit` nearest passages plus up to `limit` best full-text matches of `terms` (every passage
        when the store holds no more than `limit`), skipping sources in `exclude`: one round trip."""
        self._ensure_ef_search(limit)
        unique_terms = list(dict.fromkeys(terms))
        row = self._run(_CANDIDATES, {
            "tokens": list(dict.fromkeys([*tokens, *unique_terms])),
            "terms": unique_terms,
            "lexemes": [_lexeme(t) for t in unique_terms],
            "limit": int(limit),
            "exclude": sorted(exclude or ()),
            "vector": _vector_text(vector),
        })
        n_p, n_s, p_tok, s_tok, dates, df, ids, data, pv, sv, wv, ptok, stok = row
        df = df or {}
        passages = [Passage.from_dict(d) for d in (data or [])]
        dim = self.dim
        pv_rows = np.frombuffer(pv or b"", dtype=np.dtype([("head", "V4"), ("v", ">f4", (dim,))]))["v"]
        n_sent = sum(len(p.sentences) for p in passages)
        sentence_tokens = [s.split() for s in (stok or [])]
        if len(sentence_tokens) != n_sent:
            raise IndexCorruptError(f"{self.where}: sentence rows disagree with passages: re-ingest with --rebuild")
        columns = question_columns(tokens, terms)
        stf, slen = count_columns(sentence_tokens, columns)
        ptf, plen = count_columns([t.split() for t in (ptok or [])], columns)
        return Candidates(
            keys=[int(i) for i in (ids or [])],
            passages=passages,
            sources=[p.source for p in passages],
            dates=[p.date for p in passages],
            counts=np.array([len(p.sentences) for p in passages], dtype=np.int64),
            # through float16, as the embedded store keeps them, so both stores score alike to the last digit
            passage_vectors=_as_stored(np.ascontiguousarray(pv_rows).reshape(-1, dim)),
            sentence_vectors=_as_stored(np.frombuffer(sv or b"", dtype="<f4").reshape(n_sent, dim)),
            window_vectors=_as_stored(np.frombuffer(wv or b"", dtype="<f4").reshape(n_sent, dim)),
            columns=columns,
            sentence_tf=stf,
            sentence_len=slen,
            passage_tf=ptf,
            passage_len=plen,
            sentence_df={t: int(v[0]) for t, v in df.items() if v[0] > 0},
            passage_df={t: int(v[1]) for t, v in df.items() if v[1] > 0},
            known_terms=frozenset(t for t in unique_terms if t in df and df[t][2] > 0),
            stats=CorpusStats(int(n_p), int(n_s), int(p_tok), int(s_tok), sorted(dates or [])),
        )
