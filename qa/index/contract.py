"""The one contract every index keeps, whether its passages live in local segments or in PostgreSQL.

A *target* says where an index lives. It opens a `ReadStore` for questions and an `IndexWriter` for
one ingest. The ingest pipeline (`qa.index.pipeline`) only ever talks to these protocols, so the
rules of an ingest (what changed, which model and backend may write, what a rebuild drops) are
written once, and `qa.index.open.target_for` is the only place that tells the stores apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from qa.documents import Document
from qa.index.candidates import Candidates
from qa.passages import Passage


@dataclass
class DocumentRecord:
    """What an index remembers of one ingested document."""

    source: str
    content_hash: str
    title: str | None
    date: str | None
    passages: int
    segment: str = ""  # the local segment holding its passages ("" in PostgreSQL)


@dataclass(frozen=True)
class IndexInfo:
    """What an index was built with: the embedding model, the backend that made the vectors, their width."""

    model: str
    backend: str
    dim: int


@dataclass(frozen=True)
class IndexCheck:
    """What a whole-index check read: every byte of a local index, every row of a PostgreSQL store."""

    where: str
    documents: int
    passages: int
    parts: int  # segments of a local index, tables of a PostgreSQL store
    checked_bytes: int  # summed against their checksums (0 for PostgreSQL, which checks its own pages)
    notes: tuple[str, ...] = ()  # what could not be checked, and why


class ReadStore(Protocol):
    """An index opened for questions (safe to share between threads)."""

    model: str
    backend: str
    dim: int

    def candidates(self, vector: np.ndarray, tokens: list[str], terms: list[str], limit: int,
                   exclude: set[str] | None = None) -> Candidates:
        """Up to `limit` passages nearest to `vector` plus up to `limit` best full-text matches of `terms`
        (deduplicated), skipping articles whose source is in `exclude`; every passage when the store is small."""
        ...

    def documents(self) -> dict[str, DocumentRecord]:
        """Every indexed document by source, in ingest order."""
        ...

    def paths(self) -> list[str]:
        """The files and folders the index was built from, as its ingests recorded them (see
        `IndexWriter.record_paths`); empty for an index built before they were recorded."""
        ...

    def passage_count(self) -> int:
        """Live passages in the index."""
        ...

    def leads(self, sources: list[str]) -> dict[str, Passage]:
        """The first passage of each of these documents (its lead), for those that are indexed."""
        ...

    def generation(self) -> str:
        """An id of the committed index this store reads; every ingest that changes something makes a new one."""
        ...

    def close(self) -> None: ...


class IndexWriter(Protocol):
    """One ingest into an index, under its write lock: nothing is visible to readers before `commit`."""

    where: str  # the index, as messages name it

    def existing(self) -> IndexInfo | None:
        """What the index was built with; None for a new index, or one being rebuilt."""
        ...

    def documents(self) -> Mapping[str, DocumentRecord]:
        """The documents an incremental ingest starts from (none when rebuilding)."""
        ...

    def dropped(self) -> list[str]:
        """The sources a rebuild replaces (empty otherwise)."""
        ...

    def start(self, built: IndexInfo) -> None:
        """Changes follow, made with this model and backend (a new index is created with them)."""
        ...

    def record_paths(self, paths: list[str]) -> bool:
        """Remember the files and folders this ingest read (absolute), with those earlier ingests recorded
        (a rebuild's alone), for `ReadStore.paths`; written at `commit`. Whether the record changed (then the
        ingest commits even when no document changed)."""
        ...

    def remove(self, sources: list[str]) -> None:
        """Drop these documents and their passages."""
        ...

    def add_documents(self, docs: list[Document], passages: list[list[Passage]]) -> None:
        """Announce the documents about to be added, with their passages (vectors come with `add_vectors`)."""
        ...

    def add_vectors(self, passages: list[Passage], pv: np.ndarray, sv: np.ndarray, wv: np.ndarray) -> None:
        """The next run of announced passages, in order, with their passage, sentence and window vectors."""
        ...

    def commit(self) -> None:
        """Make the changes the live index, atomically."""
        ...

    def passage_count(self) -> int:
        """Live passages after this ingest (or before it, when nothing was committed)."""
        ...


class IndexTarget(Protocol):
    """Where an index lives: it can be opened for questions or written by an ingest."""

    where: str

    def exists(self) -> bool:
        """Whether an index has been built here."""
        ...

    def open(self, model: str | None = None) -> ReadStore:
        """The index opened for questions; with `model`, refuse one built with another model."""
        ...

    def writer(self, rebuild: bool = False) -> AbstractContextManager[IndexWriter]:
        """An ingest's writer, holding the write lock until the block ends; without `commit`, nothing changes."""
        ...

    def generation(self) -> str | None:
        """The id of the committed index, read cheaply (None when there is none)."""
        ...

    def check(self) -> IndexCheck:
        """Read the whole index and check it: IndexCorruptError naming the first damage found,
        IndexMissingError when there is no index."""
        ...

