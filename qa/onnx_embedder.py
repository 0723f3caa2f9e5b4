"""A light embedding path: the sentence-transformers model exported to ONNX, run with onnxruntime and tokenizers.

Importing torch and sentence-transformers takes several seconds; onnxruntime and tokenizers load in a
fraction of that. So the model is exported once (at ingest time) with torch, and every later process
embeds through the export alone. The export reproduces sentence-transformers exactly: the same
tokenizer and truncation length, the transformer, and the model's pooling inside the graph; the L2
normalisation is done here in numpy.

Nothing in this module imports torch, transformers, sentence-transformers or onnxruntime at import
time; `export_onnx` imports torch when it runs, `OnnxEmbedder` imports onnxruntime and tokenizers on
first use.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from qa.embedder import load_sentence_transformer, resolve_model_path
from qa.errors import ModelLoadError
from qa.onnx_session import cores, load_tokenizer, open_session, padded_feed

EXPORT_FORMAT = 1  # bump when the folder layout or the graph's contract changes: older exports are redone
FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "export.json"
OUTPUT = "sentence_embedding"
POOLING_MODES = ("mean", "cls", "max")

# Lowest cosine to sentence-transformers' vectors that an export must reach on its self-check before it
# is published. fp32 agrees to rounding; dynamic int8 loses a little (see tests/test_onnx_embedder.py).
MIN_COSINE_FP32 = 0.999
MIN_COSINE_INT8 = 0.97

# Sentences the export is checked on before it is published: short and long, padded in one batch.
_CHECK_TEXTS = [
    "Who signed the agreement?",
    "The central bank raised interest rates by a quarter of a percentage point on Wednesday, its third "
    "increase this year, citing inflation that has stayed above its target for eighteen months.",
    "Rain.",
    "Officials said the bridge, closed since the flood in March, would reopen to traffic next week after "
    "engineers finished inspecting its foundations and the damaged railings had been replaced. " * 12,
]


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


def _pipeline(model: Any, model_name: str) -> tuple[Any, str]:
    """The model's transformer and pooling mode; refuses what the graph cannot copy.

    A Normalize module needs nothing in the graph: OnnxEmbedder normalises every vector. Whatever is
    exported, the check in `export_onnx` compares it with sentence-transformers before publishing.
    """
    modules = list(model)
    kinds = [type(m).__name__ for m in modules]
    if len(modules) < 2 or kinds[0] != "Transformer" or kinds[1] != "Pooling" or \
            any(k != "Normalize" for k in kinds[2:]):
        raise ModelLoadError(
            f"cannot export model {model_name!r} to ONNX: only Transformer → Pooling (→ Normalize) models "
            f"are supported, this one is {' → '.join(kinds)}; use the torch backend (QA_BACKEND=torch)"
        )
    pooling = modules[1]
    mode = getattr(pooling, "pooling_mode", None)
    if mode is None:  # older sentence-transformers keep one flag per mode
        flags = [m for m in POOLING_MODES if getattr(pooling, f"pooling_mode_{m}_tokens", False)
                 or getattr(pooling, f"pooling_mode_{m}_token", False)]
        mode = flags[0] if len(flags) == 1 else None
    if isinstance(mode, (list, tuple)):
        mode = mode[0] if len(mode) == 1 else None
    if mode not in POOLING_MODES or getattr(pooling, "include_prompt", True) is False:
        raise ModelLoadError(f"cannot export model {model_name!r} to ONNX: unsupported pooling; use the torch backend (QA_BACKEND=torch)")
    transformer = modules[0].auto_model if hasattr(modules[0], "auto_model") else modules[0].model
    return transformer, str(mode)


def _export_graph(model: Any, model_name: str, out: Path) -> tuple[list[str], int]:
    """Write the transformer plus pooling as one ONNX graph; returns its input names and output width."""
    import torch

    transformer, mode = _pipeline(model, model_name)
    tokenizer = model.tokenizer
    input_names = [n for n in ("input_ids", "attention_mask", "token_type_ids")
                   if n in getattr(tokenizer, "model_input_names", ("input_ids", "attention_mask"))]
    if input_names[:2] != ["input_ids", "attention_mask"]:
        raise ModelLoadError(f"cannot export model {model_name!r} to ONNX: unexpected inputs {input_names}")

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *inputs: Any) -> Any:
            feed = dict(zip(input_names, inputs, strict=True))
            hidden = self.transformer(**feed, return_dict=True).last_hidden_state
            mask = feed["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            if mode == "cls":
                return hidden[:, 0]
            if mode == "max":
                return torch.where(mask > 0, hidden, torch.finfo(hidden.dtype).min).max(dim=1).values
            # sentence-transformers' mean: padding excluded, the count clamped the same way
            return (hidden * mask).sum(dim=1) / torch.clamp(mask.sum(dim=1), min=1e-9)

    # Trace with a padded batch, so a mask branch that a library skips for all-ones masks is in the graph.
    sample = tokenizer(["a short one", "a somewhat longer sample sentence to pad against"], padding=True,
                       return_tensors="pt")
    args = tuple(sample[n] for n in input_names)
    axes = {n: {0: "batch", 1: "sequence"} for n in input_names}
    axes[OUTPUT] = {0: "batch"}
    wrapper = Pooled().eval()
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        logging.getLogger("torch.onnx").setLevel(logging.ERROR)
        # The TorchScript exporter works offline and without onnxscript; the dynamo one needs both.
        torch.onnx.export(wrapper, args, str(out), input_names=input_names, output_names=[OUTPUT],
                          dynamic_axes=axes, opset_version=17, do_constant_folding=True, dynamo=False)
        width = int(wrapper(*args).shape[-1])
    return input_names, width


def _quantize(src: Path, dst: Path) -> None:
    """Dynamic int8: weights stored as int8 per output channel, activations quantised per batch at run time.

    Only the MatMuls, where the time goes: the embedding lookup stays float32, which keeps the vectors
    a little closer to float32's (dense retrieval on the bench file within half a point of it).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # it advises pre-processing on the root logger; nothing to act on here
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul"])
    finally:
        logging.disable(previous)


def _publish(tmp: Path, dest: Path) -> None:
    """Move the finished export into place in one rename; an older export there is replaced."""
    old: Path | None = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}-{threading.get_ident()}")
        os.replace(dest, old)
    try:
        os.replace(tmp, dest)
    except OSError:
        if read_meta(dest) is None:  # not another process's finished export: a real failure
            raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def export_onnx(model_name: str, dest: Path, quantize: bool = False) -> Path:
    """Export `model_name` to ONNX in folder `dest` (with an int8 copy if `quantize`); returns `dest`.

    The folder gets the graph (token ids → pooled sentence vector), the tokenizer as the `tokenizers`
    library reads it, and `export.json`. Everything is written to a temporary folder beside `dest`,
    checked against sentence-transformers, and renamed into place only when complete.
    """
    dest = Path(dest)
    path = resolve_model_path(model_name)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
        tmp.chmod(0o755)  # mkdtemp makes it private; the published export is as readable as other caches
    except OSError as exc:
        raise ModelLoadError(f"cannot write the ONNX export to {dest}: {exc.strerror or exc}") from None
    try:
        model = load_sentence_transformer(model_name)
        max_len = int(model.max_seq_length)
        input_names, width = _export_graph(model, model_name, tmp / FP32_FILE)

        fast = getattr(model.tokenizer, "backend_tokenizer", None)
        if fast is None:
            raise ModelLoadError(f"cannot export model {model_name!r} to ONNX: it has no fast tokenizer")
        from tokenizers import Tokenizer

        tok = Tokenizer.from_str(fast.to_str())
        tok.no_padding()  # padding is done per length-sorted batch in OnnxEmbedder
        tok.enable_truncation(max_length=max_len)
        tok.save(str(tmp / TOKENIZER_FILE))

        if quantize:
            _quantize(tmp / FP32_FILE, tmp / INT8_FILE)
        meta: dict[str, Any] = {
            "format": EXPORT_FORMAT,
            "model": model_name,
            "source": source_fingerprint(path),
            "max_seq_length": max_len,
            "dim": width,
            "inputs": input_names,
            "pad_id": int(model.tokenizer.pad_token_id or 0),
            "quantized": quantize,
        }
        reference = model.encode(_CHECK_TEXTS, normalize_embeddings=True, convert_to_numpy=True)
        checks = {"fp32": (False, MIN_COSINE_FP32)} | ({"int8": (True, MIN_COSINE_INT8)} if quantize else {})
        for label, (quantized, bound) in checks.items():
            got = OnnxEmbedder(tmp, model_name, quantized=quantized, meta=meta).encode(_CHECK_TEXTS)
            worst = float(np.min(np.sum(got * reference, axis=1)))
            if worst < bound:
                raise ModelLoadError(
                    f"the ONNX export of {model_name!r} ({label}) does not match sentence-transformers "
                    f"(cosine {worst:.4f} < {bound}); use the torch backend (QA_BACKEND=torch)"
                )
            meta[f"check_min_cosine_{label}"] = round(worst, 6)
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        _publish(tmp, dest)
    except ModelLoadError:
        raise
    except Exception as exc:  # torch's exporter and onnx raise many kinds; the user needs one line
        raise ModelLoadError(f"cannot export model {model_name!r} to ONNX: {str(exc).splitlines()[0]}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


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
                raise ModelLoadError(f"no complete ONNX export at {self.folder}: run `qa ingest` to create it")
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
