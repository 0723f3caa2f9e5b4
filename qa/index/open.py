"""Where the configured index lives: the one place that tells the local index and PostgreSQL apart."""

from __future__ import annotations

from qa.config import Settings
from qa.index.contract import IndexTarget


def target_for(settings: Settings) -> IndexTarget:
    """The index of `settings`: the PostgreSQL store of `--store`, or else the local index folder."""
    if settings.store is not None:
        from qa.index.postgres import PostgresIndex  # the driver loads only for a PostgreSQL store

        return PostgresIndex(settings.store)
    from qa.index.local import LocalIndex

    return LocalIndex(settings.index_dir)
