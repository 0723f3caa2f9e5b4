"""The PostgreSQL store against a real server (pgserver: PostgreSQL with pgvector, no Docker): schema, incremental
ingest with exact statistics, all-or-nothing ingests, candidates, and the same answers as the embedded store."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qa.errors import INGEST, IndexCorruptError, IndexMissingError, QAError, StoreUnavailableError
from qa.index import pipeline
from qa.index import postgres as pg_store
from qa.index.candidates import count_columns
from qa.index.local.store import open_index
from qa.index.postgres import writer as pg_writer
from qa.index.postgres.connection import lock_key
from qa.index.postgres.schema import SCHEMA_VERSION
from qa.index.representation import passage_text, sentence_texts
from qa.passages import Passage
from qa.text.lexical import terms, tokens
from tests.support.paths import ROOT, SEEDS
from tests.support.tiny_embedder import TinyEmbedder

psycopg = pytest.importorskip("psycopg", reason="the postgres extra is not installed: pip install -e '.[postgres]'")

QUESTIONS = ROOT / "tests" / "data" / "seeds_questions.jsonl"
ATOL = 2e-3  # the embedded store may keep its vectors as float16


@pytest.fixture
def tiny() -> TinyEmbedder:
    return TinyEmbedder()


@pytest.fixture(scope="session")
def pg_seeds(pg_dsn: str, embedder: Any) -> str:
    """The five seed articles in PostgreSQL (schema `seeds`), embedded with the real model. Do not write to it."""
    report = pg_store.ingest_paths_pg([SEEDS], pg_dsn, embedder, schema="seeds")
    assert not report.errors and len(report.added) == 5
    return "seeds"


def sql(dsn: str, query: str, params: Any = None) -> list[tuple]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def state(dsn: str, schema: str) -> dict[str, Any]:
    """Everything an ingest may change, as plain values."""
    return {
        "documents": sql(dsn, f'SELECT id, source, content_hash, title, date, passages FROM "{schema}".documents ORDER BY id'),
        "passages": sql(dsn, f'SELECT id, source, data::text, embedding::text, md5(sentence_vectors) FROM "{schema}".passages ORDER BY id'),
        "terms": sql(dsn, f'SELECT * FROM "{schema}".term_stats ORDER BY token'),
        "corpus": sql(dsn, f'SELECT * FROM "{schema}".corpus_stats'),
        "dates": sql(dsn, f'SELECT * FROM "{schema}".date_stats ORDER BY date'),
        "meta": sql(dsn, f'SELECT version, model, dim FROM "{schema}".qa_schema'),
    }


def ids_by_source(dsn: str, schema: str) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for pid, source in sql(dsn, f'SELECT id, source FROM "{schema}".passages ORDER BY id'):
        out.setdefault(source, []).append(pid)
    return out


def live_passages(dsn: str, schema: str) -> list[Passage]:
    return [Passage.from_dict(d) for (d,) in sql(dsn, f'SELECT data FROM "{schema}".passages ORDER BY id')]


def recount(passages: list[Passage]) -> tuple[dict[str, tuple[int, int, int]], tuple[int, int, int, int], dict[str, int]]:
    """The statistics recomputed from scratch from the passages: per token (sentences, passages, vocabulary)
    counts, corpus totals, passages per date."""
    sentences: Counter[str] = Counter()
    in_passages: Counter[str] = Counter()
    vocab: Counter[str] = Counter()
    totals = [0, 0, 0, 0]
    dates: Counter[str] = Counter()
    for p in passages:
        sent = [tokens(s) for s in sentence_texts(p)]
        ptoks = tokens(passage_text(p))
        for toks in sent:
            sentences.update(set(toks))
        in_passages.update(set(ptoks))
        vocab.update(set(terms(passage_text(p))) | set(terms(p.title or "")))
        totals[0] += 1
        totals[1] += len(sent)
        totals[2] += max(1, len(ptoks))
        totals[3] += sum(max(1, len(t)) for t in sent)
        if p.date:
            dates[p.date] += 1
    keys = set(sentences) | set(in_passages) | set(vocab)
    return ({t: (sentences[t], in_passages[t], vocab[t]) for t in keys}, (totals[0], totals[1], totals[2], totals[3]),
            dict(dates))


def assert_stats_exact(dsn: str, schema: str) -> None:
    """The statistics tables equal a recount from the live rows."""
    per_token, totals, dates = recount(live_passages(dsn, schema))
    stored = {t: (s, p, v) for t, s, p, v in sql(dsn, f'SELECT * FROM "{schema}".term_stats')}
    assert stored == per_token
    assert sql(dsn, f'SELECT passages, sentences, passage_tokens, sentence_tokens FROM "{schema}".corpus_stats') == [totals]
    assert dict(sql(dsn, f'SELECT date, passages FROM "{schema}".date_stats')) == dates


# --- schema ---------------------------------------------------------------------------------------------------


def test_schema_is_created_on_first_ingest_in_its_own_schema_and_versioned(pg_dsn: str, schema: str,
                                                                            tiny: TinyEmbedder,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(IndexMissingError, match="no qa store") as missing:
        pg_store.PgStore(pg_dsn, schema=schema)
    assert missing.value.fix == INGEST and "qa ingest" not in str(missing.value)  # the front end words the advice
    monkeypatch.setattr(pg_writer, "_BULK_MIN", 10)  # the seeds are few: take the build-the-index-after-loading path
    progress: list[tuple[int, int]] = []
    report = pg_store.ingest_paths_pg([SEEDS], pg_dsn, tiny, schema=schema, progress=lambda d, n: progress.append((d, n)))
    assert len(report.added) == 5 and report.passages > 0
    assert progress[-1] == (report.passages, report.passages)

    assert sql(pg_dsn, f'SELECT version, model, dim FROM "{schema}".qa_schema') == [
        (SCHEMA_VERSION, "tiny-hash-64", 64)]
    tables = {t for (t,) in sql(pg_dsn, "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema])}
    assert {"qa_schema", "documents", "passages", "term_stats", "corpus_stats", "date_stats"} <= tables
    assert not sql(pg_dsn, "SELECT 1 FROM information_schema.tables WHERE table_schema = 'public'"
                           " AND table_name IN ('passages', 'documents', 'qa_schema')")
    indexes = " ".join(d for (d,) in sql(pg_dsn, "SELECT indexdef FROM pg_indexes WHERE schemaname = %s", [schema]))
    assert "USING hnsw (embedding vector_ip_ops)" in indexes and "USING gin (tsv)" in indexes
    assert sql(pg_dsn, f'SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = \'"{schema}".passages\'::regclass'
                       " AND attname = 'embedding'") == [("vector(64)",)]
    with pg_store.PgStore(pg_dsn, schema=schema) as store:
        assert store.model == "tiny-hash-64" and store.dim == 64
        assert list(store.documents()) == sorted(str(p) for p in SEEDS.glob("*.txt"))


def test_newer_schema_version_is_refused_in_one_line(pg_dsn: str, schema: str, tiny: TinyEmbedder) -> None:
    pg_store.ingest_paths_pg([SEEDS], pg_dsn, tiny, schema=schema)
    sql(pg_dsn, f'UPDATE "{schema}".qa_schema SET version = version + 1 RETURNING 1')
    with pytest.raises(IndexCorruptError) as err:
        pg_store.PgStore(pg_dsn, schema=schema)
    message = str(err.value)
    assert "\n" not in message and f"version {SCHEMA_VERSION + 1}" in message and "upgrade qa" in message
    with pytest.raises(IndexCorruptError, match="upgrade qa"):
        pg_store.ingest_paths_pg([SEEDS], pg_dsn, tiny, schema=schema)


# --- incremental ingest ---------------------------------------------------------------------------------------


def test_reingest_of_unchanged_files_touches_nothing(pg_dsn: str, schema: str, seeds_copy: Path,
                                                     tiny: TinyEmbedder) -> None:
    pg_store.ingest_paths_pg([seeds_copy], pg_dsn, tiny, schema=schema)
    before = state(pg_dsn, schema)
    tiny.reset()
    report = pg_store.ingest_paths_pg([seeds_copy], pg_dsn, tiny, schema=schema)
    assert not report.changed and len(report.skipped) == 5
    assert report.passages == len(before["passages"])
    assert tiny.texts_encoded == 0
    assert state(pg_dsn, schema) == before
    assert_stats_exact(pg_dsn, schema)


def test_changed_and_deleted_files_change_exactly_their_rows(pg_dsn: str, schema: str, seeds_copy: Path,
                                                             tiny: TinyEmbedder) -> None:
    pg_store.ingest_paths_pg([seeds_copy], pg_dsn, tiny, schema=schema)
    before = ids_by_source(pg_dsn, schema)
    files = sorted(seeds_copy.glob("*.txt"))
    changed, deleted = files[1], files[3]
    with changed.open("a", encoding="utf-8") as fh:
        fh.write("\nZebras crossed the Nairobi expressway on Tuesday, officials said.\n")
    deleted.unlink()
    tiny.reset()

    report = pg_store.ingest_paths_pg([seeds_copy], pg_dsn, tiny, schema=schema)
    assert report.updated == [str(changed)] and report.removed == [str(deleted)] and len(report.skipped) == 3
    after = ids_by_source(pg_dsn, schema)
    assert str(deleted) not in after
    for source in before:
        if source not in (str(changed), str(deleted)):
            assert after[source] == before[source]  # untouched rows keep their ids: not rewritten
    assert min(after[str(changed)]) > max(i for ids in before.values() for i in ids)  # re-inserted, at the end
    # only the changed article was embedded again
    new = [p for p in live_passages(pg_dsn, schema) if p.source == str(changed)]
    assert tiny.texts_encoded == len({*(s for p in new for s in sentence_texts(p)), *(p.section for p in new if p.section)})
    assert_stats_exact(pg_dsn, schema)

    with pg_store.PgStore(pg_dsn, schema=schema) as store:
        q = "zebras on the expressway"
        c = store.candidates(tiny.vector(q), tokens(q), terms(q), limit=3)
        assert "zebra" in c.known_terms and c.passage_df["zebra"] == 1
        assert any("Zebras" in p.text for p in c.passages)
        assert str(deleted) not in {p.source for p in c.passages}


_KILLED_INGEST = """
import os, signal, sys
from pathlib import Path
from tests.support.tiny_embedder import TinyEmbedder
from qa.index import pipeline
from qa.index import postgres as pg_store
pipeline.INGEST_BATCH = 64
calls = []
def progress(done, total):
    calls.append(done)
    if len(calls) == 2:  # the first batch is written: die without a word, like kill -9 or a power cut
        os.kill(os.getpid(), signal.SIGKILL)
pg_store.ingest_paths_pg([Path(sys.argv[1])], sys.argv[2], TinyEmbedder(), schema=sys.argv[3], rebuild=True,
                         progress=progress)
"""


def test_killed_ingest_leaves_the_previous_state(pg_dsn: str, schema: str, seeds_copy: Path) -> None:
    pg_store.ingest_paths_pg([seeds_copy], pg_dsn, TinyEmbedder(), schema=schema)
    before = state(pg_dsn, schema)
    assert len(before["passages"]) > 64  # so the killed rebuild had written a batch
    proc = subprocess.run([sys.executable, "-c", _KILLED_INGEST, str(seeds_copy), pg_dsn, schema], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert state(pg_dsn, schema) == before
    report = pg_store.ingest_paths_pg([seeds_copy], pg_dsn, TinyEmbedder(), schema=schema)
    assert not report.changed


def test_concurrent_ingests_wait_for_each_other(pg_dsn: str, schema: str, seeds_copy: Path) -> None:
    pg_store.ingest_paths_pg([seeds_copy], pg_dsn, TinyEmbedder(), schema=schema)
    (seeds_copy / "zz_new.txt").write_text("New Article\n\nA new paragraph about the harbour.\n", encoding="utf-8")
    done: list[pipeline.IngestReport] = []
    with psycopg.connect(pg_dsn, autocommit=True) as holder:
        # what a running ingest holds
        holder.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [lock_key(schema)])
        worker = threading.Thread(target=lambda: done.append(
            pg_store.ingest_paths_pg([seeds_copy], pg_dsn, TinyEmbedder(), schema=schema)))
        worker.start()
        time.sleep(1.0)
        assert worker.is_alive() and not done
        holder.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [lock_key(schema)])
        worker.join(timeout=60)
    assert done and done[0].added == [str(seeds_copy / "zz_new.txt")]


# --- model, errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dsn", [
    "postgresql://qa:s3cr3t-pw@127.0.0.1:1/qa",  # nothing listens there
    "postgresql://qa:s3cr3t-pw@localhost:notaport/qa",  # malformed
    "host=127.0.0.1 port=1 user=qa password=s3cr3t-pw dbname=qa",
    "postgresql://qa:s3cr3t-pw@/qa?host=/nonexistent/socket/dir",
])
def test_unreachable_store_is_one_line_without_the_password(dsn: str, tiny: TinyEmbedder) -> None:
    for attempt in (lambda: pg_store.PgStore(dsn), lambda: pg_store.ingest_paths_pg([SEEDS], dsn, tiny)):
        with pytest.raises(StoreUnavailableError) as err:
            attempt()
        message = str(err.value)
        assert isinstance(err.value, QAError)
        assert "\n" not in message and "s3cr3t" not in message
        assert "PostgreSQL" in message


def test_dropped_connection_is_reopened(pg_dsn: str, schema: str, tiny: TinyEmbedder) -> None:
    pg_store.ingest_paths_pg([SEEDS], pg_dsn, tiny, schema=schema)
    q = "Haiti mission"
    with pg_store.PgStore(pg_dsn, schema=schema) as store:
        first = store.candidates(tiny.vector(q), tokens(q), terms(q), limit=5)
        sql(pg_dsn, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'qa'"
                    " AND pid <> pg_backend_pid()")
        again = store.candidates(tiny.vector(q), tokens(q), terms(q), limit=5)
        assert again.keys == first.keys


# --- candidates -----------------------------------------------------------------------------------------------


def test_candidates_at_seeds_scale_are_the_whole_embedded_index(pg_dsn: str, pg_seeds: str, seeds_index: Path,
                                                                embedder: Any) -> None:
    index = open_index(seeds_index, embedder.name)
    q = "How much did the Biden administration pledge to the Haiti mission?"
    with pg_store.PgStore(pg_dsn, embedder.name, schema=pg_seeds) as store:
        c = store.candidates(embedder.encode([q])[0], tokens(q), terms(q), limit=len(index.passages))
    assert c.passages == list(index.passages)  # the same passages in the same order
    assert len(c.keys) == len(set(c.keys)) == len(c.passages)
    np.testing.assert_allclose(c.passage_vectors, np.asarray(index.passage_vectors), atol=ATOL)
    np.testing.assert_allclose(c.sentence_vectors, np.asarray(index.sentence_vectors), atol=ATOL)
    np.testing.assert_allclose(c.window_vectors, np.asarray(index.window_vectors), atol=ATOL)
    assert c.passage_vectors.dtype == c.sentence_vectors.dtype == np.float32
    stf, slen = count_columns([tokens(s) for p in index.passages for s in sentence_texts(p)], c.columns)
    ptf, plen = count_columns([tokens(passage_text(p)) for p in index.passages], c.columns)
    assert np.array_equal(c.sentence_tf, stf) and np.array_equal(c.sentence_len, slen)
    assert np.array_equal(c.passage_tf, ptf) and np.array_equal(c.passage_len, plen)
    assert c.columns == list(dict.fromkeys(tokens(q) + terms(q)))
    assert list(c.counts) == [len(p.sentences) for p in index.passages]

    per_token, totals, dates = recount(list(index.passages))
    assert (c.stats.passages, c.stats.sentences, c.stats.passage_tokens, c.stats.sentence_tokens) == totals
    assert c.stats.dates == sorted(dates)
    assert c.sentence_df == {t: per_token[t][0] for t in tokens(q) if t in per_token and per_token[t][0]}
    assert c.passage_df == {t: per_token[t][1] for t in tokens(q) if t in per_token and per_token[t][1]}
    vocabulary = {t for p in index.passages for t in terms(passage_text(p))} | {
        t for p in index.passages for t in terms(p.title or "")}
    assert c.known_terms == frozenset(t for t in terms(q) if t in vocabulary)
    assert "biden" in c.known_terms


def test_candidates_below_the_store_size_are_nearest_plus_best_matches(pg_dsn: str, pg_seeds: str,
                                                                       seeds_index: Path, embedder: Any) -> None:
    index = open_index(seeds_index, embedder.name)
    passages = list(index.passages)
    q = "Which US Secretary of State did Ruto talk to about turning the Haiti mission into a UN operation?"
    v = embedder.encode([q])[0]
    limit = 5
    with pg_store.PgStore(pg_dsn, embedder.name, schema=pg_seeds) as store:
        c = store.candidates(v, tokens(q), terms(q), limit=limit)
        excluded = store.candidates(v, tokens(q), terms(q), limit=limit, exclude={passages[0].source})
        no_terms = store.candidates(v, tokens("what is it about"), [], limit=limit)
    assert limit <= len(c.passages) <= 2 * limit
    nearest = np.argsort(-(np.asarray(index.passage_vectors) @ v), kind="stable")[:limit]
    assert {passages[i] for i in nearest} <= set(c.passages)
    # the passage holding the most (IDF-weighted) of the question's terms is there too
    df = Counter(t for p in passages for t in set(tokens(passage_text(p))))
    def idf_sum(p: Passage) -> float:
        held = set(tokens(passage_text(p)))
        return sum(np.log(1 + (len(passages) - df[t] + 0.5) / (df[t] + 0.5)) for t in set(terms(q)) if t in held)
    assert max(passages, key=idf_sum) in c.passages
    # full statistics whatever the candidates
    assert c.stats.passages == len(passages)
    assert passages[0].source not in {p.source for p in excluded.passages} and excluded.passages
    # a question of function words only has no full-text half: the nearest passages still come back
    assert {passages[i] for i in nearest} == set(no_terms.passages) and not no_terms.known_terms
    assert c.sentence_vectors.shape == (int(c.counts.sum()), index.dim)


def test_seeds_questions_get_the_same_top_citations_from_both_stores(pg_dsn: str, pg_seeds: str,
                                                                     seeds_index: Path, embedder: Any) -> None:
    """The acceptance test of the PostgreSQL store: same commands, same answers."""
    from qa.pipeline import Pipeline
    from qa.retrieval.retriever import Retriever

    questions = [json.loads(line)["q"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    embedded = Pipeline(Retriever(open_index(seeds_index, embedder.name), embedder))
    with pg_store.PgStore(pg_dsn, embedder.name, schema=pg_seeds) as store:
        postgres = Pipeline(Retriever(store, embedder))
        for q in questions:
            a, b = embedded.ask(q), postgres.ask(q)
            assert (b.abstained, b.answer) == (a.abstained, a.answer), q
            assert [(x.source, x.line_start, x.text) for x in b.citations] == [
                (x.source, x.line_start, x.text) for x in a.citations], q
