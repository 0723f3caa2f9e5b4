"""`qa serve` under load on loopback: N concurrent POST /api/ask, every answer checked, p50 and p95 printed
beside the baseline of the same questions asked one at a time in the same run.

Run: .venv/bin/python bench/serve_load.py [--concurrent 50] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [("Who did Ruto call in January 2025?", "Rubio"),
             ("How much did the Biden administration pledge to the Haiti mission?", "38.5")]


def ask(url: str, question: str) -> tuple[float, dict]:
    start = time.perf_counter()
    req = urllib.request.Request(url + "/api/ask", data=json.dumps({"question": question}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=120) as resp:
        body = json.loads(resp.read())
    return time.perf_counter() - start, body


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="qa-serve-load-"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "XDG_DATA_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    index = home / "idx"
    subprocess.run([sys.executable, "-m", "adapters", "ingest", str(ROOT / "seeds"), "--index", str(index)],
                   env=env, check=True, capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "adapters", "serve", "--port", "0", "--index", str(index)],
                            env=env, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stderr is not None
        url = ""
        for line in proc.stderr:
            if line.startswith("Serving at "):
                url = line.split()[2].rstrip("/")
                break
        ask(url, QUESTIONS[0][0])  # warm
        one_at_a_time = [ask(url, q)[0] for _ in range(5) for q, _ in QUESTIONS]
        wanted = [QUESTIONS[i % 2] for i in range(args.concurrent)]
        times: list[float] = []
        wrong = 0
        started = time.perf_counter()
        for _ in range(args.rounds):
            with ThreadPoolExecutor(args.concurrent) as pool:
                results = list(pool.map(lambda qa: ask(url, qa[0]), wanted))
            times += [t for t, _ in results]
            wrong += sum(expect not in (body.get("answer") or "") for (_, expect), (_, body) in
                         zip(wanted, results, strict=True))
        wall = time.perf_counter() - started
        print(f"baseline, one request at a time ({len(one_at_a_time)}): p50 {pct(one_at_a_time, 0.5):.0f} ms, "
              f"p95 {pct(one_at_a_time, 0.95):.0f} ms")
        print(f"{args.concurrent} concurrent x {args.rounds} rounds: p50 {pct(times, 0.5):.0f} ms, "
              f"p95 {pct(times, 0.95):.0f} ms, {len(times) / wall:.1f} answers/s, {wrong} wrong, "
              f"p50 ratio {statistics.median(times) / statistics.median(one_at_a_time):.1f}x")
        if wrong:
            sys.exit(1)
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
