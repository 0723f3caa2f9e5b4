"""The PostgreSQL store opened for questions: passages, their vectors (pgvector, HNSW) and full-text search
in one database, for corpora that outgrow one machine's memory.

`candidates()` is one SQL statement: the passages nearest to the question's vector (HNSW over the
passage vectors), the best full-text matches of its content terms (GIN over a tsvector of our own
stemmed tokens), every passage when the store is small, and the corpus statistics BM25 needs.
`qa.retrieval` then scores those candidates exactly as it scores the local index's, so both stores
give the same answers whenever the candidates hold the passages that matter.

Layout, in its own PostgreSQL schema (`qa` unless told otherwise), so it lives beside other data:
`qa_schema` (version, model, dimension, backend, generation), `documents`, `passages` (Passage JSON,
vector, the sentence and window vectors as float32 bytes, token lists, tsvector), `term_stats` (per
token: in how many sentences, passages and passage-or-title vocabularies it occurs), `corpus_stats` and
`date_stats`.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from qa.errors import IndexCorruptError, IndexMissingError, ModelMismatchError
from qa.index.candidates import Candidates, CorpusStats, count_columns, question_columns
from qa.index.contract import DocumentRecord
from qa.index.postgres.connection import (
    DEFAULT_SCHEMA,
    connect,
    describe,
    errors,
    installed,
    psycopg,
    sql,
    use_schema,
    vector_schema,
)
from qa.index.postgres.encoding import lexeme, passage_from_json, to_db, vector_text
from qa.index.postgres.schema import read_generation, read_meta, read_paths
from qa.index.postgres.writer import documents
from qa.passages import Passage

_EF_SEARCH_DEFAULT = 40  # pgvector's own default
_EF_SEARCH_MAX = 1000  # pgvector's ceiling

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
    """A PostgreSQL store opened for questions (a `qa.index.contract.ReadStore`).

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
            with errors(dsn):
                meta = read_meta(self._conn, self.where)
        except BaseException:
            self.close()
            raise
        if model is not None and meta.model != model:
            self.close()
            raise ModelMismatchError(f"{self.where} (schema {schema}) was built with model {meta.model!r}, not {model!r}",
                                     store=self.where, built_model=meta.model, asked=model)
        self.model = meta.model
        self.dim = meta.dim
        self.backend = meta.backend

    def _open(self) -> psycopg.Connection[Any]:
        conn = connect(self.dsn)
        try:
            with errors(self.dsn):
                found = vector_schema(conn)
                if found is None or not installed(conn, self.schema):
                    raise IndexMissingError(f"no qa store in {self.where} (schema {self.schema})", store=self.where)
                use_schema(conn, self.schema, found)
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
        with self._lock, errors(self.dsn):
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
            with self._lock, errors(self.dsn):
                self._conn.execute(sql.SQL("SET hnsw.ef_search = {}").format(sql.Literal(wanted)))
            self._ef_search = wanted

    def passage_count(self) -> int:
        row = self._run("SELECT passages FROM corpus_stats", None)
        return int(row[0]) if row else 0

    def leads(self, sources: list[str]) -> dict[str, Passage]:
        """The first passage of each of these documents (in insertion order), for those that are indexed."""
        if not sources:
            return {}
        row = self._run("SELECT array_agg(data) FROM (SELECT DISTINCT ON (source) data FROM passages "
                        "WHERE source = ANY(%(sources)s) ORDER BY source, id) AS first", {"sources": list(sources)})
        found = [Passage.from_dict(d) for d in (row[0] if row and row[0] else [])]
        return {p.source: p for p in found}

    def generation(self) -> str:
        """The store's commit counter: every ingest that changes something adds one."""
        return read_generation(self._run, self.where)

    def paths(self) -> list[str]:
        """The files and folders the store was built from, as its ingests recorded them."""
        return read_paths(self._run)

    def documents(self) -> dict[str, DocumentRecord]:
        """Every ingested document by source, in ingest order."""
        with self._lock, errors(self.dsn):
            return documents(self._conn)

    def candidates(self, vector: np.ndarray, tokens: list[str], terms: list[str], limit: int,
                   exclude: set[str] | None = None) -> Candidates:
        """Up to `limit` nearest passages plus up to `limit` best full-text matches of `terms` (every passage
        when the store holds no more than `limit`), skipping sources in `exclude`: one round trip."""
        self._ensure_ef_search(limit)
        unique_terms = list(dict.fromkeys(terms))
        row = self._run(_CANDIDATES, {
            "tokens": list(dict.fromkeys([*tokens, *unique_terms])),
            "terms": unique_terms,
            "lexemes": [lexeme(t) for t in unique_terms],
            "limit": int(limit),
            "exclude": sorted(to_db(s) for s in exclude or ()),
            "vector": vector_text(vector),
        })
        n_p, n_s, p_tok, s_tok, dates, df, ids, data, pv, sv, wv, ptok, stok = row
        df = df or {}
        passages = [Passage.from_dict(passage_from_json(d)) for d in (data or [])]
        dim = self.dim
        pv_rows = np.frombuffer(pv or b"", dtype=np.dtype([("head", "V4"), ("v", ">f4", (dim,))]))["v"]
        n_sent = sum(len(p.sentences) for p in passages)
        sentence_tokens = [s.split() for s in (stok or [])]
        if len(sentence_tokens) != n_sent:
            raise IndexCorruptError(f"{self.where}: sentence rows disagree with passages", store=self.where)
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
