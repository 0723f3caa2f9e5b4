"""Ingest speed: passages per second through the whole ingest (split, embed, tokenise, write), per backend and
per way of making the vectors, beside the raw encoder throughput on the same passages (each passage text
embedded once, no pipeline) measured in the same run, and the cost of re-ingesting one changed article in a
large index.

    python bench/ingest_speed.py --passages 400
    python bench/ingest_speed.py --passages 400 --large /path/to/index-100000   # from bench/scale.py --keep

Articles are made of paragraphs of three real sentences (~60 words) from the seeds and the SQuAD bench
file, one passage each. Each figure is the median of --runs runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from scale import BENCH_FILE, sentence_pool  # noqa: E402

from qa.config import Settings  # noqa: E402
from qa.documents import Document, parse_text  # noqa: E402,F401
from qa.embedding import make_embedder  # noqa: E402
from qa.index import local as store  # noqa: E402
from qa.index.local import ingest_documents  # noqa: E402
from qa.index.representation import passage_text  # noqa: E402
from qa.passages import split_document  # noqa: E402


def articles(n_passages: int, seed: int = 11, per_article: int = 10, prefix: str = "article") -> list[Document]:
    """Articles of `per_article` paragraphs, each three real sentences."""
    pool = [s for s in sentence_pool(BENCH_FILE) if 12 <= len(s.split()) <= 30]
    rng = np.random.default_rng(seed)
    docs = []
    for a in range(0, n_passages, per_article):
        paras = [" ".join(pool[j] for j in rng.integers(0, len(pool), 3)) for _ in range(min(per_article, n_passages - a))]
        docs.append(parse_text(f"/bench/{prefix}-{a:06d}.txt", f"Article {a}\n\n" + "\n\n".join(paras) + "\n"))
    return docs


class Timed:
    """An embedder wrapper that adds up the time spent embedding."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.seconds = 0.0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def encode(self, texts: list[str]) -> np.ndarray:
        t = time.perf_counter()
        out = self.inner.encode(texts)  # type: ignore[attr-defined]
        self.seconds += time.perf_counter() - t
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passages", type=int, default=400)
    ap.add_argument("--backends", nargs="+", default=["onnx", "onnx-int8", "torch"])
    ap.add_argument("--vectors", nargs="+", default=["sentences", "full"])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--large", type=Path, help="a large index (e.g. bench/scale.py --keep) to time a one-article update in")
    args = ap.parse_args()

    from rich.console import Console
    from rich.table import Table

    settings = Settings.from_env()
    docs = articles(args.passages)
    n = sum(len(split_document(d)) for d in docs)
    words = np.mean([len(p.text.split()) for d in docs for p in split_document(d)])
    table = Table(title=f"Ingest of {n} passages (~{words:.0f} words each) on {os.cpu_count()} CPU cores, "
                        f"median of {args.runs} runs")
    for col in ("backend", "vectors", "raw encoder passages/s", "ingest passages/s", "ratio", "embedding share"):
        table.add_column(col, justify="right")
    texts = [passage_text(p) for d in docs for p in split_document(d)]
    for backend in args.backends:
        embedder = Timed(make_embedder(settings.model, backend, settings.cache_dir, export_missing=True))
        embedder.encode(["warm up"])
        raw = []
        for _ in range(args.runs):  # the encoder alone: each passage once, in the pipeline's batch size
            t = time.perf_counter()
            for i in range(0, len(texts), 256):
                embedder.inner.encode(texts[i:i + 256])  # type: ignore[attr-defined]
            raw.append(n / (time.perf_counter() - t))
        for vectors in args.vectors:
            speeds, shares = [], []
            for _ in range(args.runs):
                embedder.seconds = 0.0
                with tempfile.TemporaryDirectory() as tmp:
                    t = time.perf_counter()
                    ingest_documents(docs, Path(tmp) / "index", embedder, vectors=vectors)  # type: ignore[arg-type]
                    took = time.perf_counter() - t
                speeds.append(n / took)
                shares.append(embedder.seconds / took)
            raw_s, speed = float(np.median(raw)), float(np.median(speeds))
            table.add_row(backend, vectors, f"{raw_s:.0f}", f"{speed:.0f}", f"{speed / raw_s:.2f}",
                          f"{float(np.median(shares)):.0%}")
    Console(width=120).print(table)

    if args.large:
        index = store.open_index(args.large)
        embedder = Timed(make_embedder(index.model, index.backend, settings.cache_dir))
        embedder.encode(["warm up"])
        source = next(iter(index.documents()))
        changed = articles(10, seed=99, prefix="changed")[0]
        changed = replace(changed, source=source)
        index.close()
        embedder.seconds = 0.0
        t = time.perf_counter()
        report = ingest_documents([changed], args.large, embedder, roots=[])  # type: ignore[arg-type]
        took = time.perf_counter() - t
        Console(width=120).print(
            f"One changed article ({len(split_document(changed))} passages) in an index of {report.passages:,} passages: "
            f"{took:.2f} s in all, {embedder.seconds:.2f} s of it embedding, {took - embedder.seconds:.2f} s the rest")


if __name__ == "__main__":
    main()
