"""Warm question latency on the seeds corpus: median and p95 over repeated questions, with the reader and
without it (the baseline, per retrieval mode), in the same run.

Run: .venv/bin/python bench/latency.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from qa.bot import Bot
from qa.config import project_seeds, resolve

QUESTIONS = [
    "How much did the Biden administration pledge to the Haiti mission?",
    "Who did Ruto call in January 2025?",
    "What agreement did Ruto want to conclude with the United States?",
    "Who won the 2022 FIFA World Cup?",
    "What topics did Ruto and Trump discuss?",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = resolve(index=Path(tmp) / "index", corpus=project_seeds())
        bot = Bot(settings)
        t0 = time.perf_counter()
        bot.ingest([settings.corpus])
        ingest_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        bot.load()
        load_s = time.perf_counter() - t0
        print(f"ingest of seeds/ (includes model load): {ingest_s:.2f} s; open index + warm model: {load_s:.2f} s")
        for mode, reader in (("hybrid", "cross-encoder"), ("hybrid", "none"), ("dense", "none"), ("bm25", "none")):
            times = []
            for _ in range(args.repeat):
                for q in QUESTIONS:
                    t = time.perf_counter()
                    bot.ask(q, mode=mode, reader=reader)
                    times.append((time.perf_counter() - t) * 1000)
            times.sort()
            p95 = times[int(0.95 * (len(times) - 1))]
            label = f"{mode}, {'reader' if reader != 'none' else 'no reader'}"
            print(f"{label:>17}: warm question median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms "
                  f"over {len(times)} questions")


if __name__ == "__main__":
    main()
