"""A deterministic stand-in for the sentence-transformers model, for fast unit tests of ingest and the store.

Each text becomes a normalised bag of hashed words in 64 dimensions, so equal texts get equal vectors,
texts sharing words get close vectors, and the embedder counts exactly what it was asked to encode.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

_WORD = re.compile(r"\w+")


class TinyEmbedder:
    """Hashing bag-of-words embedder that records every call to `encode`."""

    def __init__(self, name: str = "tiny-hash-64", dim: int = 64) -> None:
        self.name = name
        self._dim = dim
        self.calls: list[list[str]] = []

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def texts_encoded(self) -> int:
        return sum(len(c) for c in self.calls)

    def reset(self) -> None:
        self.calls.clear()

    def vector(self, text: str) -> np.ndarray:
        v = np.zeros(self._dim, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            h = hashlib.blake2b(word.encode(), digest_size=8).digest()
            v[h[0] % self._dim] += 1.0 if h[1] % 2 else -1.0
        if not v.any():
            v[0] = 1.0
        return v / np.linalg.norm(v)

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return np.stack([self.vector(t) for t in texts]).astype(np.float32)
