"""The exceptions the core raises; front ends turn them into one-line messages."""


class QAError(Exception):
    """Base of every error a user can cause or fix."""


class InputError(QAError):
    """A bad argument: an empty question, an unknown mode, a bad number."""


class SourceError(QAError):
    """A path or file that cannot be read as an article."""


class IndexMissingError(QAError):
    """No index exists at the given location."""


class IndexCorruptError(QAError):
    """The index on disk cannot be read."""


class ModelMismatchError(QAError):
    """The index was built with another embedding model than the one asked for."""


class ModelLoadError(QAError):
    """The embedding model cannot be loaded."""


class ConfigError(QAError):
    """A setting (flag or environment variable) has a bad value or is missing."""


class StoreUnavailableError(QAError):
    """The store cannot be reached or used: a bad database address, a server that is down, no pgvector."""


class StorageError(QAError):
    """The index cannot be written: the disk is full, or another I/O error; the previous index is untouched."""
