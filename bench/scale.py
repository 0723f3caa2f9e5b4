"""Speed and size at scale: a synthetic index of N passages recombined from real sentences, and what it costs.

    python bench/scale.py --sizes 10000 100000 1000000

The passages are made of 2–4 real sentences (~60 words) drawn from the seed articles and the SQuAD bench
file. Embedding a million passages would take hours on a laptop, so the sentences are embedded once with
the real model and a passage's vectors are the normalised sums of its sentences' vectors (precomputed
vectors: the store and the retrieval do exactly the work they do on real ones). The index is written
with the store's own segment writer. Each size is then measured in a fresh process: index size on disk,
resident memory, warm question latency (question embedded, hybrid retrieval, answer built) with its p50
and p95, recall@10 of the approximate nearest-neighbour index against an exact scan, and beside them the
plain baseline: every passage vector held as float32 in memory and scanned exactly.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa.config import resolve  # noqa: E402
from qa.documents import find_files, load_file  # noqa: E402
from qa.index import local as store  # noqa: E402
from qa.index.contract import DocumentRecord  # noqa: E402
from qa.index.local import manifest  # noqa: E402
from qa.index.local.disk import remove_folder  # noqa: E402
from qa.index.local.segment import Segment, SegmentData, write_segment  # noqa: E402
from qa.passages import Passage, split_document  # noqa: E402
from qa.text.lexical import terms, tokens  # noqa: E402
from qa.text.sentences import split_spans  # noqa: E402

BENCH_FILE = ROOT.parent / "shared" / "bench" / "squad-v2-dev-5articles.json"
PER_DOC = 10  # passages per synthetic article


def sentence_pool(bench_file: Path) -> list[str]:
    """Distinct real sentences of five words or more: the seeds' and the SQuAD paragraphs'."""
    out: list[str] = []
    files, _ = find_files([ROOT / "seeds"])
    for f in files:
        out.extend(s for p in split_document(load_file(f)) for s in p.sentence_texts())
    if bench_file.is_file():
        data = json.loads(bench_file.read_text(encoding="utf-8"))
        for article in data["data"]:
            for para in article["paragraphs"]:
                text = para["context"]
                out.extend(text[a:b] for a, b in split_spans(text))
    return [s for s in dict.fromkeys(" ".join(s.split()) for s in out) if len(s.split()) >= 5]


def questions(bench_file: Path, n: int) -> list[str]:
    qs = [json.loads(line)["q"] for line in (ROOT / "tests" / "data" / "seeds_questions.jsonl").read_text().splitlines()
          if line.strip()]
    if bench_file.is_file():
        data = json.loads(bench_file.read_text(encoding="utf-8"))
        qs += [q["question"] for a in data["data"] for p in a["paragraphs"] for q in p["qas"]][:400]
    return qs[:n]


def pool_vectors(sentences: list[str], cache: Path) -> np.ndarray:
    """The real model's vectors of the sentence pool, computed once and cached."""
    key = hashlib.sha1("\n".join(sentences).encode()).hexdigest()[:12]
    path = cache / f"pool-{key}.npy"
    if path.exists():
        return np.load(path)
    from qa.embedding import SentenceTransformerEmbedder

    vectors = SentenceTransformerEmbedder().encode(sentences)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def _normalise(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float16)


def build(index_dir: Path, n: int, sentences: list[str], vectors: np.ndarray, seed: int = 7) -> tuple[float, float]:
    """Write a synthetic index of `n` passages into `index_dir`; return the seconds spent making the synthetic
    passages and the seconds the store's writer took (segment, search indexes, manifest)."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    counts = rng.integers(2, 5, size=n)
    picks = rng.integers(0, len(sentences), size=int(counts.sum()))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    owner = np.repeat(np.arange(n), counts)
    dim = vectors.shape[1]
    vocab: dict[str, int] = {}
    pool_ids = [np.array([vocab.setdefault(t, len(vocab)) for t in tokens(s)], dtype=np.int32) for s in sentences]
    pool_len = np.array([len(a) for a in pool_ids], dtype=np.int64)
    flat_ids = np.concatenate(pool_ids)
    pool_ptr = np.concatenate([[0], np.cumsum(pool_len)])

    s_len = pool_len[picks]
    s_ptr = np.concatenate([[0], np.cumsum(s_len)])
    s_tok = np.concatenate([flat_ids[pool_ptr[i]:pool_ptr[i + 1]] for i in picks])
    p_ptr = s_ptr[np.concatenate([starts, [len(picks)]])]  # a passage's tokens are its sentences' tokens in order

    sv = vectors[picks].astype(np.float16)
    pv = np.zeros((n, dim), dtype=np.float16)
    wv = np.zeros((len(picks), dim), dtype=np.float16)
    for lo in range(0, n, 50_000):
        hi = min(n, lo + 50_000)
        rows = slice(starts[lo], starts[hi - 1] + counts[hi - 1])
        v = vectors[picks[rows]].astype(np.float32)
        own = owner[rows] - lo
        sums = np.zeros((hi - lo, dim), dtype=np.float32)
        np.add.at(sums, own, v)
        pv[lo:hi] = _normalise(sums)
        window = v.copy()
        same = own[1:] == own[:-1]  # sentence j and j+1 are of one passage
        window[1:][same] += v[:-1][same]
        window[:-1][same] += v[1:][same]
        wv[rows] = _normalise(window)

    passages: list[Passage] = []
    months = [f"{y}-{m:02d}-15" for y in (2024, 2025) for m in range(1, 13)]
    for i in range(n):
        texts = [sentences[j] for j in picks[starts[i]:starts[i] + counts[i]]]
        spans, at = [], 0
        for t in texts:
            spans.append((at, at + len(t)))
            at += len(t) + 1
        text = " ".join(texts)
        doc = i // PER_DOC
        line = 1 + 2 * (i % PER_DOC)
        passages.append(Passage(f"synthetic/{doc:07d}.txt", f"Synthetic article {doc}", months[doc % len(months)], None,
                                text, line, line, 0, len(text), tuple(spans)))
    data = SegmentData(passages, pv, sv, wv, list(vocab), s_ptr, s_tok, p_ptr, s_tok)
    per_doc = np.bincount(np.arange(n) // PER_DOC)
    t1 = time.perf_counter()
    index_dir.mkdir(parents=True, exist_ok=True)
    name = write_segment(index_dir, data, dim)
    docs = [DocumentRecord(p.source, p.source, p.title, p.date, int(per_doc[i // PER_DOC]), name)
            for i, p in enumerate(passages) if i % PER_DOC == 0]
    manifest.commit(index_dir, "all-MiniLM-L6-v2", dim, docs, [name], "onnx")  # questions embedded as by default
    return t1 - t0, time.perf_counter() - t1


def disk_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def rss_mb() -> tuple[float, float]:
    """(resident, of which anonymous) memory of this process in MB; the rest is pages of mapped files,
    which the kernel can drop and read again."""
    status = Path("/proc/self/status").read_text()
    field = {line.split(":")[0]: line.split()[1] for line in status.splitlines() if line.startswith(("Vm", "Rss"))}
    return int(field["VmRSS"]) / 1024, int(field["RssAnon"]) / 1024


def measure(index_dir: Path, n_questions: int, bench_file: Path) -> dict:
    """Run in a fresh process: open the index, answer questions without the reader, report latency, memory and
    ANN recall; then the same questions again with the reader."""
    from qa.bot import Bot

    qs = questions(bench_file, n_questions + 3)
    bot = Bot(resolve(index=index_dir, reader="none"))
    bot.embedder.encode(["warm up"])
    _, rss_model = rss_mb()
    t0 = time.perf_counter()
    bot.load()
    open_s = time.perf_counter() - t0
    for q in qs[:3]:
        bot.ask(q)
    lat = []
    for q in qs[3:]:
        t = time.perf_counter()
        bot.ask(q)
        lat.append((time.perf_counter() - t) * 1000)
    rss_after, anon_after = rss_mb()
    reading = Bot(resolve(index=index_dir))
    reading.ask(qs[0])
    with_reader = []
    for q in qs[3:]:
        t = time.perf_counter()
        reading.ask(q)
        with_reader.append((time.perf_counter() - t) * 1000)
    index = store.open_index(index_dir)
    qv = bot.embedder.encode(qs[3:])
    recall = None
    seg = index.segments[0]
    if seg.ann is not None:
        pv = np.asarray(seg.passage_vectors)
        exact = []
        for v in qv:
            scores = np.concatenate([pv[lo:lo + 100_000].astype(np.float32) @ v for lo in range(0, len(pv), 100_000)])
            exact.append(set(np.argsort(-scores)[:10].tolist()))
        # raw: the graph's own top 10; as used: the exact top 10 among the 100 nearest it returns, which the
        # store rescores exactly
        raw = [set(np.asarray(seg.ann.search(v, 10).keys).tolist()) for v in qv]  # type: ignore[attr-defined]
        used = [set(np.asarray(seg.ann.search(v, 100).keys).tolist()) for v in qv]  # type: ignore[attr-defined]
        recall = (float(np.mean([len(f & e) / 10 for f, e in zip(raw, exact, strict=True)])),
                  float(np.mean([len(f & e) / 10 for f, e in zip(used, exact, strict=True)])))
    lexical = lexical_recall(seg, [terms(q) for q in qs[3:]])
    return {"open_s": open_s, "lexical_recall": lexical, "p50": float(np.percentile(lat, 50)), "p95": float(np.percentile(lat, 95)),
            "reader_p50": float(np.percentile(with_reader, 50)), "reader_p95": float(np.percentile(with_reader, 95)),
            "rss_mb": rss_after, "anon_mb": anon_after, "rss_model_mb": rss_model, "recall10": recall}


def lexical_recall(seg: Segment, questions_terms: list[list[str]], k: int = 100) -> float:
    """Share of the exact BM25 top `k` (every posting of every term summed) among the `k` lexical candidates
    the segment returns, over the questions."""
    data, indices, indptr, vocab = seg.bm25
    shares = []
    for qterms in questions_terms:
        ids = [vocab[t] for t in dict.fromkeys(qterms) if t in vocab]
        if not ids:
            continue
        acc = np.zeros(seg.size, dtype=np.float64)
        for i in ids:
            acc[indices[indptr[i]:indptr[i + 1]]] += data[indptr[i]:indptr[i + 1]]
        hit = int(np.count_nonzero(acc))
        exact = np.sort(acc)[::-1][:min(k, hit)]
        rows, _ = seg.lexical_top(qterms, k)
        # by score, so that rows tied at the k-th score count alike
        shares.append(float(np.mean(acc[rows] >= exact[-1] - 1e-6)) * len(rows) / len(exact))
    return float(np.mean(shares)) if shares else float("nan")


def measure_baseline(index_dir: Path, n_questions: int, bench_file: Path) -> dict:
    """The plain baseline: every passage vector as float32 in memory, scanned exactly per question."""
    from qa.bot import Bot

    embedder = Bot(resolve(index=index_dir)).embedder  # questions embedded as the store's rows are
    embedder.encode(["warm up"])
    _, rss_model = rss_mb()
    index = store.open_index(index_dir)
    matrix = np.concatenate([np.asarray(s.passage_vectors, dtype=np.float32) for s in index.segments])
    lat = []
    for q in questions(bench_file, n_questions):
        t = time.perf_counter()
        v = embedder.encode([q])[0]
        scores = matrix @ v
        np.argpartition(-scores, 10)[:10]
        lat.append((time.perf_counter() - t) * 1000)
    rss, anon = rss_mb()
    return {"p50": float(np.percentile(lat, 50)), "p95": float(np.percentile(lat, 95)), "rss_mb": rss,
            "anon_mb": anon, "rss_model_mb": rss_model}


def cold_start(index_dir: Path, runs: int) -> float:
    """Median wall time of `qa ask` (without the reader) in a new process against the index."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "adapters", "ask", "Who did Ruto call in January 2025?",
                        "--index", str(index_dir), "--reader", "none"], cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def _child(kind: str, index_dir: Path, n_questions: int, bench_file: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--index", str(index_dir),
                          "--queries", str(n_questions), "--bench-file", str(bench_file)],
                         check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=50, help="questions timed per size")
    ap.add_argument("--cold-runs", type=int, default=3)
    ap.add_argument("--bench-file", type=Path, default=BENCH_FILE)
    ap.add_argument("--workdir", type=Path, default=None, help="where the synthetic indexes go (default: a temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep the synthetic indexes")
    ap.add_argument("--build-only", action="store_true", help="build the synthetic indexes into --workdir, measure nothing")
    ap.add_argument("--child", choices=["measure", "baseline"], help=argparse.SUPPRESS)
    ap.add_argument("--index", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        fn = measure if args.child == "measure" else measure_baseline
        print(json.dumps(fn(args.index, args.queries, args.bench_file)))
        return

    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="qa-scale-"))
    sentences = sentence_pool(args.bench_file)
    with console.status(f"Embedding {len(sentences)} real sentences once…"):
        vectors = pool_vectors(sentences, Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "qa" / "bench")
    table = Table(title=f"Scale on {os.cpu_count()} CPU cores: synthetic passages of real sentences, "
                        f"{args.queries} questions per size")
    for col in ("passages", "system", "make / write s", "disk MB", "open s", "cold start s", "warm p50 ms", "warm p95 ms",
                "with reader p50 / p95 ms", "resident MB", "of it heap MB (model alone)",
                "ANN recall@10 (raw / as used)", "lexical recall@100"):
        table.add_column(col, justify="right")
    for n in args.sizes:
        index_dir = work / f"index-{n}"
        if not store.exists(index_dir):
            with console.status(f"Building {n:,} passages…"):
                made, written = build(index_dir, n, sentences, vectors)
            console.print(f"built {n:,} passages: {made:.1f} s making them, {written:.1f} s writing the index")
        else:
            made = written = float("nan")
        if args.build_only:
            continue
        with console.status(f"Measuring {n:,}…"):
            m = _child("measure", index_dir, args.queries, args.bench_file)
            b = _child("baseline", index_dir, args.queries, args.bench_file)
            cold = cold_start(index_dir, args.cold_runs) if args.cold_runs else float("nan")
        recall = "—" if m["recall10"] is None else f"{m['recall10'][0]:.3f} / {m['recall10'][1]:.3f}"
        table.add_row(f"{n:,}", "this store", f"{made:.0f} / {written:.0f}", f"{disk_size(index_dir) / 2**20:.0f}", f"{m['open_s']:.2f}",
                      f"{cold:.2f}", f"{m['p50']:.1f}", f"{m['p95']:.1f}",
                      f"{m['reader_p50']:.0f} / {m['reader_p95']:.0f}",
                      f"{m['rss_mb']:.0f}", f"{m['anon_mb']:.0f} ({m['rss_model_mb']:.0f})", recall,
                      f"{m['lexical_recall']:.3f}")
        table.add_row("", "float32 scan (dense only)", "", f"{n * 384 * 4 / 2**20:.0f}", "", "", f"{b['p50']:.1f}", f"{b['p95']:.1f}",
                      "", f"{b['rss_mb']:.0f}", f"{b['anon_mb']:.0f} ({b['rss_model_mb']:.0f})", "1.000", "")
        if not args.keep and args.workdir is None:
            remove_folder(index_dir)
    if not args.build_only:
        Console(width=200).print(table)


if __name__ == "__main__":
    main()
