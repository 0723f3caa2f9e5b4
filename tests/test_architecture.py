"""The layers hold: `lint-imports` (what `make lint` runs) passes on the tree, and fails as soon as the core
imports a front end, a stage imports a later one, a front end imports another, or two modules import
each other."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT

LINT = Path(sys.executable).parent / "lint-imports"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("tree")
    for name in ("qa", "adapters"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def lint(tree: Path, broken: str | None = None, line: str = "") -> subprocess.CompletedProcess[str]:
    """lint-imports on `tree`, with `line` appended to the module file `broken` (then put back)."""
    target = tree / broken if broken else None
    before = target.read_text(encoding="utf-8") if target else ""
    if target:
        target.write_text(before + f"\n\ndef _violation() -> None:\n    {line}  # noqa\n", encoding="utf-8")
    try:
        return subprocess.run([str(LINT), "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=120,
                              env={"PYTHONPATH": str(tree), "PATH": ""})
    finally:
        if target:
            target.write_text(before, encoding="utf-8")


def test_the_tree_keeps_every_contract(tree: Path) -> None:
    done = lint(tree)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("broken", "line", "contract"),
    [
        ("qa/text/lexical.py", "import adapters.common.safe", "The core knows nothing of the front ends"),
        ("qa/retrieval/scoring.py", "import qa.reader.models", "Each stage of the core imports only the stages"),
        ("qa/index/local/store.py", "import qa.index.postgres.encoding", "The two stores know nothing of each other"),
        ("adapters/repl/chat.py", "import adapters.slack.blocks", "The front ends share only adapters.common"),
        ("qa/index/local/segment.py", "import qa.index.local.writer", "No import cycles between the modules"),
    ],
)
def test_a_violation_fails_the_lint(tree: Path, broken: str, line: str, contract: str) -> None:
    done = lint(tree, broken, line)
    assert done.returncode != 0
    assert f"{contract}" in done.stdout and "BROKEN" in done.stdout.split(contract, 1)[1].splitlines()[0]
