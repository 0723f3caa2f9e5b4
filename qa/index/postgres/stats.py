"""The statistics tables of the PostgreSQL store (term, corpus and date counts), kept exact by every ingest:
it adds what it inserts and subtracts what it deletes, in the same transaction as the rows themselves."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from qa.index.postgres.connection import psycopg


@dataclass
class Delta:
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
