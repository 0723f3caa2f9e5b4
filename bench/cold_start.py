"""Cold start: `qa ask` in a fresh process against an existing index, and what its imports cost.

Three parts:
1. `qa ask "QUESTION" --index IDX` run N times, each in a new process: median and min wall time; and
   the same through `adapters.main.main` with the bot's embedder made by `make_embedder(model, "onnx",
   cache)`, which is what `qa ask` does once qa/bot.py builds its embedder that way.
2. `python -c "import X"` in fresh processes for the heavy modules and the project's entry points,
   less the bare interpreter's start, and the ONNX query path alone (import, load, embed one question).
3. `python -X importtime -c "import adapters.main"`: the imports that dominate the CLI's start.

Run: .venv/bin/python bench/cold_start.py [--index DIR] [--runs 5] [--backend onnx] [--cache-dir DIR]
Without --index, an index of seeds/ is built in a temporary folder first (`qa ingest seeds --index DIR`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from qa.config import BACKENDS, DEFAULT_MODEL, project_seeds

ROOT = Path(__file__).resolve().parent.parent
QA = Path(sys.executable).parent / "qa"
QUESTION = "Who did Ruto call in January 2025?"
# `qa ask` with the one change to qa/bot.py that the ONNX query path needs, made from outside.
WIRED = """
import sys
from pathlib import Path
import qa.bot, qa.embedding.factory
qa.bot.SentenceTransformerEmbedder = lambda name, *a, **k: qa.embedding.factory.make_embedder(name, "onnx", Path({cache!r}))
from adapters.main import main
sys.exit(main(["ask", {question!r}, "--index", {index!r}]))
"""
MODULES = ["numpy", "rich.console", "onnxruntime", "tokenizers", "torch", "sentence_transformers",
           "qa.config", "qa.embedding.factory", "qa.embedding.onnx_embedder", "qa.index.local.store",
           "qa.retrieval.retriever", "qa.pipeline", "qa.bot",
           "adapters.common.render", "adapters.main"]


def wall(cmd: list[str], env: dict[str, str]) -> float:
    """Seconds `cmd` takes in a fresh process; a failure stops the bench with its output."""
    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    secs = time.perf_counter() - t
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr or done.stdout}")
    return secs


def median_wall(cmd: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    times = [wall(cmd, env) for _ in range(runs)]
    return statistics.median(times), min(times)


def importtime(module: str, env: dict[str, str]) -> list[tuple[int, int, str]]:
    """(cumulative µs, depth, name) for each import under `module`, from `python -X importtime`."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True).stderr
    rows = []
    for line in out.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        depth = (len(name) - len(name.lstrip())) // 2
        rows.append((int(cumulative), depth, name.strip()))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, help="an existing index (default: build one from seeds/)")
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per measurement")
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--backend", choices=BACKENDS, help="QA_BACKEND for the `qa` processes")
    parser.add_argument("--cache-dir", type=Path, help="QA_CACHE_DIR for the `qa` processes and the ONNX export")
    args = parser.parse_args()
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if args.backend:
        env["QA_BACKEND"] = args.backend
    if args.cache_dir:
        env["QA_CACHE_DIR"] = str(args.cache_dir)

    with tempfile.TemporaryDirectory() as tmp:
        index = args.index
        if index is None:
            index = Path(tmp) / "index"
            secs = wall([str(QA), "ingest", str(project_seeds()), "--index", str(index)], env)
            console.print(f"built an index of seeds/ in {secs:.1f} s")
        console.print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")

        ask = [str(QA), "ask", args.question, "--index", str(index)]
        med, low = median_wall(ask, env, args.runs)
        table = Table(title=f"Cold start, {args.runs} fresh processes each (seconds)")
        for col in ("what", "median", "min"):
            table.add_column(col, justify="left" if col == "what" else "right")
        table.add_row(f"qa ask (backend {env.get('QA_BACKEND', 'default')})", f"{med:.2f}", f"{low:.2f}")

        bare, _ = median_wall([sys.executable, "-c", "pass"], env, args.runs)
        table.add_row("python -c pass", f"{bare:.2f}", "")
        for module in MODULES:
            med, low = median_wall([sys.executable, "-c", f"import {module}"], env, args.runs)
            table.add_row(f"import {module} (less python start)", f"{med - bare:.2f}", f"{low - bare:.2f}")

        import qa.bot
        from qa.embedding import ensure_export

        cache = args.cache_dir or Path(tmp) / "cache"
        folder = ensure_export(DEFAULT_MODEL, "onnx", cache)
        if hasattr(qa.bot, "SentenceTransformerEmbedder"):
            wired = WIRED.format(cache=str(cache), question=args.question, index=str(index))
            med, low = median_wall([sys.executable, "-c", wired], env, args.runs)
            table.add_row("qa ask with the bot's embedder from make_embedder(…, 'onnx', …)", f"{med:.2f}", f"{low:.2f}")
        query = (f"from qa.embedding import OnnxEmbedder; "
                 f"OnnxEmbedder({str(folder)!r}, {DEFAULT_MODEL!r}).encode([{args.question!r}])")
        med, low = median_wall([sys.executable, "-c", query], env, args.runs)
        table.add_row("ONNX query path: import + load + embed one question", f"{med:.2f}", f"{low:.2f}")
        console.print(table)

    rows = importtime("adapters.main", env)
    top = Table(title="python -X importtime -c 'import adapters.main': the costliest imports (depth ≤ 2)")
    for col in ("cumulative ms", "depth", "module"):
        top.add_column(col, justify="right" if col != "module" else "left")
    for cumulative, depth, name in sorted((r for r in rows if r[1] <= 2), reverse=True)[:25]:
        top.add_row(f"{cumulative / 1000:.0f}", str(depth), name)
    console.print(top)


if __name__ == "__main__":
    main()
