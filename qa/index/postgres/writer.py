"""Writing the PostgreSQL store: one ingest is one transaction under an advisory lock, so a failure or a kill
leaves the store as it was and concurrent ingests wait for each other; readers see the new rows at commit."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from qa.documents import Document
from qa.index.contract import DocumentRecord, IndexInfo
from qa.index.postgres.connection import psycopg, sql
from qa.index.postgres.encoding import from_db, le32, passage_json, to_db, tsvector, vector_text
from qa.index.postgres.schema import (
    HNSW_INDEX,
    TABLES,
    bump_generation,
    create_tables,
    drop_tables,
    ensure_generation,
    enter_schema,
    info,
    read_meta,
    read_paths,
)
from qa.index.postgres.stats import Delta
from qa.index.representation import passage_text, sentence_texts
from qa.passages import Passage
from qa.text.lexical import terms, tokens

_BULK_MIN = 1000  # passages into an empty table from which the HNSW index is built after loading
_ANALYZE_MIN = 1000  # passages added in one ingest after which the table's statistics are refreshed


def documents(conn: psycopg.Connection[Any]) -> dict[str, DocumentRecord]:
    rows = conn.execute("SELECT source, content_hash, title, date, passages FROM documents ORDER BY id").fetchall()
    return {from_db(r[0]): DocumentRecord(from_db(r[0]), r[1], r[2], r[3], int(r[4])) for r in rows}




def _write(conn: psycopg.Connection[Any], passages: list[Passage], doc_ids: dict[str, int], pv: np.ndarray,
           sv: np.ndarray, wv: np.ndarray, delta: Delta) -> None:
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
            copy.write_row((doc_ids[p.source], to_db(p.source), p.date,
                            json.dumps(passage_json(p.to_dict()), ensure_ascii=False),
                            vector_text(pv[i]), le32(sv[s:s + n]), le32(wv[s:s + n]),
                            [" ".join(t) for t in sent_toks], " ".join(ptoks), vocab, tsvector(ptoks)))
            s += n


def _delete(conn: psycopg.Connection[Any], sources: list[str], delta: Delta) -> None:
    if not sources:
        return
    rows = conn.execute(
        "DELETE FROM passages WHERE document IN (SELECT id FROM documents WHERE source = ANY(%s))"
        " RETURNING sentence_tokens, tokens, vocab, date", [[to_db(s) for s in sources]]).fetchall()
    for sent, toks, vocab, date in rows:
        delta.add([s.split() for s in sent], toks.split(), vocab, date, -1)
    conn.execute("DELETE FROM documents WHERE source = ANY(%s)", [[to_db(s) for s in sources]])


def _only_ours(conn: psycopg.Connection[Any], schema: str) -> bool:
    """Whether `schema` holds the store's tables and nothing else (so it may be swapped as a whole)."""
    rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema])
    return {str(r[0]) for r in rows.fetchall()} <= set(TABLES)


class PgWriter:
    """One ingest into the store's `schema` on `conn`, inside the caller's transaction (an `IndexWriter`).

    A rebuild writes a new schema beside the live one and swaps the two at commit, so readers answer from
    the old store until the commit and from the new one after it; the old schema is dropped afterwards
    (`retired`), by the caller, once the swap is committed.
    """

    def __init__(self, conn: psycopg.Connection[Any], schema: str, where: str, rebuild: bool) -> None:
        self.conn = conn
        self.where = f"{where} (schema {schema})"
        self._schema = schema
        self._installed = enter_schema(conn, schema, where)
        self._existing: IndexInfo | None = None
        self._documents: dict[str, DocumentRecord] = {}
        self._dropped: list[str] = []
        self._paths: list[str] = []  # what the store was built from (a rebuild's paths alone)
        self.staging: str | None = None  # the schema a rebuild writes, swapped in at commit
        self.retired: str | None = None  # the old schema, once swapped out
        if self._installed and rebuild:
            try:
                with conn.transaction():  # a savepoint: tables of another layout must not abort the ingest
                    self._dropped = list(documents(conn))
            except psycopg.Error:
                pass
            if _only_ours(conn, schema):
                self.staging = f"{schema}__rebuild"
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.staging)))
                enter_schema(conn, self.staging, where)
            else:  # other tables share the schema: rebuild in place (readers wait for the commit)
                drop_tables(conn, schema)
            self._installed = False
        elif self._installed:
            self._existing = info(read_meta(conn, where))
            ensure_generation(conn)
            self._documents = documents(conn)
            self._paths = read_paths(lambda query, params: conn.execute(query, params).fetchone())
        self._delta = Delta()
        self._doc_ids: dict[str, int] = {}
        self._bulk = False
        self._added = 0

    def existing(self) -> IndexInfo | None:
        return self._existing

    def documents(self) -> dict[str, DocumentRecord]:
        return self._documents

    def dropped(self) -> list[str]:
        return list(self._dropped)

    def start(self, built: IndexInfo) -> None:
        if not self._installed:
            create_tables(self.conn, built.model, built.dim, built.backend)
            self._installed = True

    def record_paths(self, paths: list[str]) -> bool:
        before = self._paths
        self._paths = list(dict.fromkeys([*before, *paths]))
        return self._paths != before

    def remove(self, sources: list[str]) -> None:
        _delete(self.conn, sources, self._delta)

    def add_documents(self, docs: list[Document], passages: list[list[Passage]]) -> None:
        if not docs:
            return
        rows = self.conn.execute(
            "INSERT INTO documents (source, content_hash, title, date, passages)"
            " SELECT s, h, t, d, n FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::integer[])"
            " WITH ORDINALITY AS u(s, h, t, d, n, i) ORDER BY i RETURNING id, source",
            [[to_db(d.source) for d in docs], [d.content_hash for d in docs], [d.title for d in docs],
             [d.date for d in docs], [len(ps) for ps in passages]]).fetchall()
        self._doc_ids.update({from_db(source): int(i) for i, source in rows})
        total = sum(len(ps) for ps in passages)
        self._added += total
        # Filling an empty table (first ingest, --rebuild): building the HNSW graph once at the end is faster
        # than growing it row by row. Never on a table with rows: DROP INDEX would block every query until
        # the commit.
        empty = self.conn.execute("SELECT NOT EXISTS (SELECT 1 FROM passages)").fetchone()
        if total >= _BULK_MIN and bool(empty and empty[0]) and not self._bulk:
            self.conn.execute("DROP INDEX passages_embedding")
            self._bulk = True

    def add_vectors(self, passages: list[Passage], pv: np.ndarray, sv: np.ndarray, wv: np.ndarray) -> None:
        _write(self.conn, passages, self._doc_ids, pv, sv, wv, self._delta)

    def commit(self) -> None:
        if self._bulk:
            self.conn.execute(HNSW_INDEX)
        if self._bulk or self._added > _ANALYZE_MIN:
            self.conn.execute("ANALYZE passages")  # the planner's row estimates decide whether the indexes are used
        self._delta.apply(self.conn)
        self.conn.execute("UPDATE qa_schema SET paths = %s", [[to_db(p) for p in self._paths]])
        if self.staging is not None:
            self._swap_in(self.staging)  # which sets the generation past the old store's
        else:
            bump_generation(self.conn)

    def _swap_in(self, staging: str) -> None:
        """Make the rebuilt schema the live one: renames only, at the very end of the transaction."""
        live = sql.Identifier(self._schema)
        try:
            with self.conn.transaction():
                row = self.conn.execute(sql.SQL("SELECT generation FROM {}").format(
                    sql.Identifier(self._schema, "qa_schema"))).fetchone()
            before = int(row[0]) if row else 0
        except psycopg.Error:
            before = 0
        # readers compare generations: the new store's must differ from every one the old store had
        self.conn.execute("UPDATE qa_schema SET generation = %s", [before + 1])
        self.retired = f"{self._schema}__old"
        self.conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.retired)))
        self.conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(live, sql.Identifier(self.retired)))
        self.conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(staging), live))
        enter_schema(self.conn, self._schema, self.where)

    def passage_count(self) -> int:
        if not self._installed:
            return 0
        row = self.conn.execute("SELECT passages FROM corpus_stats").fetchone()
        return int(row[0]) if row else 0
