"""What every ONNX model of the project shares: a CPU session tuned for two shared cores, and padded batches.

Nothing here imports onnxruntime at import time, so a process that never runs a model never pays for it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import ModelLoadError


def cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def open_session(model_file: Path, threads: int, what: str) -> Any:
    """An onnxruntime CPU session of `model_file`; ModelLoadError naming `what` when it cannot be opened.

    One session serves every thread of the process (onnxruntime's `run` is thread-safe).
    """
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ModelLoadError(f"{what} needs {exc.name}: pip install onnxruntime tokenizers") from None
    try:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle workers sleep instead of spinning: on two shared cores a spinning pool slows the
        # process's other threads and other processes; it costs about 1 ms a question.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3
        return ort.InferenceSession(str(model_file), sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # a damaged file surfaces as one of many kinds
        raise ModelLoadError(f"cannot load {what} at {model_file}: {str(exc).splitlines()[0]}") from None


def load_tokenizer(path: Path, max_length: int, what: str) -> Any:
    """A `tokenizers` tokenizer from its JSON file, unpadded (batches are padded here) and truncated."""
    # Sequential tokenizing costs little next to the model, and a process that forks later (a test
    # runner, a server) then gets no warning from the tokenizers library on stderr.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise ModelLoadError(f"{what} needs {exc.name}: pip install onnxruntime tokenizers") from None
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:
        raise ModelLoadError(f"cannot load the tokenizer of {what} at {path}: {str(exc).splitlines()[0]}") from None
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


def padded_feed(encodings: Sequence[Any], names: Sequence[str], pad_id: int) -> dict[str, np.ndarray]:
    """The model inputs of a batch of encodings, padded to the longest of them."""
    width = max(len(e.ids) for e in encodings)
    feed = {n: np.zeros((len(encodings), width), dtype=np.int64) for n in names}
    feed["input_ids"].fill(pad_id)
    for j, e in enumerate(encodings):
        n = len(e.ids)
        feed["input_ids"][j, :n] = e.ids
        feed["attention_mask"][j, :n] = e.attention_mask
        if "token_type_ids" in feed:
            feed["token_type_ids"][j, :n] = e.type_ids
    return feed
