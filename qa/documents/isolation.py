"""One file's failure stays that file's: whatever a parser raises while reading it becomes a one-line SourceError
naming the file, so an ingest, a watch or an article view goes on with the rest.

Parsers catch the errors they know and word them themselves; this is the net under them, for the library
errors nobody listed (an XML parser's, a decompressor's limit, a recursion in a damaged structure) and for
running out of memory on a file that is somehow still too large.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qa.errors import SourceError


def _first_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:120]


@contextmanager
def one_file(path: Path | str) -> Iterator[None]:
    """Run the reading of `path`; any exception but SourceError (and interrupts) becomes SourceError."""
    try:
        yield
    except SourceError:
        raise
    except MemoryError:
        raise SourceError(f"{path}: too large to read in memory") from None
    except RecursionError:
        raise SourceError(f"{path}: nested too deeply to read") from None
    except Exception as exc:
        why = _first_line(exc)
        raise SourceError(f"{path}: could not be read ({type(exc).__name__}{': ' + why if why else ''})") from None
