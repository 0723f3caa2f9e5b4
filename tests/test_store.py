"""The vector store: round trips, damaged and mismatched indexes, and atomic replacement when a write dies."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tiny_embedder import TinyEmbedder

from qa import store
from qa.errors import IndexCorruptError, IndexMissingError, ModelMismatchError
from qa.ingest import ingest_paths
from qa.representation import passage_text, sentence_texts, window_texts


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
            np.array(data.window_vectors), {k: vars(v) for k, v in data.documents.items()})


def assert_same(a: tuple, b: tuple) -> None:
    assert a[0] == b[0]
    for x, y in zip(a[1:4], b[1:4], strict=True):
        assert np.array_equal(x, y)
    assert a[4] == b[4]


def live_generation(index: Path) -> str:
    return (index / "CURRENT").read_text(encoding="utf-8").strip()


def test_round_trip_keeps_passages_vectors_and_rows_aligned(built: Path, tiny: TinyEmbedder) -> None:
    data = store.open_index(built, model=tiny.name)
    assert data.model == tiny.name and data.dim == tiny.dim
    assert len(data.documents) == 5
    assert sum(d.passages for d in data.documents.values()) == len(data.passages)
    for row, p in enumerate(data.passages):
        assert np.allclose(data.passage_vectors[row], tiny.vector(passage_text(p)))
        rows = data.sentence_rows(row)
        assert len(rows) == len(p.sentences)
        for r, s, w in zip(rows, sentence_texts(p), window_texts(p), strict=True):
            assert data.sentence_owner[r] == row
            assert np.allclose(data.sentence_vectors[r], tiny.vector(s))
            assert np.allclose(data.window_vectors[r], tiny.vector(w))


def test_write_then_open_gives_back_the_same_data(built: Path, tmp_path: Path) -> None:
    data = store.open_index(built)
    copy = tmp_path / "copy"
    store.write_index(copy, data)
    assert_same(snapshot(copy), snapshot(built))


def test_missing_index(tmp_path: Path) -> None:
    assert not store.exists(tmp_path / "nothing")
    with pytest.raises(IndexMissingError, match="qa ingest"):
        store.open_index(tmp_path / "nothing")


def test_model_mismatch_asks_for_a_re_ingest(built: Path) -> None:
    with pytest.raises(ModelMismatchError, match="re-ingest") as exc:
        store.open_index(built, model="all-mpnet-base-v2")
    assert "tiny-hash-64" in str(exc.value) and "all-mpnet-base-v2" in str(exc.value)


def test_ingest_with_another_model_is_refused_then_rebuilt(built: Path, seeds_copy: Path) -> None:
    other = TinyEmbedder(name="other-model")
    with pytest.raises(ModelMismatchError, match="--rebuild"):
        ingest_paths([seeds_copy], built, other)
    assert store.open_index(built).model == "tiny-hash-64"
    report = ingest_paths([seeds_copy], built, other, rebuild=True)
    assert len(report.added) == 5
    assert store.open_index(built, model="other-model").model == "other-model"


@pytest.mark.parametrize(
    "damage",
    ["dangling CURRENT", "empty CURRENT", "no passages", "bad manifest", "old format", "vectors disagree"],
)
def test_damaged_index_is_reported_not_crashed(built: Path, damage: str) -> None:
    gen = built / live_generation(built)
    if damage == "dangling CURRENT":
        (built / "CURRENT").write_text("gen-does-not-exist", encoding="utf-8")
    elif damage == "empty CURRENT":
        (built / "CURRENT").write_text("", encoding="utf-8")
    elif damage == "no passages":
        (gen / "passages.jsonl").unlink()
    elif damage == "bad manifest":
        (gen / "manifest.json").write_text("{not json", encoding="utf-8")
    elif damage == "old format":
        manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
        (gen / "manifest.json").write_text(json.dumps({**manifest, "format": 1}), encoding="utf-8")
    else:
        np.save(gen / "sentence_vectors.npy", np.zeros((3, 64), dtype=np.float32))
    with pytest.raises(IndexCorruptError, match="re-ingest"):
        store.open_index(built)


def test_ingest_repairs_a_damaged_index(built: Path, seeds_copy: Path, tiny: TinyEmbedder) -> None:
    (built / live_generation(built) / "passages.jsonl").unlink()
    report = ingest_paths([seeds_copy], built, tiny)
    assert len(report.added) == 5
    assert len(store.open_index(built).passages) == report.passages


def _edit_one_seed(folder: Path) -> Path:
    path = sorted(folder.glob("003_*.txt"))[0]
    path.write_text(path.read_text(encoding="utf-8") + "\nA new closing paragraph about the STIP talks.\n",
                    encoding="utf-8")
    return path


def assert_clean(index: Path) -> None:
    """After a successful write only the live generation, the pointer and the lock remain."""
    assert {p.name for p in index.iterdir()} == {"CURRENT", ".lock", live_generation(index)}


@pytest.mark.parametrize("failing_write", [1, 2, 3, 4, 5, 6])
def test_crash_during_write_leaves_the_previous_index_whole(
    built: Path, seeds_copy: Path, tiny: TinyEmbedder, monkeypatch: pytest.MonkeyPatch, failing_write: int,
) -> None:
    """The write of the manifest, passages, three vector files and the CURRENT pointer each fail in turn."""
    before = snapshot(built)
    real = store._write_file
    calls = []

    def flaky(path: Path, write: object) -> None:
        calls.append(path.name)
        if len(calls) == failing_write:
            real(path, lambda fh: fh.write(b"half a fi"))  # a torn file, then the process dies
            raise OSError(28, "No space left on device")
        real(path, write)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "_write_file", flaky)
    _edit_one_seed(seeds_copy)
    with pytest.raises(OSError, match="No space"):
        ingest_paths([seeds_copy], built, tiny)
    assert len(calls) == failing_write
    assert_same(snapshot(built), before)

    monkeypatch.setattr(store, "_write_file", real)
    report = ingest_paths([seeds_copy], built, tiny)
    assert len(report.updated) == 1
    assert_clean(built)
    assert any("STIP talks" in p.text for p in store.open_index(built).passages)


def test_crash_at_the_commit_rename_leaves_the_previous_index_whole(
    built: Path, seeds_copy: Path, tiny: TinyEmbedder, monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = snapshot(built)
    generation = live_generation(built)

    def no_replace(src: object, dst: object) -> None:
        raise KeyboardInterrupt  # Ctrl-C just before the swap

    monkeypatch.setattr(store.os, "replace", no_replace)
    _edit_one_seed(seeds_copy)
    with pytest.raises(KeyboardInterrupt):
        ingest_paths([seeds_copy], built, tiny)
    monkeypatch.undo()
    assert live_generation(built) == generation
    assert_same(snapshot(built), before)
    assert len([p for p in built.iterdir() if p.name.startswith("gen-")]) == 2  # the orphan is still there

    ingest_paths([seeds_copy], built, tiny)
    assert_clean(built)


def test_crash_in_numpy_save_leaves_the_previous_index_whole(
    built: Path, seeds_copy: Path, tiny: TinyEmbedder, monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = snapshot(built)
    real_save = np.save
    saves = []

    def save_then_die(fh: object, arr: np.ndarray, *args: object, **kwargs: object) -> None:
        saves.append(1)
        if len(saves) == 2:
            raise MemoryError
        real_save(fh, arr, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store.np, "save", save_then_die)
    _edit_one_seed(seeds_copy)
    with pytest.raises(MemoryError):
        ingest_paths([seeds_copy], built, tiny)
    monkeypatch.undo()
    assert_same(snapshot(built), before)
    assert any(p.name.startswith(".tmp-gen-") for p in built.iterdir())  # the torn write is left behind ...
    ingest_paths([seeds_copy], built, tiny)
    assert_clean(built)  # ... until the next write removes it


def test_interrupt_from_progress_leaves_the_previous_index_whole(built: Path, seeds_copy: Path, tiny: TinyEmbedder) -> None:
    before = snapshot(built)
    _edit_one_seed(seeds_copy)

    def progress(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest_paths([seeds_copy], built, tiny, progress=progress)
    assert_same(snapshot(built), before)
    assert_clean(built)


def test_index_data_refuses_vectors_that_do_not_match_passages(built: Path) -> None:
    data = store.open_index(built)
    with pytest.raises(IndexCorruptError):
        store.IndexData(data.model, data.dim, data.documents, data.passages, np.asarray(data.passage_vectors)[:-1],
                        data.sentence_vectors, data.window_vectors)
