"""A segment's lexical candidates: postings ordered by score, a top-k over them that is the exhaustive BM25
top-k, and a long list read only at its head, within a bound that the tests check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.index.local import ingest_paths
from qa.index.local import store as local_store
from qa.index.local.segment import impact_top
from qa.text.lexical import terms
from tests.support.tiny_embedder import TinyEmbedder


def exhaustive(data: np.ndarray, indices: np.ndarray, spans: list[tuple[int, int]], n_rows: int) -> np.ndarray:
    acc = np.zeros(n_rows)
    for lo, hi in spans:
        acc[indices[lo:hi]] += data[lo:hi]
    return acc


def impact_lists(rng: np.random.Generator, n_rows: int, lengths: list[int], skew: float
                 ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Postings lists of the given lengths over `n_rows` rows, each ordered by score, highest first."""
    data, indices, spans, at = [], [], [], 0
    for i, n in enumerate(lengths):
        rows = rng.choice(n_rows, size=min(n, n_rows), replace=False)
        scores = (rng.pareto(skew, size=len(rows)) + 0.1) * (i + 1)
        order = np.argsort(-scores, kind="stable")
        data.append(scores[order].astype(np.float32))
        indices.append(rows[order])
        spans.append((at, at + len(rows)))
        at += len(rows)
    return np.concatenate(data), np.concatenate(indices), spans


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), lengths=st.lists(st.integers(1, 20_000), min_size=1, max_size=5),
       k=st.integers(1, 150), skew=st.floats(0.5, 4.0))
def test_the_top_k_is_the_exhaustive_top_k(seed: int, lengths: list[int], k: int, skew: float) -> None:
    rng = np.random.default_rng(seed)
    n_rows = 30_000
    data, indices, spans = impact_lists(rng, n_rows, lengths, skew)
    exact = exhaustive(data, indices, spans, n_rows)
    rows, scores = impact_top(data, indices, spans, k, n_rows, budget=20_000)
    hit = np.count_nonzero(exact)
    assert len(rows) == min(k, hit) == len(set(rows.tolist()))
    # the same k best scores (ties may pick different rows of equal score)
    assert np.allclose(np.sort(exact[rows])[::-1], np.sort(exact)[::-1][:len(rows)], rtol=1e-5)
    assert np.allclose(scores, exact[rows], rtol=1e-5)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), lengths=st.lists(st.integers(1, 20_000), min_size=1, max_size=5),
       k=st.integers(1, 150), skew=st.floats(0.5, 4.0), budget=st.integers(1, 5_000))
def test_past_its_budget_no_row_falls_short_by_more_than_the_unread_bound(
        seed: int, lengths: list[int], k: int, skew: float, budget: int) -> None:
    rng = np.random.default_rng(seed)
    data, indices, spans = impact_lists(rng, 30_000, lengths, skew)
    exact = exhaustive(data, indices, spans, 30_000)
    rows, scores = impact_top(data, indices, spans, k, 30_000, budget=budget)
    assert len(rows) == min(k, len(np.unique(np.concatenate([indices[lo:min(hi, lo + budget)] for lo, hi in spans]))))
    bound = sum(float(data[lo + budget]) for lo, hi in spans if hi - lo > budget)
    kth = np.sort(exact)[::-1][len(rows) - 1]
    assert np.all(exact[rows] >= kth - bound - 1e-4)
    assert np.all(scores <= exact[rows] * (1 + 1e-5))  # a head's sum never overstates a row's score


def test_a_long_list_is_read_only_at_its_head() -> None:
    """With one rare term and one in every row, the long list is read only up to the budget, and the rows
    found are still the exact best: the head holds the long list's highest scores."""
    rng = np.random.default_rng(3)
    data, indices, spans = impact_lists(rng, 200_000, [50, 200_000], skew=3.0)
    touched: list[int] = []

    class Recording(np.ndarray):
        def __getitem__(self, item):  # type: ignore[no-untyped-def]
            if isinstance(item, slice):
                touched.append(len(range(*item.indices(len(self)))))
            return super().__getitem__(item)

    rows, _ = impact_top(data, indices.view(Recording), spans, 10, 200_000, budget=16_384)
    exact = exhaustive(data, indices, spans, 200_000)
    assert set(rows.tolist()) == set(np.argsort(-exact)[:10].tolist())
    assert touched == [50, 16_384]  # of 200,050 postings


def test_a_segment_writes_its_postings_by_score_and_answers_as_an_exhaustive_sum(seeds_copy: Path,
                                                                                  tmp_path: Path) -> None:
    index = tmp_path / "index"
    ingest_paths([seeds_copy], index, TinyEmbedder())
    seg = local_store.open_index(index).segments[0]
    assert seg.impact_ordered
    data, indices, indptr, _ = seg.bm25
    for lo, hi in zip(indptr[:-1], indptr[1:], strict=True):
        assert np.all(np.diff(data[lo:hi]) <= 0)
    for question in ("What did Ruto say about the STIP talks?", "Who is the US State Department spokesperson?"):
        qterms = terms(question)
        rows, _ = seg.lexical_top(qterms, 5)
        vocab = seg.bm25[3]
        spans = [(int(indptr[vocab[t]]), int(indptr[vocab[t] + 1])) for t in dict.fromkeys(qterms) if t in vocab]
        exact = exhaustive(data, indices, spans, seg.size)
        assert np.allclose(np.sort(exact[rows])[::-1], np.sort(exact)[::-1][:5])
        assert list(rows) == sorted(rows)
