"""What every embedder is: a model name, a backend, and texts in, L2-normalised float32 vectors out.

Backends: "torch" (sentence-transformers) and "onnx" (its ONNX export) give the same vectors (cosine
> 0.999), so either can query an index built by the other; "onnx-int8" vectors are close but not the
same, so an index records the backend it was built with.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from qa.config import BACKENDS
from qa.errors import ConfigError


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str

    @property
    def dim(self) -> int: ...

    def encode(self, texts: list[str]) -> np.ndarray: ...


def backend_of(embedder: Embedder) -> str:
    """The backend an embedder runs on; embedders that do not say (test stand-ins) count as "torch"."""
    return str(getattr(embedder, "backend", "torch"))


def vector_kind(backend: str) -> str:
    """Which backends give interchangeable vectors: "float32" for torch and onnx, "int8" for onnx-int8.

    An index may be queried by any backend of the kind it was built with.
    """
    return "int8" if backend == "onnx-int8" else "float32"


def check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")


