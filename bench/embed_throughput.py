"""Embedding throughput per backend: torch (sentence-transformers) vs its ONNX export, fp32 and int8.

Measured side by side in one process, backends taking turns in each run, on passages of about 60
words built from real sentences (the seeds and the SQuAD bench file). Also: one question's latency,
how close each backend's vectors are to torch's, and a dense-only retrieval check on the bench file
(the gold paragraph ranked first among all its paragraphs; the answer inside the top 3 sentences),
which shows what int8 costs in quality. With --ingest, also a whole ingest of the bench file's articles
per backend (passages, their sentences and windows embedded, the index written): passages/s end to end.

Run: .venv/bin/python bench/embed_throughput.py [--runs 5] [--cache-dir DIR] [--ingest]
The exports go to a temporary folder unless --cache-dir names one (then they are reused).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from qa.config import BACKENDS, DEFAULT_MODEL, project_seeds
from qa.documents import find_files, load_file
from qa.embedding import Embedder, backend_of, ensure_export, make_embedder
from qa.evaluation.scoring import normalise
from qa.passages import split_document
from qa.text.sentences import split

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT.parent / "shared" / "bench" / "squad-v2-dev-5articles.json"


def seed_sentences(seeds: Path) -> list[str]:
    files, _ = find_files([seeds])
    return [s for f in files for p in split_document(load_file(f)) for s in p.sentence_texts()]


def build_passages(sentences: list[str], words: int) -> list[str]:
    """Consecutive sentences joined until each passage has about `words` words."""
    passages: list[str] = []
    current: list[str] = []
    count = 0
    for s in sentences:
        current.append(s)
        count += len(s.split())
        if count >= words * 0.9:
            passages.append(" ".join(current))
            current, count = [], 0
    return passages


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def wall_and_cpu(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall seconds and this process's CPU seconds (all threads): the second is less sensitive to a busy machine."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def retrieval_scores(embedder: Embedder, squad: dict) -> tuple[float, float]:
    """Dense-only: % of answerable questions whose paragraph ranks first; % with the answer in the top 3 sentences."""
    paragraphs = [p["context"] for a in squad["data"] for p in a["paragraphs"]]
    sentences = [(i, s) for i, c in enumerate(paragraphs) for s in split(c)]
    questions = [(i, q) for i, p in enumerate(p for a in squad["data"] for p in a["paragraphs"])
                 for q in p["qas"] if not q["is_impossible"]]
    pv = embedder.encode(paragraphs)
    sv = embedder.encode([s for _, s in sentences])
    qv = embedder.encode([q["question"] for _, q in questions])
    top1 = np.argmax(qv @ pv.T, axis=1)
    top3 = np.argsort(-(qv @ sv.T), axis=1)[:, :3]
    para_hits = sum(int(top1[n] == i) for n, (i, _) in enumerate(questions))
    sent_hits = 0
    for n, (_, q) in enumerate(questions):
        golds = {normalise(a["text"]) for a in q["answers"]}
        found = " ".join(normalise(sentences[j][1]) for j in top3[n])
        sent_hits += any(g and g in found for g in golds)
    return 100 * para_hits / len(questions), 100 * sent_hits / len(questions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per backend (median reported)")
    parser.add_argument("--words", type=int, default=60, help="words per passage")
    parser.add_argument("--squad", type=Path, default=SQUAD, help="SQuAD-format JSON of real articles")
    parser.add_argument("--cache-dir", type=Path, help="where the ONNX exports are (made if missing)")
    parser.add_argument("--no-retrieval", action="store_true", help="skip the retrieval check")
    parser.add_argument("--ingest", action="store_true", help="also time a full ingest of the bench articles")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)

    squad = json.loads(args.squad.read_text(encoding="utf-8"))
    sentences = seed_sentences(project_seeds()) + [
        s for a in squad["data"] for p in a["paragraphs"] for s in split(p["context"])]
    passages = build_passages(sentences, args.words)
    mean_words = statistics.mean(len(p.split()) for p in passages)
    questions = [q["question"] for a in squad["data"] for p in a["paragraphs"] for q in p["qas"]][:40]

    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache_dir or Path(tmp)
        embedders: dict[str, Embedder] = {}
        for backend in BACKENDS:
            secs = timed(partial(ensure_export, DEFAULT_MODEL, backend, cache))
            if backend != "torch":
                console.print(f"{backend} export ready in {secs:.1f} s (0 when it was already there)")
            embedders[backend] = e = make_embedder(DEFAULT_MODEL, backend, cache)
            assert backend_of(e) == backend, f"{backend} fell back to {backend_of(e)}"
            e.encode(passages[:16])  # warm-up: the first call pays for allocations and graph set-up

        load = os.getloadavg()[0]
        console.print(f"{len(passages)} passages of {mean_words:.0f} words on average; {args.runs} runs; "
                      f"{os.cpu_count()} cores, load average {load:.1f} at the start")
        rates: dict[str, list[float]] = {b: [] for b in embedders}
        cpu_rates: dict[str, list[float]] = {b: [] for b in embedders}
        for run in range(args.runs):
            order = list(embedders)[run % len(embedders):] + list(embedders)[:run % len(embedders)]
            for backend in order:
                w, c = wall_and_cpu(partial(embedders[backend].encode, passages))
                rates[backend].append(len(passages) / w)
                cpu_rates[backend].append(len(passages) / c)
        # Each question once, then again: torch pays heavily the first time it sees an input shape.
        first, warm = ({b: statistics.median(1000 * timed(partial(e.encode, [q])) for q in questions)
                        for b, e in embedders.items()} for _ in range(2))

        reference = embedders["torch"].encode(passages + questions)
        table = Table(title=f"Embedding throughput ({DEFAULT_MODEL}, ~{args.words}-word passages)")
        for col in ("backend", "passages/s (median)", "min–max", "× torch", "per CPU-second",
                    "1 question, first / warm (ms)", "cosine to torch min / mean"):
            table.add_column(col, justify="left" if col == "backend" else "right")
        quality = {}
        if not args.no_retrieval:
            table.add_column("paragraph top-1 %", justify="right")
            table.add_column("answer in top-3 sentences %", justify="right")
            quality = {b: retrieval_scores(e, squad) for b, e in embedders.items()}
        base = statistics.median(rates["torch"])
        for backend, e in embedders.items():
            cos = np.sum(e.encode(passages + questions) * reference, axis=1)
            med = statistics.median(rates[backend])
            row = [backend, f"{med:.1f}", f"{min(rates[backend]):.1f}–{max(rates[backend]):.1f}",
                   f"{med / base:.2f}", f"{statistics.median(cpu_rates[backend]):.1f}",
                   f"{first[backend]:.1f} / {warm[backend]:.1f}", f"{cos.min():.4f} / {cos.mean():.4f}"]
            if quality:
                row += [f"{quality[backend][0]:.1f}", f"{quality[backend][1]:.1f}"]
            table.add_row(*row)
        console.print(table)
        if args.ingest:
            ingest_table(console, embedders, squad, Path(tmp))
        console.print(f"load average at the end {os.getloadavg()[0]:.1f}")


def ingest_table(console: Console, embedders: dict[str, Embedder], squad: dict, tmp: Path) -> None:
    """One full ingest of the bench articles (one file each, paragraphs as blocks) per backend."""
    from qa.index.local import ingest_paths

    corpus = tmp / "articles"
    corpus.mkdir()
    for n, article in enumerate(squad["data"]):
        text = "\n\n".join(p["context"] for p in article["paragraphs"])
        (corpus / f"{n:03d}.txt").write_text(f"{article['title']}\n\n{text}\n", encoding="utf-8")
    table = Table(title="Full ingest of the bench articles (one run each)")
    for col in ("backend", "passages", "seconds", "passages/s"):
        table.add_column(col, justify="left" if col == "backend" else "right")
    for backend, e in embedders.items():
        start = time.perf_counter()
        report = ingest_paths([corpus], tmp / f"index-{backend}", e, rebuild=True)
        secs = time.perf_counter() - start
        assert not report.errors, report.errors
        table.add_row(backend, str(report.passages), f"{secs:.1f}", f"{report.passages / secs:.1f}")
    console.print(table)


if __name__ == "__main__":
    main()
