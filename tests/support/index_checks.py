"""Helpers for the crash, concurrency and damaged-index tests: test corpora and a black-box view of an index;
and the vectors the default ingest gives a passage, for the tests that check them.

The store's layout on disk is being replaced (segments and a manifest, float16 vectors, an ANN index), so
everything here goes through the public surface only: `store.open_index`, `store.exists`, and what the
opened index offers (`documents`, `passages`, and the three vector arrays).
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.documents import word_count
from qa.index import local as store
from qa.index.representation import sentence_texts
from qa.passages import Passage
from tests.support.paths import SEEDS

ATOL = 2e-3  # float16 keeps about three decimal digits of a unit vector's coordinates

# Real sentences of the seed articles, so generated articles split and embed like real ones.
SEED_SENTENCES = [
    line.strip()
    for f in sorted(SEEDS.glob("*.txt"))
    for line in f.read_text(encoding="utf-8").splitlines()
    if len(line.split()) > 12 and line.strip().endswith((".", "”", '"'))
]
_HEADLINES = ["Ruto Speaks With Trump", "Haiti Mission Update", "Trade Talks With Washington", "Regional Security Talks",
              "Kenya And The United States", "Peace Initiatives In The Region"]


def write_article(path: Path, rng: random.Random, paragraphs: int) -> None:
    """An article of real seed sentences: a headline, then paragraphs of one to four sentences."""
    paras = [" ".join(rng.sample(SEED_SENTENCES, rng.randint(1, 4))) for _ in range(paragraphs)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rng.choice(_HEADLINES) + f" {path.stem}\n\n" + "\n\n".join(paras) + "\n", encoding="utf-8")


def make_corpus(folder: Path, articles: int, seed: int, paragraphs: int = 8) -> Path:
    """The five seeds plus `articles` generated ones, in nested folders, the same for the same seed."""
    rng = random.Random(seed)
    shutil.copytree(SEEDS, folder)
    for i in range(articles):
        write_article(folder / f"gen{i % 3}" / f"article-{i:03d}.txt", rng, paragraphs)
    return folder


def change_corpus(folder: Path, seed: int) -> None:
    """Edit, delete and add articles, so an incremental ingest updates, removes and adds documents."""
    rng = random.Random(seed)
    files = sorted(folder.rglob("*.txt"))
    for f in files[::3]:  # a third of the articles are rewritten
        write_article(f, rng, rng.randint(3, 10))
    for f in files[1::7]:  # some are deleted
        f.unlink()
    for i in range(max(2, len(files) // 10)):  # and some are new
        write_article(folder / "new" / f"fresh-{i:03d}.txt", rng, rng.randint(3, 10))


@dataclass
class Snapshot:
    """What an index holds, grouped by document so that equal contents compare equal whatever the row order."""

    documents: dict[str, tuple[str, str | None, str | None, int]]  # source -> content_hash, title, date, passages
    passages: dict[str, list[dict]]  # source -> its passages, in row order
    vectors: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # source -> passage, sentence, window rows

    @property
    def passage_count(self) -> int:
        return sum(len(ps) for ps in self.passages.values())


def snapshot(index_dir: Path) -> Snapshot:
    """Open the index and read all of it, checking that its parts agree with one another."""
    return snapshot_of(store.open_index(index_dir))


def snapshot_of(data: Any) -> Snapshot:
    """Read all of an opened index, checking that its parts agree with one another."""
    passages = list(data.passages)
    pv = np.asarray(data.passage_vectors, dtype=np.float32)
    sv = np.asarray(data.sentence_vectors, dtype=np.float32)
    wv = np.asarray(data.window_vectors, dtype=np.float32)
    n_sentences = sum(len(p.sentences) for p in passages)
    assert len(pv) == len(passages), f"{len(pv)} passage vectors for {len(passages)} passages"
    assert len(sv) == len(wv) == n_sentences, f"{len(sv)} sentence, {len(wv)} window vectors, {n_sentences} sentences"
    docs = {s: (r.content_hash, r.title, r.date, int(r.passages)) for s, r in data.documents().items()}
    by_source: dict[str, list[dict]] = {}
    rows: dict[str, list[int]] = {}
    sentence_rows: dict[str, list[int]] = {}
    first_sentence = 0
    for row, p in enumerate(passages):
        by_source.setdefault(p.source, []).append(p.to_dict())
        rows.setdefault(p.source, []).append(row)
        # sentence and window vectors hold one row per sentence, passage after passage
        sentence_rows.setdefault(p.source, []).extend(range(first_sentence, first_sentence + len(p.sentences)))
        first_sentence += len(p.sentences)
    assert set(by_source) == set(docs), "documents and passages name different sources"
    for source, ps in by_source.items():
        assert docs[source][3] == len(ps), f"{source}: record says {docs[source][3]} passages, index has {len(ps)}"
    vectors = {s: (pv[rows[s]], sv[sentence_rows[s]], wv[sentence_rows[s]]) for s in by_source}
    return Snapshot(docs, by_source, vectors)


def difference(a: Snapshot, b: Snapshot, atol: float = ATOL) -> str | None:
    """Where two snapshots differ, in words; None when they hold the same documents, passages and vectors."""
    docs_a, docs_b = a.documents, b.documents
    if docs_a != docs_b:
        only_a, only_b = sorted(set(docs_a) - set(docs_b)), sorted(set(docs_b) - set(docs_a))
        changed = sorted(s for s in set(docs_a) & set(docs_b) if docs_a[s] != docs_b[s])
        return f"documents differ: only first {only_a[:3]}, only second {only_b[:3]}, changed {changed[:3]}"
    for source in sorted(a.passages):
        if a.passages[source] != b.passages[source]:
            return f"passages of {source} differ"
        for name, x, y in zip(("passage", "sentence", "window"), a.vectors[source], b.vectors[source], strict=True):
            if x.shape != y.shape or not np.allclose(x, y, atol=atol):
                return f"{name} vectors of {source} differ"
    return None


def which(state: Snapshot, named: dict[str, Snapshot]) -> str | None:
    """The name of the snapshot `state` equals, or None."""
    return next((name for name, snap in named.items() if difference(state, snap) is None), None)


def tree(path: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under `path` with its size and modification time: what changed on disk."""
    out: dict[str, tuple[int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for name in [*dirnames, *filenames]:
            full = os.path.join(dirpath, name)
            try:
                st = os.lstat(full)
            except FileNotFoundError:  # removed while we looked
                continue
            out[os.path.relpath(full, path)] = (st.st_size, st.st_mtime_ns)
    return out


def disk_bytes(path: Path) -> int:
    return sum(size for size, _ in tree(path).values())


def files_matching(index_dir: Path, patterns: Iterable[str]) -> list[Path]:
    return sorted({p for pattern in patterns for p in index_dir.glob(pattern) if p.is_file()})


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def derived_vectors(p: Passage, vector: Callable[[str], np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A passage's vectors as the default ingest makes them: its sentences embedded alone, each window the
    word-weighted mean of its sentence and their neighbours, the passage that of its sentences and heading."""
    sv = np.stack([vector(s) for s in sentence_texts(p)])
    weighted = sv * np.array([max(1, word_count(s)) for s in sentence_texts(p)], dtype=np.float32)[:, None]
    wv = _unit(np.stack([weighted[max(0, j - 1):j + 2].sum(axis=0) for j in range(len(sv))]))
    whole = weighted.sum(axis=0) + (vector(p.section) * max(1, word_count(p.section)) if p.section else 0)
    return _unit(whole), sv, wv
