"""The index contract, held by both stores: the same tests run against the local index and a real PostgreSQL
(pgserver). Incremental ingest, updates and deletes, the model and backend rules, failed ingests and
rebuilds, damage, generations and candidates behave alike whatever the store.

What only one store has (segments and crash points of the local folder; the schema, locks and SQL of
PostgreSQL) is tested in test_store.py and test_pg_store.py.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qa.errors import REBUILD, IndexCorruptError, IndexMissingError, ModelMismatchError
from qa.index.contract import IndexTarget, ReadStore
from qa.index.local import LocalIndex
from qa.index.pipeline import ingest_paths
from qa.text.lexical import terms, tokens
from tests.support.paths import SEEDS
from tests.support.tiny_embedder import TinyEmbedder

QUESTION = "What did Ruto say about the Haiti mission?"


@pytest.fixture(params=["local", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IndexTarget]:
    """An empty index of each kind."""
    if request.param == "local":
        yield LocalIndex(tmp_path / "index")
        return
    pytest.importorskip("psycopg", reason="the postgres extra is not installed: pip install -e '.[postgres]'")
    from qa.index.postgres import PostgresIndex

    dsn, schema = request.getfixturevalue("pg_dsn"), request.getfixturevalue("schema")
    yield PostgresIndex(dsn, schema)


@pytest.fixture
def tiny() -> TinyEmbedder:
    return TinyEmbedder()


def read(target: IndexTarget, model: str | None = None) -> ReadStore:
    return target.open(model)


def state(target: IndexTarget, embedder: TinyEmbedder) -> dict[str, Any]:
    """What a reader sees of the index: its documents, its size, its generation, and a question's candidates."""
    store = read(target)
    try:
        q = embedder.vector(QUESTION)
        c = store.candidates(q, tokens(QUESTION), terms(QUESTION), limit=1000)
        return {"documents": store.documents(), "passages": store.passage_count(), "generation": store.generation(),
                "candidates": sorted((p.source, p.line_start, p.text) for p in c.passages),
                "vectors": np.round(np.sort(c.passage_vectors.sum(axis=1)), 3).tolist()}
    finally:
        store.close()


def test_a_new_index_is_missing_until_the_first_ingest(target: IndexTarget, tiny: TinyEmbedder) -> None:
    assert not target.exists() and target.generation() is None
    with pytest.raises(IndexMissingError):
        read(target)
    report = ingest_paths([SEEDS], target, tiny)
    assert len(report.added) == 5 and not report.errors and report.passages > 0
    assert target.exists()
    store = read(target, tiny.name)
    try:
        assert (store.model, store.backend, store.dim) == (tiny.name, "torch", tiny.dim)
        assert list(store.documents()) == sorted(str(p) for p in SEEDS.glob("*.txt"))
        assert store.passage_count() == report.passages == sum(r.passages for r in store.documents().values())
        assert store.generation() == target.generation()
    finally:
        store.close()


def test_an_unchanged_ingest_embeds_and_changes_nothing(target: IndexTarget, seeds_copy: Path,
                                                        tiny: TinyEmbedder) -> None:
    ingest_paths([seeds_copy], target, tiny)
    before = state(target, tiny)
    tiny.reset()
    report = ingest_paths([seeds_copy], target, tiny)
    assert not report.changed and len(report.skipped) == 5 and report.passages == before["passages"]
    assert tiny.texts_encoded == 0
    assert state(target, tiny) == before


def test_changed_added_and_deleted_files_are_exactly_what_changes(target: IndexTarget, seeds_copy: Path,
                                                                  tiny: TinyEmbedder) -> None:
    ingest_paths([seeds_copy], target, tiny)
    before = state(target, tiny)
    files = sorted(seeds_copy.glob("*.txt"))
    changed, deleted, added = files[1], files[3], seeds_copy / "zz_new.txt"
    with changed.open("a", encoding="utf-8") as fh:
        fh.write("\nZebras crossed the Nairobi expressway on Tuesday, officials said.\n")
    deleted.unlink()
    added.write_text("Harbour News\n\nThe new harbour at Lamu opened to container ships this week.\n", encoding="utf-8")
    tiny.reset()
    report = ingest_paths([seeds_copy], target, tiny)
    assert (report.updated, report.removed, report.added) == ([str(changed)], [str(deleted)], [str(added)])
    assert len(report.skipped) == 3 and tiny.texts_encoded > 0
    after = state(target, tiny)
    assert after["generation"] != before["generation"]
    assert set(after["documents"]) == set(before["documents"]) - {str(deleted)} | {str(added)}
    for source, record in before["documents"].items():
        if source not in (str(changed), str(deleted)):
            assert after["documents"][source].content_hash == record.content_hash
    store = read(target)
    try:
        q = "zebras on the expressway"
        c = store.candidates(tiny.vector(q), tokens(q), terms(q), limit=3)
        assert "zebra" in c.known_terms and c.passage_df["zebra"] == 1
        assert any("Zebras" in p.text for p in c.passages)
        everything = store.candidates(tiny.vector(q), tokens(q), terms(q), limit=1000)
        assert str(deleted) not in everything.sources and str(added) in everything.sources
        assert len(everything.passages) == store.passage_count() == report.passages
    finally:
        store.close()


def test_files_outside_the_ingested_folders_are_left_alone(target: IndexTarget, seeds_copy: Path, tmp_path: Path,
                                                           tiny: TinyEmbedder) -> None:
    other = tmp_path / "other"
    other.mkdir()
    shutil.move(str(sorted(seeds_copy.glob("*.txt"))[0]), other)
    ingest_paths([seeds_copy, other], target, tiny)
    report = ingest_paths([seeds_copy], target, tiny)
    assert not report.changed and len(report.skipped) == 4
    assert len(state(target, tiny)["documents"]) == 5


def test_another_model_or_backend_is_refused_in_one_line_and_changes_nothing(target: IndexTarget,
                                                                             tiny: TinyEmbedder) -> None:
    ingest_paths([SEEDS], target, tiny)
    before = state(target, tiny)
    other = TinyEmbedder(name="other-model", dim=32)
    with pytest.raises(ModelMismatchError) as err:
        ingest_paths([SEEDS], target, other)
    message = str(err.value)
    assert "\n" not in message and "'tiny-hash-64'" in message and "'other-model'" in message
    assert target.where in message and "--" not in message  # the fix is the front ends' to word, from fields
    assert (err.value.fix, err.value.fields["built_model"], err.value.fields["asked"]) == (
        REBUILD, "tiny-hash-64", "other-model")
    int8 = TinyEmbedder()
    int8.backend = "onnx-int8"  # type: ignore[attr-defined]
    with pytest.raises(ModelMismatchError) as err:
        ingest_paths([SEEDS], target, int8)
    assert str(err.value) == f"{target.where} was built with the torch backend, not onnx-int8"
    assert (err.value.fields["built_backend"], err.value.fields["asked"]) == ("torch", "onnx-int8")
    with pytest.raises(ModelMismatchError, match="other-model"):
        read(target, "other-model")
    assert state(target, tiny) == before


def test_a_rebuild_re_embeds_everything_and_reports_what_it_drops(target: IndexTarget, seeds_copy: Path,
                                                                  tmp_path: Path, tiny: TinyEmbedder) -> None:
    ingest_paths([seeds_copy], target, tiny)
    other = tmp_path / "other"
    other.mkdir()
    (other / "note.txt").write_text("A Note\n\nThe rebuilt index holds this note alone.\n", encoding="utf-8")
    wider = TinyEmbedder(name="other-model", dim=32)
    report = ingest_paths([other], target, wider, rebuild=True)
    assert report.added == [str((other / "note.txt").resolve())]
    assert sorted(report.removed) == sorted(str(p) for p in seeds_copy.glob("*.txt"))
    store = read(target, "other-model")
    try:
        assert list(store.documents()) == [str((other / "note.txt").resolve())] and store.dim == 32
    finally:
        store.close()


class FailingEmbedder(TinyEmbedder):
    """Fails on any text holding the marker, as a model can fail half-way through a large ingest."""

    def encode(self, texts: list[str]) -> np.ndarray:
        if any("KABOOM" in t for t in texts):
            raise RuntimeError("the model fell over")
        return super().encode(texts)


def test_a_failed_ingest_leaves_the_index_as_it_was(target: IndexTarget, seeds_copy: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from qa.index import pipeline

    ingest_paths([seeds_copy], target, FailingEmbedder())
    before = state(target, TinyEmbedder())
    first = sorted(seeds_copy.glob("*.txt"))[0]
    with first.open("a", encoding="utf-8") as fh:
        fh.write("\nA late correction to the article.\n")
    (seeds_copy / "zz_late.txt").write_text("Late News\n\nThis paragraph says KABOOM to the model.\n", encoding="utf-8")
    monkeypatch.setattr(pipeline, "INGEST_BATCH", 4)  # writes happen before the failure
    with pytest.raises(RuntimeError, match="fell over"):
        ingest_paths([seeds_copy], target, FailingEmbedder())
    assert state(target, TinyEmbedder()) == before
    report = ingest_paths([seeds_copy], target, TinyEmbedder())  # the lock went with the failure
    assert report.updated == [str(first)] and report.added == [str(seeds_copy / "zz_late.txt")]


def _damage(target: IndexTarget) -> None:
    """Make the index unreadable the way each store can be: a garbled manifest, a newer schema version."""
    if isinstance(target, LocalIndex):
        current = (target.path / "CURRENT").read_text(encoding="utf-8").strip()
        (target.path / current).write_text("{not json", encoding="utf-8")
        return
    import psycopg

    with psycopg.connect(target.dsn, autocommit=True) as conn:  # type: ignore[attr-defined]
        conn.execute(f'UPDATE "{target.schema}".qa_schema SET version = version + 1')  # type: ignore[attr-defined]


def test_a_damaged_index_is_one_clear_error(target: IndexTarget, tiny: TinyEmbedder) -> None:
    ingest_paths([SEEDS], target, tiny)
    _damage(target)
    with pytest.raises(IndexCorruptError) as err:
        read(target)
    message = str(err.value)
    assert "\n" not in message and (err.value.fix == REBUILD or "upgrade qa" in message)
    assert "qa ingest" not in message and "--rebuild" not in message  # advice is the front ends' to word


def test_small_indexes_offer_every_passage_as_a_candidate(target: IndexTarget, tiny: TinyEmbedder) -> None:
    report = ingest_paths([SEEDS], target, tiny)
    store = read(target)
    try:
        c = store.candidates(tiny.vector(QUESTION), tokens(QUESTION), terms(QUESTION), limit=report.passages)
        assert len(c.passages) == report.passages and len(set(c.keys)) == report.passages
        assert c.sentence_vectors.shape == (int(c.counts.sum()), tiny.dim)
        assert c.stats.passages == report.passages
        some = store.candidates(tiny.vector(QUESTION), tokens(QUESTION), terms(QUESTION), limit=report.passages,
                                exclude={str(SEEDS / "002_55bcac6e1997eb79.txt")})
        assert str(SEEDS / "002_55bcac6e1997eb79.txt") not in some.sources and len(some.passages) < len(c.passages)
    finally:
        store.close()


def test_the_documents_remember_title_date_and_hash(target: IndexTarget, tiny: TinyEmbedder) -> None:
    ingest_paths([SEEDS], target, tiny)
    docs = state(target, tiny)["documents"]
    first = docs[str(SEEDS / "000_c1dbf43db722519f.txt")]
    assert first.date == "2024-11-09" and first.title and first.title.startswith("5 issues")
    assert json.dumps([len(r.content_hash) for r in docs.values()]) == json.dumps([64] * 5)


def test_the_lead_of_a_document_is_its_first_passage(target: IndexTarget, seeds_copy: Path, tiny: TinyEmbedder) -> None:
    ingest_paths([seeds_copy], target, tiny)
    first, second = str(seeds_copy / "000_c1dbf43db722519f.txt"), str(seeds_copy / "003_d110ed1a2ec45713.txt")
    store = read(target)
    try:
        leads = store.leads([first, second, str(seeds_copy / "not-indexed.txt")])
        assert set(leads) == {first, second}
        for source, lead in leads.items():
            assert lead.source == source
            assert lead.line_start == min(p.line_start for p in _passages_of(store, tiny, source))
    finally:
        store.close()
    (seeds_copy / "000_c1dbf43db722519f.txt").write_text("A new first line.\n\nAnd a second paragraph.\n",
                                                          encoding="utf-8")
    ingest_paths([seeds_copy], target, tiny)
    store = read(target)
    try:
        assert store.leads([first])[first].text == "A new first line."  # the live passage, not the replaced one
    finally:
        store.close()


def _passages_of(store: ReadStore, tiny: TinyEmbedder, source: str) -> list[Any]:
    c = store.candidates(tiny.vector(QUESTION), tokens(QUESTION), terms(QUESTION), limit=store.passage_count())
    return [p for p in c.passages if p.source == source]


def test_an_index_records_what_it_was_built_from_and_a_rebuild_replaces_it(target: IndexTarget, tiny: TinyEmbedder,
                                                                          tmp_path: Path) -> None:
    """Each ingest adds the files and folders it read to what the index records (`qa repl`'s /reindex reads
    them again); one that adds a path but changes no document records it too; a rebuild records its own alone."""
    more = tmp_path / "more"
    more.mkdir()
    shutil.copy(next(SEEDS.glob("000_*.txt")), more / "copy.txt")
    def recorded() -> list[str]:
        store = read(target)
        try:
            return store.paths()
        finally:
            store.close()

    ingest_paths([SEEDS], target, tiny)
    assert recorded() == [str(SEEDS)]
    ingest_paths([SEEDS / "001_3f7c58d4eaf15709.txt"], target, tiny)  # nothing changes but the record
    assert recorded() == [str(SEEDS), str(SEEDS / "001_3f7c58d4eaf15709.txt")]
    ingest_paths([more], target, tiny, rebuild=True)
    assert recorded() == [str(more)]
