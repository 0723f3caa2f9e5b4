"""Settings: flags over environment variables over defaults, and one clear error for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.config import DEFAULT_BACKEND, DEFAULT_MODEL, DEFAULT_READER, resolve
from qa.errors import ConfigError


def test_defaults() -> None:
    s = resolve(env={"XDG_DATA_HOME": "/data", "XDG_CACHE_HOME": "/cache", "XDG_STATE_HOME": "/state"})
    assert s.index_dir == Path("/data/qa/index") and not s.index_given
    assert (s.model, s.backend, s.k, s.mode, s.store) == (DEFAULT_MODEL, DEFAULT_BACKEND, 3, "hybrid", None)
    assert (s.reader, s.reader_model) == (DEFAULT_READER, None) and s.reader == "cross-encoder"
    assert s.cache_dir == Path("/cache/qa") and s.history_file == Path("/state/qa/history")


def test_environment_over_defaults_and_flags_over_environment(tmp_path: Path) -> None:
    env = {"QA_READER": "none", "QA_READER_MODEL": str(tmp_path / "env-ce"), "QA_K": "5", "QA_MODE": "bm25",
           "QA_INDEX": str(tmp_path / "env-index"), "QA_BACKEND": "torch"}
    s = resolve(env=env)
    assert (s.reader, s.reader_model, s.k, s.mode, s.backend) == ("none", str(tmp_path / "env-ce"), 5, "bm25", "torch")
    assert s.index_dir == tmp_path / "env-index" and s.index_given
    s = resolve(env=env, reader="cross-encoder", reader_model=str(tmp_path / "flag-ce"), k=2, mode="dense",
                index=tmp_path / "flag-index", backend="onnx")
    assert (s.reader, s.reader_model, s.k, s.mode, s.backend) == ("cross-encoder", str(tmp_path / "flag-ce"), 2,
                                                                  "dense", "onnx")
    assert s.index_dir == tmp_path / "flag-index"


def test_a_reader_model_path_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve(env={}, reader_model="~/models/ce").reader_model == str(tmp_path / "models" / "ce")


@pytest.mark.parametrize(
    ("kwargs", "env", "message"),
    [
        ({"reader": "bert"}, {}, "reader must be one of cross-encoder, none, got 'bert'"),
        ({}, {"QA_READER": "gpt"}, "reader must be one of"),
        ({"k": 0}, {}, "k must be between 1 and 50"),
        ({}, {"QA_K": "x"}, "k must be a whole number"),
        ({"mode": "fuzzy"}, {}, "mode must be one of"),
        ({"backend": "cuda"}, {}, "backend must be one of"),
        ({"store": "mysql://db"}, {}, "store must be a postgresql:// address"),
    ],
)
def test_a_bad_value_is_one_clear_error(kwargs: dict, env: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        resolve(env=env, **kwargs)
