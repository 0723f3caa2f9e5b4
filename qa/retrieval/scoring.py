"""The lexical signals of retrieval, computed over candidate rows with the store-wide counts: BM25 and
the (IDF-weighted) share of the question's terms a text holds."""

from __future__ import annotations

import math

import numpy as np


def max_normalised(scores: np.ndarray) -> np.ndarray:
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else scores


def bm25(tf: np.ndarray, lengths: np.ndarray, columns: list[str], query_tokens: list[str], df: dict[str, int],
         n_docs: int, total_tokens: int, k1: float = 1.2, b: float = 0.9) -> np.ndarray:
    """BM25 (ATIRE, as bm25s computes it) of each row of `tf` (counts of `columns`), with the store-wide
    document frequencies `df` over `n_docs` documents of `total_tokens` tokens in all."""
    weight = np.zeros(len(columns), dtype=np.float32)
    for t in query_tokens:
        if df.get(t, 0) > 0:
            weight[columns.index(t)] += math.log(n_docs / df[t])  # a repeated query word counts again, as in bm25s
    if not weight.any() or not len(tf):
        return np.zeros(len(tf), dtype=np.float32)
    dl = np.maximum(lengths.astype(np.float32), 1.0)
    norm = k1 * (1 - b + b * dl / (total_tokens / n_docs))
    return ((tf * (k1 + 1) / (tf + norm[:, None])) @ weight).astype(np.float32)


def coverage(tf: np.ndarray, columns: list[str], query_terms: list[str], df: dict[str, int] | None = None,
             n_docs: int = 0) -> np.ndarray:
    """Per row of `tf`: share of the question's distinct terms it holds, IDF-weighted when `df` is given."""
    unique = list(dict.fromkeys(query_terms))
    if not unique or not len(tf):
        return np.zeros(len(tf), dtype=np.float32)
    if df is None:
        weights = np.ones(len(unique), dtype=np.float32)
    else:
        weights = np.array([math.log(1 + (n_docs - df.get(t, 0) + 0.5) / (df.get(t, 0) + 0.5)) for t in unique],
                           dtype=np.float32)
    present = tf[:, [columns.index(t) for t in unique]] > 0
    return (present @ weights / weights.sum()).astype(np.float32)
