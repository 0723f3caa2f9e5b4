"""The folder an ONNX export lives in: its files, its description (`export.json`), and whether it is current."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from qa.embedding.sentence_transformer import resolve_model_path
from qa.errors import ModelLoadError

EXPORT_FORMAT = 1  # bump when the folder layout or the graph's contract changes: older exports are redone
FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "export.json"
OUTPUT = "sentence_embedding"


def source_fingerprint(model_path: str) -> str:
    """A short digest of the model's files (names, sizes, times), so an export of older weights is redone."""
    root = Path(model_path)
    if not root.is_dir():
        return hashlib.sha256(model_path.encode()).hexdigest()[:16]
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        st = f.stat()
        h.update(f"{f.relative_to(root).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def read_meta(folder: Path) -> dict[str, Any] | None:
    """The export's description, or None when `folder` holds no complete export of the current format."""
    try:
        meta = json.loads((Path(folder) / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != EXPORT_FORMAT:
        return None
    files = [FP32_FILE, TOKENIZER_FILE] + ([INT8_FILE] if meta.get("quantized") else [])
    if not all((Path(folder) / f).is_file() for f in files):
        return None
    return meta


def export_is_current(folder: Path, model_name: str, quantized: bool) -> bool:
    """Whether `folder` holds a complete export of `model_name`'s present weights (with int8 if asked)."""
    meta = read_meta(folder)
    if meta is None or meta.get("model") != model_name or (quantized and not meta.get("quantized")):
        return False
    try:
        return bool(meta.get("source") == source_fingerprint(resolve_model_path(model_name)))
    except ModelLoadError:
        return False


