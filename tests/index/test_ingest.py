"""Incremental ingest: only what changed is embedded, removed files leave the index, files elsewhere are
left alone, and whatever the sequence of edits the index equals a fresh build of the folder."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from qa.documents import load_file, word_count
from qa.index import local as store
from qa.index.local import ingest_paths
from qa.index.representation import sentence_texts
from qa.passages import split_document
from tests.support.index_checks import derived_vectors
from tests.support.paths import SEEDS
from tests.support.tiny_embedder import TinyEmbedder


@pytest.fixture
def tiny() -> TinyEmbedder:
    return TinyEmbedder()


def texts_to_embed(*paths: Path) -> int:
    """How many texts a fresh ingest of these files (in ingest order) embeds with the default vectors: each
    distinct sentence and section heading of every batch of 256 passages."""
    passages = [p for f in sorted(f.resolve() for f in paths) for p in split_document(load_file(f))]
    return sum(len({*(s for p in passages[i:i + 256] for s in sentence_texts(p)),
                    *(p.section for p in passages[i:i + 256] if p.section)}) for i in range(0, len(passages), 256))


def expected_index(files: list[Path], tiny: TinyEmbedder) -> dict[tuple[str, int], tuple[dict, np.ndarray, np.ndarray, np.ndarray]]:
    """A fresh build of `files`, keyed by (source, char_start): passage, passage vector, sentence and window vectors."""
    return {(p.source, p.char_start): (p.to_dict(), *derived_vectors(p, tiny.vector))
            for f in files for p in split_document(load_file(f))}


def actual_index(index: Path) -> dict[tuple[str, int], tuple[dict, np.ndarray, np.ndarray, np.ndarray]]:
    data = store.open_index(index)
    out = {}
    for row, p in enumerate(data.passages):
        rows = data.sentence_rows(row)
        out[(p.source, p.char_start)] = (
            p.to_dict(),
            np.asarray(data.passage_vectors[row]),
            np.asarray(data.sentence_vectors[rows.start:rows.stop]),
            np.asarray(data.window_vectors[rows.start:rows.stop]),
        )
    assert len(out) == len(data.passages)
    return out


def assert_index_matches_files(index: Path, files: list[Path], tiny: TinyEmbedder) -> None:
    data = store.open_index(index)
    assert set(data.documents()) == {str(f.resolve()) for f in files}
    for f in files:
        doc = load_file(f)
        rec = data.documents()[doc.source]
        assert (rec.content_hash, rec.title, rec.date) == (doc.content_hash, doc.title, doc.date)
    want, got = expected_index(files, tiny), actual_index(index)
    assert set(got) == set(want)
    for key, (p, pv, sv, wv) in want.items():
        gp, gpv, gsv, gwv = got[key]
        assert gp == p
        assert all(np.allclose(a, b, atol=2e-3) for a, b in ((gpv, pv), (gsv, sv), (gwv, wv)))  # stored as float16


def seed_files(folder: Path) -> dict[str, Path]:
    return {p.name[:4]: p for p in sorted(folder.glob("*.txt"))}


def test_first_ingest_adds_every_seed(seeds_copy: Path, tmp_path: Path, tiny: TinyEmbedder) -> None:
    index = tmp_path / "index"
    progress: list[tuple[int, int]] = []
    report = ingest_paths([seeds_copy], index, tiny, progress=lambda d, t: progress.append((d, t)))
    files = list(seed_files(seeds_copy).values())
    assert sorted(report.added) == sorted(str(f.resolve()) for f in files)
    assert report.updated == report.removed == report.skipped == report.errors == []
    assert report.passages == sum(len(split_document(load_file(f))) for f in files)
    assert tiny.texts_encoded == texts_to_embed(*files)
    assert progress[-1] == (report.passages, report.passages)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert_index_matches_files(index, files, tiny)


def test_unchanged_files_are_skipped_and_not_embedded(seeds_copy: Path, tmp_path: Path, tiny: TinyEmbedder) -> None:
    index = tmp_path / "index"
    ingest_paths([seeds_copy], index, tiny)
    generation = (index / "CURRENT").read_text()
    tiny.reset()
    report = ingest_paths([seeds_copy], index, tiny)
    assert len(report.skipped) == 5 and not report.changed
    assert tiny.calls == []
    assert (index / "CURRENT").read_text() == generation  # nothing rewritten


def test_changed_file_is_updated_and_only_it_is_embedded(seeds_copy: Path, tmp_path: Path, tiny: TinyEmbedder) -> None:
    index = tmp_path / "index"
    ingest_paths([seeds_copy], index, tiny)
    before = actual_index(index)
    files = seed_files(seeds_copy)
    changed = files["002_"]
    changed.write_text(changed.read_text(encoding="utf-8").replace("Ksh.38.5 billion", "Ksh.40 billion"), encoding="utf-8")
    tiny.reset()
    report = ingest_paths([seeds_copy], index, tiny)
    assert report.updated == [str(changed.resolve())]
    assert report.added == report.removed == []
    assert len(report.skipped) == 4
    assert tiny.texts_encoded == texts_to_embed(changed)
    after = actual_index(index)
    for key, value in before.items():
        if key[0] != str(changed.resolve()):
            assert after[key][0] == value[0] and np.array_equal(after[key][1], value[1])  # kept vectors, untouched
    texts = [v[0]["text"] for k, v in after.items() if k[0] == str(changed.resolve())]
    assert any("Ksh.40 billion" in t for t in texts) and not any("38.5" in t for t in texts)
    assert_index_matches_files(index, list(files.values()), tiny)


def test_removed_file_is_dropped_and_new_file_added(seeds_copy: Path, tmp_path: Path, tiny: TinyEmbedder) -> None:
    index = tmp_path / "index"
    ingest_paths([seeds_copy], index, tiny)
    files = seed_files(seeds_copy)
    gone = files.pop("001_")
    gone.unlink()
    new = seeds_copy / "sub" / "005_new.md"
    new.parent.mkdir()
    new.write_text("# Macron calls Ruto\n\nPresident Macron spoke with President Ruto about Congo.\n", encoding="utf-8")
    tiny.reset()
    report = ingest_paths([seeds_copy], index, tiny)
    assert report.removed == [str(gone.resolve())]
    assert report.added == [str(new.resolve())]
    assert len(report.skipped) == 4
    assert tiny.texts_encoded == texts_to_embed(new)
    assert_index_matches_files(index, [*files.values(), new], tiny)


def test_file_that_became_unreadable_keeps_its_passages(seeds_copy: Path, tmp_path: Path, tiny: TinyEmbedder) -> None:
    index = tmp_path / "index"
    ingest_paths([seeds_copy], index, tiny)
    files = seed_files(seeds_copy)
    before = actual_index(index)
    files["000_"].write_bytes(b"\x00\x01 not text any more \x00")
    report = ingest_paths([seeds_copy], index, tiny)
    assert len(report.errors) == 1 and "000_" in report.errors[0] and "binary" in report.errors[0]
    assert report.removed == []
    assert actual_index(index).keys() == before.keys()


def test_bad_file_does_not_stop_the_others(seeds_copy: Path, tmp_path: Path, tiny: TinyEmbedder) -> None:
    index = tmp_path / "index"
    (seeds_copy / "bad.bin.txt").write_bytes(b"\x00\x01\x02 an image \x00")
    (seeds_copy / "latin1.txt").write_bytes("Ruto à Paris.".encode("latin-1"))
    (seeds_copy / "blank.md").write_text("\n\n", encoding="utf-8")
    report = ingest_paths([seeds_copy], index, tiny)
    assert len(report.added) == 6  # the seeds and the Latin-1 file, read with a warning
    assert sorted(Path(e.split(":")[0]).name for e in report.errors) == ["bad.bin.txt", "blank.md"]
    assert len(report.warnings) == 1 and "latin1.txt" in report.warnings[0]
    assert len(store.open_index(index).documents()) == 6


def test_real_model_vectors_are_those_of_the_passages(seeds_index: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """In the index built with the real model, each row holds the embedding of its own sentences, and the
    passage and window vectors derived from them."""
    data = store.open_index(seeds_index, model=embedder.name)

    def vector(text: str) -> np.ndarray:
        return embedder.encode([text])[0]

    for r in range(0, len(data.passages), 7):
        srows = data.sentence_rows(r)
        pv, sv, wv = derived_vectors(data.passages[r], vector)
        assert np.allclose(np.asarray(data.passage_vectors[r]), pv, atol=2e-3)
        assert np.allclose(np.asarray(data.sentence_vectors[srows.start:srows.stop]), sv, atol=2e-3)
        assert np.allclose(np.asarray(data.window_vectors[srows.start:srows.stop]), wv, atol=2e-3)
    assert np.allclose(np.linalg.norm(np.asarray(data.sentence_vectors), axis=1), 1.0, atol=2e-3)


# ---- any sequence of edits and ingests ends with the index a fresh build would give -------------------------

_SENTENCES = [line.strip() for f in sorted(SEEDS.glob("*.txt")) for line in f.read_text(encoding="utf-8").splitlines()
              if len(line.split()) > 14 and line.strip().endswith((".", "”", '"'))]
_ARTICLE = st.builds(
    lambda title, paras: title + "\n\n" + "\n\n".join(paras) + "\n",
    st.sampled_from(["Ruto Speaks With Trump", "Haiti Mission Update", "Trade Talks With Washington", "Untitled"]),
    st.lists(st.sampled_from(_SENTENCES), min_size=1, max_size=5),
)
_NAMES = ["a.txt", "b.txt", "c.md", "nested/d.txt", "nested/deeper/e.txt"]


class IngestMachine(RuleBasedStateMachine):
    """Files come, change and go; at every ingest the report and the index must agree with the folder."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="qa-ingest-"))
        self.folder = self.tmp / "corpus"
        self.folder.mkdir()
        self.index = self.tmp / "index"
        self.tiny = TinyEmbedder()
        self.ingested: dict[str, str] = {}  # name -> content at the last ingest
        self.current: dict[str, str] = {}

    @initialize(outside=_ARTICLE)
    def outside_file(self, outside: str) -> None:
        """A document from another folder shares the index and must never be touched."""
        self.outside = self.tmp / "elsewhere.txt"
        self.outside.write_text(outside, encoding="utf-8")
        ingest_paths([self.outside], self.index, self.tiny)

    @rule(name=st.sampled_from(_NAMES), content=_ARTICLE)
    def write(self, name: str, content: str) -> None:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        self.current[name] = content

    @precondition(lambda self: bool(self.current))
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.current)))
        (self.folder / name).unlink()
        del self.current[name]

    @rule()
    def ingest(self) -> None:
        self.tiny.reset()
        report = ingest_paths([self.folder], self.index, self.tiny)
        src = {n: str((self.folder / n).resolve()) for n in set(self.current) | set(self.ingested)}
        added = {src[n] for n in self.current if n not in self.ingested}
        updated = {src[n] for n in self.current if n in self.ingested and self.ingested[n] != self.current[n]}
        removed = {src[n] for n in self.ingested if n not in self.current}
        skipped = {src[n] for n in self.current if self.ingested.get(n) == self.current[n]}
        assert (set(report.added), set(report.updated), set(report.removed), set(report.skipped)) == (
            added, updated, removed, skipped)
        assert self.tiny.texts_encoded == texts_to_embed(*(self.folder / n for n in self.current
                                                           if src[n] in added | updated))
        self.ingested = dict(self.current)
        assert_index_matches_files(self.index, [self.outside, *(self.folder / n for n in self.ingested)], self.tiny)

    @invariant()
    def index_opens(self) -> None:
        if store.exists(self.index):
            data = store.open_index(self.index, model=self.tiny.name)
            assert str(self.outside.resolve()) in data.documents()

    def teardown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


IngestMachine.TestCase.settings = settings(
    max_examples=50, stateful_step_count=12, deadline=None, suppress_health_check=[HealthCheck.too_slow],
)
TestIngestSequences = IngestMachine.TestCase


def test_sentence_vectors_once_derives_windows_and_passages_from_them(embedder: Any) -> None:
    """`--vectors sentences`: each sentence is embedded once; windows and passages are their word-weighted means."""
    from qa.documents import parse_text
    from qa.index.pipeline import embed_passages, embed_sentences_once

    doc = parse_text("/t/a.txt", "Port news\n\nTalks\n\nThe port opened a terminal. It can handle ships. Trade grew fast.\n")
    (p,) = split_document(doc)
    pv, sv, wv = embed_sentences_once([p], embedder)
    full_pv, full_sv, full_wv = embed_passages([p], embedder)
    assert np.allclose(sv, full_sv, atol=1e-5)  # the sentences are embedded exactly as before
    w = np.array([word_count(s) for s in p.sentence_texts()], dtype=np.float32)[:, None]
    first_window = (sv[:2] * w[:2]).sum(axis=0)
    assert np.allclose(wv[0], first_window / np.linalg.norm(first_window), atol=1e-5)
    whole = (sv * w).sum(axis=0) + embedder.encode(["Talks"])[0] * 1
    assert np.allclose(pv[0], whole / np.linalg.norm(whole), atol=1e-5)
    # close to what embedding the whole texts gives, not the same: hence opt-in
    assert float(pv[0] @ full_pv[0]) > 0.8 and all(float(a @ b) > 0.8 for a, b in zip(wv, full_wv, strict=True))
