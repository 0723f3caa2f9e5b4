"""Embedding with an ONNX export (see `qa.embedding.onnx_export`), using onnxruntime and tokenizers only.

Importing torch and sentence-transformers takes several seconds; onnxruntime and tokenizers load in a
fraction of that. Nothing here imports onnxruntime before the first text is embedded.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from qa.embedding.onnx_format import FP32_FILE, INT8_FILE, OUTPUT, TOKENIZER_FILE, read_meta
from qa.embedding.onnx_session import cores, load_tokenizer, open_session, padded_feed
from qa.errors import INGEST, ModelLoadError


class OnnxEmbedder:
    """Embeds with an export made by `export_onnx`, using onnxruntime and tokenizers only.

    Loads on first use (thread-safe). Texts are embedded in batches of similar length, so a batch
    carries little padding: the vectors are the same either way, the time is not.
    """

    def __init__(self, folder: Path, name: str, quantized: bool = False, *, batch_size: int = 32,
                 threads: int | None = None, meta: dict[str, Any] | None = None) -> None:
        self.folder = Path(folder)
        self.name = name
        self.quantized = quantized
        self.backend = "onnx-int8" if quantized else "onnx"
        self.batch_size = batch_size
        self.threads = threads or cores()
        self._meta = meta
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _read_meta(self) -> dict[str, Any]:
        if self._meta is None:
            meta = read_meta(self.folder)
            if meta is None:
                raise ModelLoadError(f"no complete ONNX export at {self.folder}", fix=INGEST)
            if self.quantized and not meta.get("quantized"):
                raise ModelLoadError(f"the ONNX export at {self.folder} has no int8 model")
            self._meta = meta
        return self._meta

    def load(self) -> None:
        """Open the session and the tokenizer now (later calls return at once)."""
        with self._lock:
            if self._session is not None:
                return
            meta = self._read_meta()
            what = f"the ONNX export at {self.folder}"
            tokenizer = load_tokenizer(self.folder / TOKENIZER_FILE, int(meta["max_seq_length"]), what)
            model_file = self.folder / (INT8_FILE if self.quantized else FP32_FILE)
            self._tokenizer = tokenizer
            self._session = open_session(model_file, self.threads, "the ONNX export")

    @property
    def dim(self) -> int:
        return int(self._read_meta()["dim"])

    @property
    def max_seq_length(self) -> int:
        return int(self._read_meta()["max_seq_length"])

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed `texts` as L2-normalised float32 rows, in the order given."""
        self.load()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        meta = self._meta
        assert meta is not None
        encodings = self._tokenizer.encode_batch([str(t) for t in texts])
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            feed = padded_feed([encodings[i] for i in rows], meta["inputs"], int(meta["pad_id"]))
            out[rows] = self._session.run([OUTPUT], feed)[0]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)  # torch's F.normalize epsilon
