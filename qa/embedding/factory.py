"""Pick the embedder for a model and a backend, exporting the ONNX model at ingest when it is missing.

Nothing below this module imports it: it is the one place that knows every kind of embedder.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import shutil
from pathlib import Path

from qa.embedding.base import Embedder, check_backend
from qa.embedding.onnx_embedder import OnnxEmbedder
from qa.embedding.onnx_export import export_onnx
from qa.embedding.onnx_format import export_is_current, source_fingerprint, weights_memo
from qa.embedding.sentence_transformer import SentenceTransformerEmbedder, resolve_model_path
from qa.errors import ModelLoadError


def export_dir(cache_dir: Path, model: str, backend: str) -> Path:
    """The folder of `model`'s ONNX export for `backend`: `cache_dir/onnx/<model>-<backend>-<digest>`, where the
    digest is of the model files' content. Every install of the same weights (a checkout, a pipx install, CI)
    finds the same export; installs of other weights under the same name get folders of their own instead of
    replacing each other's export at every ingest."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("._-") or "model"
    if slug != model:  # a path or an org/name: keep names that differ only in punctuation apart
        slug = f"{slug}-{hashlib.sha256(model.encode()).hexdigest()[:8]}"
    try:
        digest = source_fingerprint(resolve_model_path(model), memo=weights_memo(cache_dir))
    except ModelLoadError:  # the model is not installed: its export cannot be current either
        digest = "missing"
    return Path(cache_dir) / "onnx" / f"{slug}-{backend}-{digest}"


def ensure_export(model: str, backend: str, cache_dir: Path) -> Path | None:
    """Export `model` for an ONNX `backend` unless a current export exists; returns its folder (None for torch).

    Ingest calls this, so the model is exported at ingest time and queries never need torch. Two
    processes that get here at once export once: the second waits for the first and reuses its work.
    """
    check_backend(backend)
    if backend == "torch":
        return None
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
    check_backend(backend)
    if backend != "torch":
        quantized = backend == "onnx-int8"
        folder = ensure_export(model, backend, cache_dir) if export_missing else export_dir(cache_dir, model, backend)
        if folder is not None and export_is_current(folder, model, quantized):
            return OnnxEmbedder(folder, model, quantized=quantized)
        stand_in = SentenceTransformerEmbedder(model)
        stand_in.instead_of = backend
        return stand_in
    return SentenceTransformerEmbedder(model)


def fallback_note(embedder: Embedder) -> str | None:
    """Why questions are embedded with torch when another backend was asked for (its ONNX export is missing
    or was made from other weights), in one line; None when they are embedded as asked."""
    instead_of = getattr(embedder, "instead_of", None)
    if not instead_of:
        return None
    return (f"no current {instead_of} export of model {embedder.name!r} (it is made at ingest), "
            "answering with torch (slow)")
