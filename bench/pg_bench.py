"""PostgreSQL store: ingest time and the latency of one candidates() round trip, at seeds scale or larger.

Starts a throwaway PostgreSQL with pgvector (pgserver) unless --store names one. At seeds scale it uses the
real model; with --synthetic N it ingests N generated articles of real seed sentences embedded by a fast
hashing embedder (the vectors' quality does not matter for timing), to show how the query scales and that
the planner uses the HNSW and GIN indexes.

Run: .venv/bin/python bench/pg_bench.py [--synthetic 2000] [--limit 30] [--repeat 5] [--store postgresql://...]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from qa.config import project_seeds
from qa.index import postgres as pg_store
from qa.index.postgres import encoding as pg_encoding
from qa.index.postgres import store as pg_read
from qa.text.lexical import terms, tokens

QUESTIONS = [
    "How much did the Biden administration pledge to the Haiti mission?",
    "Who did Ruto call in January 2025?",
    "What agreement did Ruto want to conclude with the United States?",
    "Who won the 2022 FIFA World Cup?",
]
_WORD = re.compile(r"\w+")


class HashEmbedder:
    """Normalised bags of hashed words: fast, deterministic, enough to time a store."""

    name = "bench-hash-384"
    dim = 384

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                h = hashlib.blake2b(word.encode(), digest_size=4).digest()
                out[i, int.from_bytes(h[:2], "little") % self.dim] += 1.0 if h[2] % 2 else -1.0
            out[i, 0] += 1e-3  # never a zero vector
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def synthetic_corpus(folder: Path, articles: int, seed: int = 0) -> None:
    """`articles` files of 6 to 14 paragraphs, each paragraph one to four real sentences of the seeds."""
    sentences = [line.strip() for f in sorted(project_seeds().glob("*.txt"))
                 for line in f.read_text(encoding="utf-8").splitlines() if len(line.split()) > 12]
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(articles):
        paragraphs = [" ".join(rng.sample(sentences, rng.randint(1, 4))) for _ in range(rng.randint(6, 14))]
        (folder / f"a{n:06d}.txt").write_text(f"Article {n}\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", help="a PostgreSQL DSN; default: a throwaway pgserver")
    parser.add_argument("--synthetic", type=int, default=0, help="generated articles instead of the seeds")
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="qa-pg-bench-"))
    server = None
    try:
        dsn = args.store
        if dsn is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import pgserver
            t0 = time.perf_counter()
            server = pgserver.get_server(tmp / "data", cleanup_mode="delete")
            dsn = server.get_uri()
            print(f"pgserver start: {time.perf_counter() - t0:.2f} s")
        embedder: object
        if args.synthetic:
            corpus = tmp / "corpus"
            synthetic_corpus(corpus, args.synthetic)
            embedder = HashEmbedder()
        else:
            from qa.embedding import SentenceTransformerEmbedder
            corpus = project_seeds()
            embedder = SentenceTransformerEmbedder()
            embedder.load()
        schema = "qa_bench"
        t0 = time.perf_counter()
        report = pg_store.ingest_paths_pg([corpus], dsn, embedder, rebuild=True, schema=schema)
        print(f"ingest: {len(report.added)} articles, {report.passages} passages in {time.perf_counter() - t0:.1f} s")

        with pg_store.PgStore(dsn, schema=schema) as store:
            vectors = embedder.encode(QUESTIONS)
            prepared = [(v, tokens(q), terms(q)) for q, v in zip(QUESTIONS, vectors, strict=True)]
            store.candidates(*prepared[0], limit=args.limit)  # warm the connection and the plan
            times, sizes = [], []
            for _ in range(args.repeat):
                for v, toks, ts in prepared:
                    t0 = time.perf_counter()
                    c = store.candidates(v, toks, ts, limit=args.limit)
                    times.append((time.perf_counter() - t0) * 1000)
                    sizes.append(len(c.passages))
            times.sort()
            print(f"candidates(limit={args.limit}): median {statistics.median(times):.1f} ms, "
                  f"p95 {times[int(0.95 * (len(times) - 1))]:.1f} ms, {statistics.mean(sizes):.0f} passages returned "
                  f"({len(times)} queries, one round trip each)")
            import psycopg
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'SET search_path TO "{schema}", public')
                conn.execute(f"SET hnsw.ef_search = {max(40, 2 * args.limit)}")
                v, toks, ts = prepared[0]
                plan = conn.execute("EXPLAIN (ANALYZE) " + pg_read._CANDIDATES, {
                    "tokens": list(dict.fromkeys([*toks, *ts])), "terms": ts,
                    "lexemes": [pg_encoding.lexeme(t) for t in ts], "limit": args.limit, "exclude": [],
                    "vector": pg_encoding.vector_text(v)}).fetchall()
            lines = [r[0] for r in plan]
            used = [name for name in ("passages_embedding", "passages_tsv") if any(name in line for line in lines)]
            print(f"server execution: {lines[-1].split(':')[1].strip()}; indexes used: {', '.join(used) or 'none (seq scan)'}")
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
