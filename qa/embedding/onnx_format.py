"""The folder an ONNX export lives in: its files, its description (`export.json`), and whether it is current."""

from __future__ import annotations

import hashlib
import json
import os
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


# Folders inside a model's folder that hold other exports of it (some sentence-transformers models ship
# hundreds of megabytes of them), not what the export is made from.
_NOT_THE_MODEL = ("onnx", "openvino")
_CHUNK = 1 << 20


def _model_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not any(
        part.startswith(".") or part in _NOT_THE_MODEL for part in p.relative_to(root).parts[:-1])
        and not p.name.startswith("."))


def _stat_key(root: Path, files: list[Path]) -> str:
    """What tells, without reading them, that the files may have changed: names, sizes, times, inodes."""
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(root).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n".encode())
    return h.hexdigest()


def _content_hash(root: Path, files: list[Path]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.relative_to(root).as_posix()}\0{f.stat().st_size}\0".encode())
        with open(f, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
    return h.hexdigest()[:16]


def source_fingerprint(model_path: str, memo: Path | None = None) -> str:
    """A digest of the content of the model's files (weights, tokenizer, configuration): the same for every
    install of the same model wherever it lies and whenever it was copied, so installs share one export.

    Hashing 90 MB of weights takes a tenth of a second, too much for every question's start: the digest is
    kept in `memo` (a JSON file beside the exports) under the files' names, sizes, times and inodes, and
    read again only when those change."""
    root = Path(model_path)
    if not root.is_dir():  # a model name nothing on disk answers to: the name is all there is
        return hashlib.sha256(model_path.encode()).hexdigest()[:16]
    files = _model_files(root)
    key = _stat_key(root, files)
    seen: dict[str, Any] = {}
    if memo is not None:
        try:
            seen = json.loads(memo.read_text(encoding="utf-8"))
            if isinstance(seen.get(model_path), dict) and seen[model_path].get("stat") == key:
                return str(seen[model_path]["content"])
        except (OSError, ValueError, AttributeError, KeyError):
            seen = {}
    digest = _content_hash(root, files)
    if memo is not None and memo.parent.is_dir():  # no exports, nothing to share: the cache is left unmade
        seen = seen if isinstance(seen, dict) else {}
        seen[model_path] = {"stat": key, "content": digest}
        tmp = memo.with_name(f"{memo.name}.{os.getpid()}.tmp")
        try:  # a memo that cannot be written only costs the hash again next time
            tmp.write_text(json.dumps(seen, indent=1), encoding="utf-8")
            os.replace(tmp, memo)
        except OSError:
            tmp.unlink(missing_ok=True)
    return digest


def weights_memo(cache_dir: Path) -> Path:
    """Where the digests of models' files are remembered (see `source_fingerprint`)."""
    return Path(cache_dir) / "onnx" / _MEMO_NAME


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
        return bool(meta.get("source") == source_fingerprint(resolve_model_path(model_name),
                                                             memo=Path(folder).parent / _MEMO_NAME))
    except ModelLoadError:
        return False


_MEMO_NAME = ".model-digests.json"


