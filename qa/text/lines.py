"""Lines as editors and `grep -n` count them: only `\\n`, `\\r\\n` and `\\r` end a line (`str.splitlines` also
breaks at form feeds, U+2028 and other separators, which would shift every later line number)."""

from __future__ import annotations

import re

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def split_lines(text: str) -> list[str]:
    """The lines of `text`, each with its line ending."""
    return _LINE.findall(text)
