"""The vector store: round trips, segments and their merging, exact statistics after updates, candidates of
a large index, damaged and mismatched indexes, and atomic replacement when a write dies."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from qa.errors import REBUILD, IndexCorruptError, StorageError
from qa.index import local as store
from qa.index.local import ingest_paths, segment
from qa.index.local import manifest as local_manifest
from qa.index.local import store as local_store
from qa.index.local import writer as local_writer
from qa.index.representation import passage_text, sentence_texts
from qa.text.lexical import terms, tokens
from tests.support.index_checks import derived_vectors
from tests.support.tiny_embedder import TinyEmbedder

F16 = 2e-3  # vectors are stored as float16


@pytest.fixture
def tiny() -> TinyEmbedder:
    return TinyEmbedder()


@pytest.fixture
def built(seeds_copy: Path, tmp_path: Path, tiny: TinyEmbedder) -> Path:
    """An index of the seeds made with the tiny embedder."""
    index = tmp_path / "index"
    report = ingest_paths([seeds_copy], index, tiny)
    assert len(report.added) == 5 and not report.errors
    return index


def snapshot(index: Path) -> tuple[list[dict], np.ndarray, np.ndarray, np.ndarray, dict]:
    data = store.open_index(index)
    return ([p.to_dict() for p in data.passages], np.array(data.passage_vectors), np.array(data.sentence_vectors),
            np.array(data.window_vectors), {k: vars(v) for k, v in data.documents().items()})


def assert_same(a: tuple, b: tuple) -> None:
    assert a[0] == b[0]
    for x, y in zip(a[1:4], b[1:4], strict=True):
        assert np.array_equal(x, y)
    assert a[4] == b[4]


def manifest(index: Path) -> dict:
    return json.loads((index / (index / "CURRENT").read_text(encoding="utf-8")).read_text(encoding="utf-8"))


def segments(index: Path) -> list[Path]:
    return [index / s for s in manifest(index)["segments"]]


def assert_clean(index: Path) -> None:
    """After a successful write only the pointer, the live manifest, its segments and the lock remain."""
    live = {"CURRENT", ".lock", (index / "CURRENT").read_text(encoding="utf-8"), *manifest(index)["segments"]}
    assert {p.name for p in index.iterdir()} == live


def test_round_trip_keeps_passages_vectors_and_rows_aligned(built: Path, tiny: TinyEmbedder) -> None:
    data = store.open_index(built, model=tiny.name)
    assert data.model == tiny.name and data.dim == tiny.dim
    assert len(data.documents()) == 5 and len(segments(built)) == 1
    assert sum(d.passages for d in data.documents().values()) == len(data.passages) == data.size
    for row, p in enumerate(data.passages):
        pv, sv, wv = derived_vectors(p, tiny.vector)
        assert np.allclose(data.passage_vectors[row], pv, atol=F16)
        rows = data.sentence_rows(row)
        assert len(rows) == len(p.sentences)
        for i, r in enumerate(rows):
            assert data.sentence_owner[r] == row
            assert np.allclose(data.sentence_vectors[r], sv[i], atol=F16)
            assert np.allclose(data.window_vectors[r], wv[i], atol=F16)


def exact_counts(data: store.IndexData) -> tuple[dict[str, tuple[int, int]], tuple[int, int, int, int]]:
    """Document frequencies and totals recomputed from the live passages' texts."""
    df: dict[str, list[int]] = {}
    s_tokens = p_tokens = sentences = 0
    for p in data.passages:
        for s in sentence_texts(p):
            toks = tokens(s)
            sentences += 1
            s_tokens += max(len(toks), 1)
            for t in set(toks):
                df.setdefault(t, [0, 0])[0] += 1
        toks = tokens(passage_text(p))
        p_tokens += max(len(toks), 1)
        for t in set(toks):
            df.setdefault(t, [0, 0])[1] += 1
    return {t: (a, b) for t, (a, b) in df.items()}, (len(data.passages), sentences, p_tokens, s_tokens)


def assert_exact_statistics(index: Path) -> None:
    data = store.open_index(index)
    df, totals = exact_counts(data)
    st = data.stats
    assert (st.passages, st.sentences, st.passage_tokens, st.sentence_tokens) == totals
    for t, counts in df.items():
        assert data.df(t) == counts, t
    assert data.df("zzzunseen") == (0, 0)


def _edit_one_seed(folder: Path) -> Path:
    path = sorted(folder.glob("003_*.txt"))[0]
    path.write_text(path.read_text(encoding="utf-8") + "\nA new closing paragraph about the STIP talks.\n",
                    encoding="utf-8")
    return path


def test_a_small_index_stays_one_segment_and_its_statistics_exact(built: Path, seeds_copy: Path,
                                                                  tiny: TinyEmbedder) -> None:
    _edit_one_seed(seeds_copy)
    (sorted(seeds_copy.glob("001_*.txt"))[0]).unlink()
    report = ingest_paths([seeds_copy], built, tiny)
    assert len(report.updated) == 1 and len(report.removed) == 1
    assert len(segments(built)) == 1
    assert_clean(built)
    assert_exact_statistics(built)


@pytest.fixture
def segmented(built: Path, seeds_copy: Path, tiny: TinyEmbedder, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The seeds index after an update and a delete, with merging turned off: three segments, dead rows in them."""
    monkeypatch.setattr(local_writer, "MERGE_ALL", 0)
    _edit_one_seed(seeds_copy)
    ingest_paths([seeds_copy], built, tiny)
    (sorted(seeds_copy.glob("001_*.txt"))[0]).unlink()
    (seeds_copy / "extra.txt").write_text("Extra Report\n\nA second note on the STIP talks in Nairobi.\n", encoding="utf-8")
    ingest_paths([seeds_copy], built, tiny)
    return built


def test_an_update_writes_only_the_changed_document(segmented: Path, seeds_copy: Path, tiny: TinyEmbedder) -> None:
    segs = segments(segmented)
    assert len(segs) == 3  # the first build, the edited article, the new one
    first = json.loads((segs[0] / "segment.json").read_text(encoding="utf-8"))
    assert len(first["sources"]) == 5  # the old segment is never rewritten: its edited and deleted rows are dead
    data = store.open_index(segmented)
    assert len(data.documents()) == 5
    assert not any("001_" in p.source for p in data.passages)
    assert sum("STIP talks." in p.text for p in data.passages) == 1  # the new version only
    assert_clean(segmented)


def test_statistics_stay_exact_across_segments_with_dead_rows(segmented: Path) -> None:
    assert_exact_statistics(segmented)


def test_a_segmented_index_equals_a_fresh_build(segmented: Path, seeds_copy: Path, tiny: TinyEmbedder,
                                                tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    ingest_paths([seeds_copy], fresh, tiny)
    a, b = store.open_index(segmented), store.open_index(fresh)
    key = {p.to_dict()["source"] + str(p.char_start): i for i, p in enumerate(b.passages)}
    assert sorted(key) == sorted(p.source + str(p.char_start) for p in a.passages)
    order = [key[p.source + str(p.char_start)] for p in a.passages]
    assert np.array_equal(a.passage_vectors, b.passage_vectors[order])


def test_segments_are_merged_when_they_pile_up(built: Path, seeds_copy: Path, tiny: TinyEmbedder,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_writer, "MERGE_ALL", 0)
    monkeypatch.setattr(local_writer, "MAX_SEGMENTS", 3)
    counts = []
    for i in range(5):
        (seeds_copy / f"note{i}.txt").write_text(f"Note {i}\n\nThe talks went on for day number {i}.\n", encoding="utf-8")
        ingest_paths([seeds_copy], built, tiny)
        counts.append(len(segments(built)))
    assert max(counts) <= 3 and counts[:2] == [2, 3]
    assert len(store.open_index(built).documents()) == 10
    assert_exact_statistics(built)
    assert_clean(built)


def test_candidates_of_a_large_index_hold_the_exact_best(segmented: Path, tiny: TinyEmbedder,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the small-index size, candidates come from nearest vectors and BM25: the exact top passages by
    cosine and by lexical match are among them, dead rows never are."""
    data = store.open_index(segmented)
    question = "What did Ruto say about the STIP talks?"
    q = tiny.vector(question)
    everything = data.candidates(q, tokens(question), terms(question), limit=10)
    monkeypatch.setattr(local_store, "SMALL_INDEX", 0)
    some = data.candidates(q, tokens(question), terms(question), limit=10)
    assert 10 <= len(some.passages) <= 20 < len(everything.passages) == data.size
    cos = everything.passage_vectors @ q
    tenth = np.sort(cos)[::-1][9]
    # rows tied with the tenth (the tiny embedder's vectors tie often) may be either side of the cut
    best = {everything.keys[i] for i in np.flatnonzero(cos > tenth + 1e-6)}
    assert best <= set(some.keys)
    assert not any("/001_" in p.source for p in some.passages)
    assert {p.source for p in some.passages} <= set(data.documents())
    assert some.sentence_df == everything.sentence_df and some.stats == everything.stats


DAMAGES = ["dangling CURRENT", "empty CURRENT", "no passages", "bad manifest", "old format", "vectors truncated",
           "vectors disagree", "passages truncated", "segment gone", "garbage vocabulary"]


def damage_index(index: Path, damage: str) -> None:
    seg = segments(index)[0]
    live = index / (index / "CURRENT").read_text(encoding="utf-8")
    if damage == "dangling CURRENT":
        (index / "CURRENT").write_text("manifest-does-not-exist.json", encoding="utf-8")
    elif damage == "empty CURRENT":
        (index / "CURRENT").write_text("", encoding="utf-8")
    elif damage == "no passages":
        (seg / "passages.jsonl").unlink()
    elif damage == "bad manifest":
        live.write_text("{not json", encoding="utf-8")
    elif damage == "old format":
        live.write_text(json.dumps({**manifest(index), "format": 1}), encoding="utf-8")
    elif damage == "vectors truncated":
        raw = (seg / "sentence_vectors.npy").read_bytes()
        (seg / "sentence_vectors.npy").write_bytes(raw[: len(raw) // 2])
    elif damage == "vectors disagree":
        np.save(seg / "sentence_vectors.npy", np.zeros((3, 64), dtype=np.float16))
    elif damage == "passages truncated":
        raw = (seg / "passages.jsonl").read_bytes()
        (seg / "passages.jsonl").write_bytes(raw[:-100])
    elif damage == "segment gone":
        segment.remove_folder(seg)
    else:
        (seg / "vocab.json").write_bytes(b"\x00\xff garbage")


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_index_is_reported_with_the_fix(built: Path, damage: str) -> None:
    damage_index(built, damage)
    with pytest.raises(IndexCorruptError) as exc:
        store.open_index(built)
    message = str(exc.value)
    assert str(built) in message and "\n" not in message
    # the fix is a field the front ends word, not command-line advice in the core's message
    assert exc.value.fix == REBUILD and exc.value.fields["index"] == str(built) and "qa " not in message


@pytest.mark.parametrize("damage", ["no passages", "bad manifest", "vectors truncated", "segment gone"])
def test_ingest_repairs_a_damaged_index(built: Path, seeds_copy: Path, tiny: TinyEmbedder, damage: str) -> None:
    damage_index(built, damage)
    report = ingest_paths([seeds_copy], built, tiny)
    assert len(report.added) == 5
    assert len(store.open_index(built).passages) == report.passages
    assert_clean(built)


@pytest.mark.parametrize("failing_write", range(1, 17))
def test_crash_during_write_leaves_the_previous_index_whole(
    built: Path, seeds_copy: Path, tiny: TinyEmbedder, monkeypatch: pytest.MonkeyPatch, failing_write: int,
) -> None:
    """Each file of the new segment, the manifest and the pointer fail in turn, half written."""
    before = snapshot(built)
    real_save, real_bytes = segment._save, segment._write_bytes
    calls: list[str] = []

    def tear(path: Path) -> None:
        path.write_bytes(b"half a fi")
        raise OSError(28, "No space left on device")

    def flaky_save(path: Path, array: np.ndarray) -> None:
        calls.append(path.name)
        if len(calls) == failing_write:
            tear(path)
        real_save(path, array)

    def flaky_bytes(path: Path, data: bytes) -> None:
        calls.append(path.name)
        if len(calls) == failing_write:
            tear(path)
        real_bytes(path, data)

    monkeypatch.setattr(segment, "_save", flaky_save)
    monkeypatch.setattr(segment, "_write_bytes", flaky_bytes)
    monkeypatch.setattr(local_manifest, "_write_bytes", flaky_bytes)
    _edit_one_seed(seeds_copy)
    with pytest.raises(StorageError, match="no space left"):
        ingest_paths([seeds_copy], built, tiny)
    assert len(calls) == failing_write
    assert_same(snapshot(built), before)

    monkeypatch.undo()
    report = ingest_paths([seeds_copy], built, tiny)
    assert len(report.updated) == 1
    assert_clean(built)
    assert any("STIP talks" in p.text for p in store.open_index(built).passages)


def test_crash_at_the_commit_rename_leaves_the_previous_index_whole(
    built: Path, seeds_copy: Path, tiny: TinyEmbedder, monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = snapshot(built)
    pointer = (built / "CURRENT").read_text(encoding="utf-8")

    def no_replace(src: object, dst: object) -> None:
        raise KeyboardInterrupt  # Ctrl-C just before the swap

    monkeypatch.setattr(os, "replace", no_replace)
    _edit_one_seed(seeds_copy)
    with pytest.raises(KeyboardInterrupt):
        ingest_paths([seeds_copy], built, tiny)
    monkeypatch.undo()
    assert (built / "CURRENT").read_text(encoding="utf-8") == pointer
    assert_same(snapshot(built), before)
    assert len([p for p in built.iterdir() if p.name.startswith("seg-")]) == 1  # the unused segment went at once

    ingest_paths([seeds_copy], built, tiny)
    assert_clean(built)


def test_interrupt_from_progress_leaves_the_previous_index_whole(built: Path, seeds_copy: Path, tiny: TinyEmbedder) -> None:
    before = snapshot(built)
    _edit_one_seed(seeds_copy)

    def progress(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest_paths([seeds_copy], built, tiny, progress=progress)
    assert_same(snapshot(built), before)
    assert_clean(built)


@pytest.mark.parametrize("damage", ["empty vectors", "narrow vectors", "garbage passage line"])
def test_damage_found_only_when_answering_is_reported_and_repaired(built: Path, seeds_copy: Path,
                                                                   tiny: TinyEmbedder, damage: str) -> None:
    seg = segments(built)[0]
    if damage == "empty vectors":
        (seg / "passage_vectors.npy").write_bytes(b"")
    elif damage == "narrow vectors":
        np.save(seg / "sentence_vectors.npy", np.load(seg / "sentence_vectors.npy")[:, :-1])
    else:
        raw = bytearray((seg / "passages.jsonl").read_bytes())
        raw[10:20] = b"#" * 10
        (seg / "passages.jsonl").write_bytes(bytes(raw))
    with pytest.raises(IndexCorruptError, match="is damaged") as exc:
        data = store.open_index(built)
        data.check()
    assert str(built) in str(exc.value)
    report = ingest_paths([seeds_copy], built, tiny)  # a plain ingest finds the damage and rebuilds
    assert len(report.added) == 5
    store.open_index(built).check()
