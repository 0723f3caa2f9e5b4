"""A local index folder as an `IndexTarget`: opened for questions, written by an ingest under its lock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qa.errors import IndexMissingError
from qa.index.contract import IndexCheck
from qa.index.local import manifest
from qa.index.local.store import IndexData, open_index
from qa.index.local.writer import LocalWriter


class LocalIndex:
    """The index folder `path`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.where = f"index at {self.path}"

    def exists(self) -> bool:
        return manifest.exists(self.path)

    def open(self, model: str | None = None) -> IndexData:
        if not self.exists():
            raise IndexMissingError(f"no index at {self.path}", index=str(self.path))
        return open_index(self.path, model)

    @contextmanager
    def writer(self, rebuild: bool = False) -> Iterator[LocalWriter]:
        with manifest.write_lock(self.path):
            writer = LocalWriter(self.path, rebuild)
            try:
                yield writer
            finally:
                writer.close()

    def generation(self) -> str | None:
        return manifest.current_name(self.path)

    def check(self) -> IndexCheck:
        data = self.open()
        try:
            return data.check_fully()
        finally:
            data.close()
