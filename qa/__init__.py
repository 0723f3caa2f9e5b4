"""qa: answers to questions about a folder of articles, quoted from them and cited to the line.

The flow, one stage per folder: `documents` → `passages` → `index` (local segments or PostgreSQL) →
`retrieval` → `reader` → `answering`; `text` holds what every stage reads text with, `embedding`
the models that turn text into vectors, `evaluation` the scoring of question sets. `Bot` wires them
together for every front end.
"""

from qa.answering.answer import Answer, Citation
from qa.bot import Bot
from qa.config import Settings, resolve
from qa.errors import (
    ConfigError,
    IndexCorruptError,
    IndexMissingError,
    InputError,
    ModelLoadError,
    ModelMismatchError,
    QAError,
    SourceError,
    StorageError,
    StoreUnavailableError,
)
from qa.question.conversation import Turn

__version__ = "0.1.0"

__all__ = ["Answer", "Bot", "Citation", "ConfigError", "IndexCorruptError", "IndexMissingError", "InputError",
           "ModelLoadError", "ModelMismatchError", "QAError", "Settings", "SourceError", "StorageError",
           "StoreUnavailableError", "Turn", "resolve"]
