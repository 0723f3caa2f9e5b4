"""The core wired together: settings → embedder → index → retriever → answerer, for every front end."""

from __future__ import annotations

import re
import threading
import unicodedata
from pathlib import Path

from qa import store
from qa.answer import Answer, Answerer
from qa.candidates import CandidateSource
from qa.config import Settings
from qa.conversation import rewrite
from qa.embedder import Embedder, backend_of, make_embedder, vector_kind
from qa.errors import IndexMissingError, InputError, SourceError
from qa.ingest import IngestReport, Progress, ingest_paths
from qa.reader import Reader, make_reader
from qa.reading import SentenceReader
from qa.retrieval import Retriever

MAX_QUESTION_CHARS = 2000


# Escape sequences as terminals parse them: CSI, OSC (to BEL or ST), DCS/SOS/PM/APC strings, and
# two-character escapes; a lone ESC as well.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|[ -/]*[0-~])?|\x9b[0-?]*[ -/]*[@-~]"
)
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def clean_question(text: str) -> str:
    """A question as the bot should read it: escape sequences dropped, other control characters and
    runs of spaces made single spaces, Unicode in its composed (NFC) form, ends trimmed.

    A question pasted from a terminal or a document can carry colour codes or stray control bytes;
    they are not words, and echoed back they would be commands to the terminal.
    """
    text = _CONTROLS.sub(" ", _ESCAPE_SEQUENCE.sub("", text))
    return " ".join(unicodedata.normalize("NFC", text).split())


def check_question(question: str) -> str:
    """The question cleaned (see `clean_question`), or InputError for an empty or oversized one."""
    q = clean_question(question or "")
    if not q:
        raise InputError("the question is empty: ask something, e.g. qa ask \"Who signed the agreement?\"")
    if len(q) > MAX_QUESTION_CHARS:
        raise InputError(f"the question is too long ({len(q)} characters, at most {MAX_QUESTION_CHARS})")
    return q


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
        return s.store is None and not s.index_given and not store.exists(s.index_dir)

    def _ingest_embedder(self) -> Embedder:
        """The embedder for an ingest: it exports the ONNX model first when missing, so questions need no torch."""
        if self._given is None:
            s = self.settings
            self.embedder = make_embedder(s.model, s.backend, s.cache_dir, export_missing=True)
        return self.embedder

    def ingest(self, paths: list[Path], rebuild: bool = False, progress: Progress | None = None) -> IngestReport:
        """Incrementally ingest `paths` into the configured index (or database), then reload it."""
        s, embedder = self.settings, self._ingest_embedder()
        if s.store is not None:
            from qa.pg_store import ingest_paths_pg

            report = ingest_paths_pg(paths, s.store, embedder, rebuild=rebuild, progress=progress)
        else:
            report = ingest_paths(paths, s.index_dir, embedder, rebuild=rebuild, progress=progress)
        with self._lock:
            self._answerer = None
        return report

    def reindex(self, progress: Progress | None = None) -> IngestReport:
        """Re-ingest the configured corpus (only what changed is embedded)."""
        return self.ingest([self.settings.corpus], progress=progress)

    def open_store(self) -> CandidateSource:
        """The configured store, opened: the local index, or the PostgreSQL database of `--store`."""
        s = self.settings
        if s.store is not None:
            from qa.pg_store import PgStore

            return PgStore(s.store, self.embedder.name)
        if not store.exists(s.index_dir):
            raise IndexMissingError(f"no index at {s.index_dir}: run `qa ingest PATH --index {s.index_dir}` first")
        return store.open_index(s.index_dir, self.embedder.name)

    def load(self, progress: Progress | None = None) -> Answerer:
        """Open the index and the model (building the index from the corpus on a first run)."""
        with self._lock:
            if self._answerer is not None:
                return self._answerer
        if self.needs_first_build():
            report = self.reindex(progress)
            if not store.exists(self.settings.index_dir):
                why = "; ".join(report.errors) or "no articles found"
                raise SourceError(f"cannot build the index from {self.settings.corpus}: {why}")
        source = self.open_store()
        built_with = str(getattr(source, "backend", "torch"))
        if self._given is None and vector_kind(built_with) != vector_kind(backend_of(self.embedder)):
            # questions must be embedded the way the passages were
            s = self.settings
            self.embedder = make_embedder(s.model, built_with, s.cache_dir)
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
