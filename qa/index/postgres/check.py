"""Checking a whole PostgreSQL store: that its rows agree with each other and with what they record.

PostgreSQL checks its own pages (and the foreign keys and CHECK constraints hold by construction); what can
still be wrong is what the store means: a passage whose vectors or token lists do not fit its sentences, a
document whose passage count is not its rows, statistics that no longer sum to the table.
"""

from __future__ import annotations

from typing import Any

from qa.errors import IndexCorruptError
from qa.index.contract import IndexCheck
from qa.index.postgres.connection import psycopg
from qa.index.postgres.encoding import passage_from_json
from qa.index.postgres.schema import TABLES, read_meta
from qa.passages import Passage

# each: what it finds (rows that are wrong), and how a message names them
_ROW_CHECKS = [
    ("SELECT count(*) FROM passages WHERE octet_length(sentence_vectors) <> 4 * %(dim)s * "
     "jsonb_array_length(data -> 'sentences') OR octet_length(window_vectors) <> octet_length(sentence_vectors)",
     "passages whose sentence or window vectors do not fit their sentences"),
    ("SELECT count(*) FROM passages WHERE cardinality(sentence_tokens) <> jsonb_array_length(data -> 'sentences')",
     "passages whose sentence tokens do not fit their sentences"),
    ("SELECT count(*) FROM passages p JOIN documents d ON d.id = p.document "
     "WHERE p.source <> d.source OR p.data ->> 'source' <> d.source",
     "passages filed under another document than their own"),
    ("SELECT count(*) FROM documents d WHERE d.passages <> (SELECT count(*) FROM passages p WHERE p.document = d.id)",
     "documents whose passage count is not their rows"),
    ("SELECT count(*) FROM corpus_stats c WHERE c.passages <> (SELECT count(*) FROM passages)",
     "corpus statistics that do not count the passages"),
    ("SELECT count(*) FROM (SELECT date, count(*) AS n FROM passages WHERE date IS NOT NULL GROUP BY date) p "
     "FULL JOIN (SELECT date, passages AS n FROM date_stats WHERE passages > 0) s USING (date) "
     "WHERE p.n IS DISTINCT FROM s.n",
     "dates whose statistics do not count their passages"),
]
_BATCH = 2000


def check_store(conn: psycopg.Connection[Any], where: str) -> IndexCheck:
    """Check the store whose schema `conn` is in: IndexCorruptError naming the first thing wrong."""

    def wrong(why: str) -> IndexCorruptError:
        return IndexCorruptError(f"{where} is damaged ({why})", store=where)

    meta = read_meta(conn, where)
    for query, what in _ROW_CHECKS:
        row = conn.execute(query, {"dim": meta.dim}).fetchone()
        if row is not None and int(row[0]):
            raise wrong(f"{int(row[0])} {what}")
    passages = 0
    with conn.cursor() as cur:  # a client-side cursor in batches: no transaction held open between them
        last = 0
        while rows := cur.execute("SELECT id, data FROM passages WHERE id > %s ORDER BY id LIMIT %s",
                                  [last, _BATCH]).fetchall():
            last = int(rows[-1][0])
            for pid, data in rows:
                try:
                    Passage.from_dict(passage_from_json(data))
                except (TypeError, KeyError, ValueError) as exc:
                    raise wrong(f"passage {pid} cannot be read: {exc}") from None
            passages += len(rows)
    documents = conn.execute("SELECT count(*) FROM documents").fetchone()
    return IndexCheck(where, int(documents[0]) if documents else 0, passages, len(TABLES), 0)
