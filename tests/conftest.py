"""Shared fixtures: the real seeds, the real model, and an index built once per test session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.config import Settings, resolve
from qa.embedding import SentenceTransformerEmbedder
from qa.index.local import ingest_paths
from tests.support.paths import SEEDS
from tests.support.postgres import pg_database, pg_dsn, schema  # noqa: F401  (fixtures for every test module)
from tests.support.repl_pty import Repl, Spawn, repl_env

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def _shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the whole run, so the model's ONNX export is made once, not once per test."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _shared_cache: Path) -> None:
    """No test reads or writes the user's real index, history, feedback log or cache."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(_shared_cache))
    for var in ("QA_INDEX", "QA_MODEL", "QA_K", "QA_MODE", "QA_CORPUS", "QA_HISTORY", "QA_FEEDBACK_LOG",
                "QA_STORE", "QA_BACKEND", "QA_CACHE_DIR", "QA_SLACK_LOG_LEVEL", "QA_VECTORS"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real default model, loaded once."""
    e = SentenceTransformerEmbedder()
    e.load()
    return e


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Path:
    """An index of the five seed articles, built once with the real model. Do not write to it."""
    index = tmp_path_factory.mktemp("seeds-index")
    report = ingest_paths([SEEDS], index, embedder)
    assert not report.errors and len(report.added) == 5
    return index


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A writable copy of the seeds folder."""
    dst = tmp_path / "corpus"
    shutil.copytree(SEEDS, dst)
    return dst


@pytest.fixture
def settings(seeds_index: Path) -> Settings:
    return resolve(index=seeds_index)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    """Starts `qa repl ARGS` in a terminal of the given width, with extra environment variables."""
    started: list[Repl] = []

    def make(args: list[str], columns: int = 100, **env: str) -> Repl:
        repl = Repl(args, repl_env(tmp_path, **env), columns)
        started.append(repl)
        return repl

    yield make
    for r in started:
        r.kill()
