"""The core wired together: settings → embedder → index → retriever → answerer, for every front end."""

from __future__ import annotations

import threading
from pathlib import Path

from qa.answering.answer import Answer
from qa.answering.answerer import Answerer
from qa.config import Settings
from qa.embedding import Embedder, backend_of, make_embedder, vector_kind
from qa.errors import SourceError
from qa.index.contract import IndexTarget, ReadStore
from qa.index.open import target_for
from qa.index.pipeline import IngestReport, Progress, ingest_paths
from qa.reader.models import Reader, make_reader
from qa.reader.reading import SentenceReader
from qa.retrieval.retriever import Retriever
from qa.text.cleaning import check_question
from qa.text.conversation import rewrite


class Bot:
    """Loads the index once and answers questions; safe to share between threads."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, reader: Reader | None = None) -> None:
        self.settings = settings
        self._given = embedder
        self.embedder = embedder or make_embedder(settings.model, settings.backend, settings.cache_dir)
        self._reader = reader
        self._sentence_reader: SentenceReader | None = None
        self._answerer: Answerer | None = None
        self._lock = threading.Lock()
        self.target: IndexTarget = target_for(settings)

    def sentence_reader(self) -> SentenceReader:
        """The reader (the settings' model, or the one given), loaded and warmed up on first use."""
        with self._lock:
            if self._sentence_reader is None:
                reader = self._reader or make_reader(self.settings.reader_model)
                reader.score("warm up", ["warm up"])  # the first run is slow; pay it at load, not at a question
                self._sentence_reader = SentenceReader(reader)
            return self._sentence_reader

    def needs_first_build(self) -> bool:
        """True when no index exists and the user did not choose one: the first run builds it from the corpus."""
        s = self.settings
        return s.store is None and not s.index_given and not self.target.exists()

    def build_if_missing(self, progress: Progress | None = None) -> IngestReport | None:
        """On a first run (see `needs_first_build`), build the index from the corpus and return the report;
        SourceError when nothing could be indexed. None when there was nothing to build."""
        if not self.needs_first_build():
            return None
        report = self.reindex(progress)
        if not self.target.exists():
            why = "; ".join(report.errors) or "no articles found"
            raise SourceError(f"cannot build the index from {self.settings.corpus}: {why}")
        return report

    def _ingest_embedder(self) -> Embedder:
        """The embedder for an ingest: it exports the ONNX model first when missing, so questions need no torch."""
        if self._given is None:
            s = self.settings
            self.embedder = make_embedder(s.model, s.backend, s.cache_dir, export_missing=True)
        return self.embedder

    def ingest(self, paths: list[Path], rebuild: bool = False, progress: Progress | None = None) -> IngestReport:
        """Incrementally ingest `paths` into the configured index; the next question opens the new one."""
        report = ingest_paths(paths, self.target, self._ingest_embedder(), rebuild=rebuild, progress=progress)
        with self._lock:
            old, self._answerer = self._answerer, None
        if old is not None:
            old.retriever.source.close()
        return report

    def reindex(self, progress: Progress | None = None) -> IngestReport:
        """Re-ingest the configured corpus (only what changed is embedded)."""
        return self.ingest([self.settings.corpus], progress=progress)

    def open_store(self) -> ReadStore:
        """The configured index opened for questions: IndexMissingError when there is none yet."""
        return self.target.open(self.embedder.name)

    def check_index(self) -> None:
        """Fail at once on a missing, damaged or mismatched index (unless a first run will build it)."""
        if not self.needs_first_build():
            self.open_store().close()

    def load(self, progress: Progress | None = None) -> Answerer:
        """Open the index and the models (building the index from the corpus on a first run)."""
        with self._lock:
            if self._answerer is not None:
                return self._answerer
        self.build_if_missing(progress)
        source = self.open_store()
        if self._given is None and vector_kind(source.backend) != vector_kind(backend_of(self.embedder)):
            # questions must be embedded the way the passages were
            s = self.settings
            self.embedder = make_embedder(s.model, source.backend, s.cache_dir)
        reader = None if self.settings.reader == "none" else self.sentence_reader()
        answerer = Answerer(Retriever(source, self.embedder), reader=reader)
        self.embedder.encode(["warm up"])  # the first encode is slow; pay it at load, not at the first question
        with self._lock:
            self._answerer = answerer
        return answerer

    def ask(self, question: str, history: list[tuple[str, str | None]] | None = None,
            k: int | None = None, mode: str | None = None, reader: str | None = None) -> Answer:
        """Answer a question; `history` holds earlier (question, answer) turns of the same conversation, and
        `reader` ("cross-encoder" or "none") overrides the settings' reader for this question."""
        q = check_question(question)
        answerer = self.load()
        if reader is not None and (reader == "none") != (answerer.reader is None):
            answerer = Answerer(answerer.retriever, answerer.abstention,
                                None if reader == "none" else self.sentence_reader())
        asked_as = rewrite(q, history or [])
        return answerer.ask(q, k=k or self.settings.k, mode=mode or self.settings.mode, asked_as=asked_as)
