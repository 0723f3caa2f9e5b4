"""The exceptions the core raises; front ends turn them into one-line messages.

An error's message says what is wrong, in words any front end can show as they are, and never how to fix it in
the words of one front end (a command to type, a request to send, a field to fill): each front end words its own
advice from the error's `fix` and its fields (`adapters/common/advice.py` for the terminal).
"""

from __future__ import annotations

# What repairs an error, for a front end to word as its own advice.
INGEST = "ingest"  # there is no index (or no ONNX export of the model) yet: ingest articles to make it
REBUILD = "rebuild"  # the index is damaged or was built otherwise: rebuild it from the articles
ASK = "ask"  # the question is empty: ask one


class QAError(Exception):
    """Base of every error a user can cause or fix: `fix` says what repairs it (None: nothing the user can do
    here, or the message says all), `fields` what a front end needs to word it (each error documents its own)."""

    fix: str | None = None

    def __init__(self, message: str = "", *, fix: str | None = None, **fields: str | None) -> None:
        super().__init__(message)
        if fix is not None:
            self.fix = fix
        self.fields: dict[str, str | None] = fields


class InputError(QAError):
    """A bad argument: an empty question, an unknown mode, a bad number. `field`: the argument ("question",
    "k", "mode", "reader", "history")."""

    def __init__(self, message: str = "", *, fix: str | None = None, field: str = "question",
                 **fields: str | None) -> None:
        super().__init__(message, fix=fix, field=field, **fields)
        self.field = field


class SourceError(QAError):
    """A path or file that cannot be read as an article."""


class IndexMissingError(QAError):
    """No index exists at the given location. Fields: `index` (a local index's folder) or `store` (a PostgreSQL
    store, as messages name it)."""

    fix = INGEST


class IndexCorruptError(QAError):
    """The index on disk cannot be read. Fields as for IndexMissingError."""

    fix = REBUILD


class ModelMismatchError(QAError):
    """The index was built with another embedding model (or backend) than the one asked for. Fields: `built_model`
    or `built_backend`, what the index was built with, and `asked`, what was asked for."""

    fix = REBUILD


class ModelLoadError(QAError):
    """The embedding model cannot be loaded (`fix` INGEST: its ONNX export is not made yet)."""


class ConfigError(QAError):
    """A setting (flag or environment variable) has a bad value or is missing."""


class StoreUnavailableError(QAError):
    """The store cannot be reached or used: a bad database address, a server that is down, no pgvector."""


class StorageError(QAError):
    """The index cannot be written: the disk is full, or another I/O error; the previous index is untouched."""
