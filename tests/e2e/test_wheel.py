"""A wheel built from the repository, installed into a fresh environment, answers a question about the seeds it
carries: the first run builds the index from the seed articles installed with it."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from qa.config import default_cache_dir
from tests.support.paths import ROOT

QUESTION = "How much did the Biden administration pledge to the Haiti mission?"


def test_an_installed_wheel_answers_from_the_seeds_it_carries(tmp_path: Path) -> None:
    built = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(ROOT),
                    "-w", str(built)], check=True, timeout=300, capture_output=True)
    [wheel] = built.glob("*.whl")
    fresh = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(fresh)], check=True, timeout=120)
    site = Path(subprocess.run([str(fresh / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # the dependencies (torch, the models…) are this environment's; the project itself only the wheel's
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(fresh / "bin" / "python"), "install", "-q", "--no-deps",
                    str(wheel)], check=True, timeout=300, capture_output=True)
    home = tmp_path / "home"
    # a fresh home, but this run's model cache: the ONNX export the other tests made is not made again
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "HF_HUB_OFFLINE": "1",
           "XDG_CACHE_HOME": str(default_cache_dir(os.environ).parent)}
    done = subprocess.run([str(fresh / "bin" / "qa"), "ask", QUESTION], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "38.5 billion" in done.stdout.splitlines()[0]
    assert "share/qa/seeds/002_" in done.stdout  # cited from the seeds the wheel installed, not from a checkout
