"""The core wired together: settings → embedder → index → the question pipeline, for every front end."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from qa.answering.answer import Answer, Citation
from qa.config import Settings, check_k, check_mode, check_reader, resolve
from qa.documents.feeds import feed_of
from qa.documents.freshness import Freshness
from qa.documents.view import ArticleLine, article_text, source_id
from qa.embedding import Embedder, backend_of, make_embedder, vector_kind
from qa.errors import IndexCorruptError, IndexMissingError, SourceError
from qa.index.contract import DocumentRecord, IndexInfo, IndexTarget, ReadStore
from qa.index.open import target_for
from qa.index.pipeline import IngestReport, Progress, check_compatible, ingest_changes, ingest_paths
from qa.pipeline import Pipeline
from qa.question.conversation import Turn, check_history
from qa.reader.models import Reader, make_reader
from qa.reader.reading import SentenceReader
from qa.retrieval.retriever import Retriever
from qa.text.cleaning import check_question

# How often a running bot looks for a newer index. Locally that is one read of the small `CURRENT` file,
# done before every question; in PostgreSQL it is a round trip on a new connection, done once a second
# at most, so a new ingest is answered from within about a second.
GENERATION_CHECK_S = 1.0


@dataclass
class _Generation:
    """One opened index generation and the questions being answered on it."""

    pipeline: Pipeline
    generation: str | None
    asking: int = 0  # questions being answered on it now
    retired: bool = False  # a newer generation replaced it: closed once `asking` is back to 0
    by_id: dict[str, DocumentRecord] | None = None  # its documents by article id, once asked for

    def close_if_done(self) -> None:
        if self.retired and self.asking == 0:
            self.pipeline.retriever.source.close()


class Bot:
    """Loads the index once and answers questions; safe to share between threads.

    The index is live: between questions the bot notices that an ingest (in this process or another)
    committed a new generation, and answers the next question from it. A question being answered when
    that happens finishes on the generation it started on, which is closed once no question uses it.
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None, reader: Reader | None = None) -> None:
        self.settings = settings
        self._given = embedder
        self.embedder = embedder or make_embedder(settings.model, settings.backend, settings.cache_dir)
        self._reader = reader
        self._sentence_reader: SentenceReader | None = None
        self._live: _Generation | None = None
        self._checked = 0.0  # when the index's generation was last looked at (monotonic seconds)
        self._check_every = GENERATION_CHECK_S if settings.store else 0.0
        self._lock = threading.Lock()
        self.target: IndexTarget = target_for(settings)
        self.freshness = Freshness()  # one rule for whether a cited or viewed article changed since indexed

    @classmethod
    def from_folder(cls, folder: str | os.PathLike[str], index: str | os.PathLike[str] | None = None,
                    embedder: Embedder | None = None, **settings: object) -> Bot:
        """A bot over the articles in `folder`, its index (at `index`, or the default place) brought up to date
        first (only what changed is embedded). `settings` are `qa.config.resolve`'s arguments; the environment
        is not read (use `Bot(Settings.from_env(...))` for that). SourceError when nothing could be indexed."""
        bot = cls(resolve(env={}, index=index, corpus=folder, **settings), embedder=embedder)  # type: ignore[arg-type]
        try:
            report = bot.ingest([Path(folder)])
            if not bot.target.exists():
                raise SourceError(f"nothing could be indexed in {folder}: "
                                  f"{'; '.join(report.errors) or 'no articles found'}")
        except BaseException:
            bot.close()
            raise
        return bot

    def close(self) -> None:
        """Close the open index (a later question opens it again); the bot stays usable."""
        with self._lock:
            live, self._live = self._live, None
        if live is not None:
            live.retired = True
            live.close_if_done()

    def __enter__(self) -> Bot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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

    def _ingest_embedder(self, rebuild: bool = False) -> Embedder:
        """The embedder for an ingest: it exports the ONNX model first when missing, so questions need no torch.
        An index built with another model or kind of vectors is refused first, before any model is loaded."""
        if self._given is None and not rebuild and self.target.exists():
            try:
                store = self.target.open()
            except (IndexCorruptError, IndexMissingError):
                store = None  # the ingest repairs or builds it
            if store is not None:
                try:
                    built = IndexInfo(store.model, store.backend, store.dim)
                finally:
                    store.close()
                check_compatible(built, self.settings.model, self.settings.backend, self.target.where)
        if self._given is None:
            s = self.settings
            self.embedder = make_embedder(s.model, s.backend, s.cache_dir, export_missing=True)
        return self.embedder

    def ingest(self, paths: list[Path], rebuild: bool = False, progress: Progress | None = None) -> IngestReport:
        """Incrementally ingest `paths` into the configured index; the next question opens the new one."""
        report = ingest_paths(paths, self.target, self._ingest_embedder(rebuild), rebuild=rebuild, progress=progress,
                              vectors=self.settings.vectors)
        with self._lock:
            self._checked = 0.0  # look for the new generation at the next question
        return report

    def ingest_changed(self, changed: set[Path], progress: Progress | None = None) -> IngestReport:
        """Ingest only files and folders that changed (see `qa.index.pipeline.ingest_changes`)."""
        report = ingest_changes(changed, self.target, self._ingest_embedder(), progress=progress,
                                vectors=self.settings.vectors)
        with self._lock:
            self._checked = 0.0
        return report

    def reindex(self, progress: Progress | None = None) -> IngestReport:
        """Re-ingest the files and folders the index was built from, as its ingests recorded them (only what
        changed is embedded); on a first run (see `needs_first_build`), build it from the corpus. Nothing else
        enters the index. IndexMissingError when there is no index; SourceError when it records nothing (it
        was built before what it was built from was recorded)."""
        if self.needs_first_build():
            return self.ingest([self.settings.corpus], progress=progress)
        store = self.target.open()
        try:
            paths = store.paths()
        finally:
            store.close()
        if not paths:
            raise SourceError(f"the {self.target.where} does not record what it was built from "
                              "(it was built before this was recorded): ingest its files and folders again")
        return self.ingest([Path(p) for p in paths], progress=progress)

    def open_store(self) -> ReadStore:
        """The configured index opened for questions: IndexMissingError when there is none yet."""
        return self.target.open(self.embedder.name)

    def check_index(self) -> None:
        """Fail at once on a missing, damaged or mismatched index (unless a first run will build it)."""
        if not self.needs_first_build():
            self.open_store().close()

    def _open(self) -> _Generation:
        """The index's current generation opened, with the retriever and reader over it."""
        generation = self.target.generation()
        source = self.open_store()
        if self._given is None and vector_kind(source.backend) != vector_kind(backend_of(self.embedder)):
            # questions must be embedded the way the passages were
            s = self.settings
            self.embedder = make_embedder(s.model, source.backend, s.cache_dir)
        reader = None if self.settings.reader == "none" else self.sentence_reader()
        return _Generation(Pipeline(Retriever(source, self.embedder), reader), generation)

    def load(self, progress: Progress | None = None) -> Pipeline:
        """Open the index and the models (building the index from the corpus on a first run); later calls
        return the open index, switching to a newer generation when an ingest has committed one."""
        with self._lock:
            live = self._live
            if live is not None and time.monotonic() - self._checked < self._check_every:
                return live.pipeline
        if live is None:
            self.build_if_missing(progress)
            fresh = self._open()
            self.embedder.encode(["warm up"])  # the first encode is slow; pay it at load, not at the first question
        else:
            current = self.target.generation()
            with self._lock:
                self._checked = time.monotonic()
            if current is None or current == live.generation:
                return live.pipeline
            fresh = self._open()
        with self._lock:
            self._checked = time.monotonic()
            if self._live is not live:  # another thread switched first: keep its generation
                fresh.retired = True
                fresh.close_if_done()
                return self._live.pipeline if self._live is not None else fresh.pipeline
            self._live = fresh
            if live is not None:
                live.retired = True
                live.close_if_done()
            return fresh.pipeline

    @contextmanager
    def _generation(self) -> Iterator[_Generation]:
        """The current generation, held open while a question is answered on it."""
        self.load()
        with self._lock:
            held = self._live
            assert held is not None
            held.asking += 1
        try:
            yield held
        finally:
            with self._lock:
                held.asking -= 1
                held.close_if_done()

    def search(self, text: str, k: int | None = None, mode: str | None = None) -> list[Citation]:
        """The best passages for `text`, ranked, each as a citation (see `Pipeline.search`). InputError for a bad
        question, `k` or `mode` (see `qa.config`)."""
        q = check_question(text)
        k, mode = check_k(k) if k is not None else None, check_mode(mode) if mode is not None else None
        with self._generation() as held:
            found = held.pipeline.search(q, k=k or self.settings.k, mode=mode or self.settings.mode)
            self._recheck_stale(held, found)
            return found

    def _records(self, held: _Generation) -> dict[str, DocumentRecord]:
        if held.by_id is None:
            held.by_id = {source_id(s): rec for s, rec in held.pipeline.retriever.source.documents().items()}
        return held.by_id

    def _recheck_stale(self, held: _Generation, citations: list[Citation]) -> None:
        """Citations flagged stale because their file's bytes moved are stale only when their article changed
        (`qa.documents.freshness.Freshness`): editing one entry of a feed leaves the others' citations fresh,
        as their article views are."""
        for c in citations:
            record = self._records(held).get(c.source_id) if c.stale else None
            if record is not None:
                c.stale = self.freshness.changed(record.source, record.content_hash, feed_of(record.source))

    def articles(self) -> dict[str, DocumentRecord]:
        """Every indexed article by its id (`qa.documents.view.source_id`)."""
        with self._generation() as held:
            return dict(self._records(held))

    def article(self, article_id: str) -> tuple[DocumentRecord, list[ArticleLine], bool] | None:
        """The indexed article with this id: its lines as its reader sees them now (for a web page or a feed
        entry its headline and paragraphs, each numbered by its line in the file, never markup), and whether it
        changed since it was indexed, by the rule its citations follow (`qa.documents.freshness`); None for an
        id that is not indexed. SourceError when its file can no longer be read."""
        record = self.articles().get(article_id)
        if record is None:
            return None
        lines, now = article_text(record.source)  # the document its file gives now, read as an ingest reads it
        return record, lines, now != record.content_hash

    def status(self) -> dict[str, object]:
        """The open index: its generation, passages and model."""
        with self._generation() as held:
            store = held.pipeline.retriever.source
            return {"generation": held.generation, "passages": store.passage_count(), "model": store.model}

    def ask(self, question: str, history: Sequence[Turn | Sequence[str | None]] | None = None,
            k: int | None = None, mode: str | None = None, reader: str | None = None) -> Answer:
        """Answer a question; `history` holds the earlier turns of the same conversation (`Answer.turn()`, or
        (question, answer) pairs; the last `qa.config.HISTORY_TURNS` are read), and `reader` ("cross-encoder" or
        "none") overrides the settings' reader for this question. InputError for a bad question, `k`, `mode`,
        `reader` or `history`: each is checked here against the limits of `qa.config`, never quietly changed."""
        q = check_question(question)
        k, mode = check_k(k) if k is not None else None, check_mode(mode) if mode is not None else None
        reader = check_reader(reader) if reader is not None else None
        history = check_history(history)
        with self._generation() as held:
            answer = self._ask(held.pipeline, q, history, k, mode, reader)
            self._recheck_stale(held, answer.citations + answer.nearest)
            return answer

    def _ask(self, pipeline: Pipeline, q: str, history: Sequence[Turn | Sequence[str | None]] | None,
             k: int | None, mode: str | None, reader: str | None) -> Answer:
        if reader is not None and (reader == "none") != (pipeline.reader is None):
            pipeline = pipeline.with_reader(None if reader == "none" else self.sentence_reader())
        return pipeline.ask(q, k=k or self.settings.k, mode=mode or self.settings.mode, history=history or ())
