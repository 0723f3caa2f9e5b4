"""Export the sentence-transformers model to ONNX once (at ingest, with torch), so that every later process
embeds through onnxruntime and tokenizers alone. The export reproduces sentence-transformers exactly: the
same tokenizer and truncation length, the transformer, and the model's pooling inside the graph; it is
checked against sentence-transformers before it is published.
"""

from __future__ import annotations

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

from qa.embedding.onnx_embedder import OnnxEmbedder
from qa.embedding.onnx_format import (
    EXPORT_FORMAT,
    FP32_FILE,
    INT8_FILE,
    META_FILE,
    OUTPUT,
    TOKENIZER_FILE,
    read_meta,
    source_fingerprint,
    weights_memo,
)
from qa.embedding.sentence_transformer import load_sentence_transformer, resolve_model_path
from qa.errors import ModelLoadError

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
            "source": source_fingerprint(path, memo=weights_memo(dest.parent.parent)),
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


