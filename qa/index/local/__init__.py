"""The local index: immutable, memory-mapped segments in one folder, listed by an atomically switched manifest."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from qa.documents import Document
from qa.embedding import Embedder
from qa.index.local.manifest import exists
from qa.index.local.store import IndexData, open_index
from qa.index.local.target import LocalIndex
from qa.index.pipeline import IngestReport, Progress
from qa.index.pipeline import ingest_documents as _ingest_documents
from qa.index.pipeline import ingest_paths as _ingest_paths


def ingest_paths(paths: list[Path], index_dir: Path, embedder: Embedder, *, rebuild: bool = False,
                 progress: Progress | None = None, vectors: str = "sentences") -> IngestReport:
    """`qa.index.pipeline.ingest_paths` into the local index folder `index_dir`."""
    return _ingest_paths(paths, LocalIndex(index_dir), embedder, rebuild=rebuild, progress=progress, vectors=vectors)


def ingest_documents(docs: list[Document], index_dir: Path, embedder: Embedder, *, roots: Iterable[Path] = (),
                     rebuild: bool = False, progress: Progress | None = None,
                     vectors: str = "sentences") -> IngestReport:
    """`qa.index.pipeline.ingest_documents` into the local index folder `index_dir`."""
    return _ingest_documents(docs, LocalIndex(index_dir), embedder, roots=roots, rebuild=rebuild, progress=progress,
                             vectors=vectors)


__all__ = ["IndexData", "LocalIndex", "exists", "ingest_documents", "ingest_paths", "open_index"]
