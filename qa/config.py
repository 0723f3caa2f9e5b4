"""Settings in one place: command-line flags over environment variables over defaults; and the limits of what
the core accepts (k, modes, question length, history turns), which every front end reads from here."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from qa.errors import ConfigError, InputError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
MODES = ("hybrid", "dense", "bm25")
# What a question may ask for, checked by the core (`Bot.ask`, `Bot.search`) whatever the front end.
DEFAULT_K = 3
MIN_K, MAX_K = 1, 50  # passages cited (or found, for a search)
MAX_QUESTION_CHARS = 2000
# How texts are embedded: sentence-transformers on torch, or its ONNX export (float32, or int8 weights).
BACKENDS = ("torch", "onnx", "onnx-int8")
DEFAULT_BACKEND = "onnx"
# Who picks the quoted sentence: the cross-encoder reader, or the retrieval's own sentence scores alone.
READERS = ("cross-encoder", "none")
# How an ingest makes a passage's vectors: "sentences" runs each sentence through the model once and derives
# each window and the passage from them (the default: faster than embedding the passages alone, the same
# answers within half a point on both question sets); "full" also runs each passage and each window through
# the model, about three times the tokens (see README "Speed and scale")
VECTORS = ("sentences", "full")
DEFAULT_READER = "cross-encoder"
# How many earlier turns of a conversation every front end keeps and the core reads for a follow-up.
HISTORY_TURNS = 6


def project_seeds() -> Path:
    """The bundled default corpus: `seeds/` beside the package in a checkout, or where an installed wheel put
    them (`share/qa/seeds` under the environment's prefix)."""
    checkout = Path(__file__).resolve().parent.parent / "seeds"
    installed = Path(sys.prefix) / "share" / "qa" / "seeds"
    return checkout if checkout.is_dir() or not installed.is_dir() else installed


def default_index_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "qa" / "index"


def default_cache_dir(env: Mapping[str, str]) -> Path:
    """Where derived files that can be rebuilt live (the ONNX exports): `$XDG_CACHE_HOME/qa`."""
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qa"


@dataclass(frozen=True)
class Settings:
    """Resolved configuration shared by the CLI and both adapters."""

    index_dir: Path
    model: str
    k: int
    mode: str
    corpus: Path
    index_given: bool  # whether the user chose the index (then it is never auto-built)
    history_file: Path
    feedback_log: Path
    backend: str = DEFAULT_BACKEND
    cache_dir: Path = field(default_factory=lambda: default_cache_dir(os.environ))  # base folders: see `resolve`
    store: str | None = None  # a postgresql:// address: the passages live there instead of in index_dir
    reader: str = DEFAULT_READER
    reader_model: str | None = None  # a cross-encoder folder; None: the bundled one
    vectors: str = VECTORS[0]

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **flags: object) -> Settings:
        """Settings from `flags` (the arguments of `resolve`) over the `QA_*` environment variables (of `env`,
        by default the process's) over the defaults: what the `qa` command does."""
        return resolve(env=os.environ if env is None else env, **flags)  # type: ignore[arg-type]


def _int(name: str, raw: str | int, lo: int, hi: int) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def resolve(
    *,
    index: str | os.PathLike[str] | None = None,
    model: str | None = None,
    k: int | str | None = None,
    mode: str | None = None,
    corpus: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    backend: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    store: str | None = None,
    reader: str | None = None,
    reader_model: str | None = None,
    vectors: str | None = None,
) -> Settings:
    """Build settings from flags (arguments), then the `QA_*` variables of `env`, then defaults.

    With no `env` no `QA_*` variable is read: a program using the library gets what it passes and the
    defaults, whatever the environment it runs in (`Settings.from_env` reads them). Where defaults live on disk
    follows the platform's base folders either way (`XDG_DATA_HOME`, `XDG_STATE_HOME`, `XDG_CACHE_HOME`, as
    the home folder follows `HOME`), from `env` when given.
    """
    dirs = os.environ if env is None else env
    env = {} if env is None else env
    index_raw = index if index is not None else env.get("QA_INDEX")
    index_dir = Path(index_raw).expanduser() if index_raw else default_index_dir(dirs)
    mode_v = (mode or env.get("QA_MODE") or "hybrid").lower()
    if mode_v not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {mode_v!r}")
    k_v = _int("k", k if k is not None else env.get("QA_K", str(DEFAULT_K)), MIN_K, MAX_K)
    corpus_raw = corpus if corpus is not None else env.get("QA_CORPUS")
    backend_v = (backend or env.get("QA_BACKEND") or DEFAULT_BACKEND).lower()
    if backend_v not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {backend_v!r}")
    cache_raw = cache_dir if cache_dir is not None else env.get("QA_CACHE_DIR")
    store_v = store if store is not None else env.get("QA_STORE") or None
    if store_v is not None and not store_v.startswith(("postgresql://", "postgres://")):
        raise ConfigError(f"store must be a postgresql:// address (the default is the local index), got {store_v[:40]!r}")
    reader_v = (reader or env.get("QA_READER") or DEFAULT_READER).lower()
    if reader_v not in READERS:
        raise ConfigError(f"reader must be one of {', '.join(READERS)}, got {reader_v!r}")
    reader_model_v = reader_model if reader_model is not None else env.get("QA_READER_MODEL") or None
    state = Path(dirs.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")) / "qa"
    vectors_v = (vectors or env.get("QA_VECTORS") or VECTORS[0]).lower()
    if vectors_v not in VECTORS:
        raise ConfigError(f"vectors must be one of {', '.join(VECTORS)}, got {vectors_v!r}")
    return Settings(
        index_dir=index_dir,
        model=model or env.get("QA_MODEL") or DEFAULT_MODEL,
        k=k_v,
        mode=mode_v,
        corpus=Path(corpus_raw).expanduser() if corpus_raw else project_seeds(),
        index_given=bool(index_raw),
        history_file=Path(env.get("QA_HISTORY") or state / "history"),
        feedback_log=Path(env.get("QA_FEEDBACK_LOG") or state / "feedback.jsonl"),
        backend=backend_v,
        cache_dir=Path(cache_raw).expanduser() if cache_raw else default_cache_dir(dirs),
        store=store_v,
        reader=reader_v,
        reader_model=str(Path(reader_model_v).expanduser()) if reader_model_v else None,
        vectors=vectors_v,
    )


def check_k(k: int) -> int:
    """`k` when it is a whole number from MIN_K to MAX_K; InputError otherwise (never silently changed)."""
    if isinstance(k, bool) or not isinstance(k, int) or not MIN_K <= k <= MAX_K:
        raise InputError(f"k must be a whole number from {MIN_K} to {MAX_K}, got {k!r}", field="k")
    return k


def check_mode(mode: str) -> str:
    """`mode` when it is one of MODES; InputError otherwise."""
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}: the modes are {', '.join(MODES)}", field="mode")
    return mode


def check_reader(reader: str) -> str:
    """`reader` when it is one of READERS; InputError otherwise."""
    if reader not in READERS:
        raise InputError(f"unknown reader {reader!r}: the readers are {', '.join(READERS)}", field="reader")
    return reader


