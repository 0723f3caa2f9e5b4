"""How passages are stored in PostgreSQL: our own tokens as tsvector lexemes, vectors as pgvector text and bytes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_MAX_LEXEME_BYTES = 2046  # PostgreSQL refuses longer tsvector lexemes


def lexeme(token: str) -> str:
    """A token as a quoted tsvector/tsquery lexeme, taken as it is (no parser, no stemming)."""
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector(toks: Sequence[str]) -> str:
    """tsvector input for our own tokens with their positions. Not to_tsvector('simple', ...): its parser
    splits tokens such as "x86_64" that qa.text.lexical keeps whole, and the question would then never match."""
    positions: dict[str, list[int]] = {}
    for i, t in enumerate(toks):
        if len(t.encode()) <= _MAX_LEXEME_BYTES:
            positions.setdefault(t, []).append(min(i + 1, 16383))
    return " ".join(f"{lexeme(t)}:{','.join(map(str, ps[:256]))}" for t, ps in positions.items())


def vector_text(v: np.ndarray) -> str:
    # repr of the float32 value as a double parses back to the same float32: no precision is lost
    return "[" + ",".join(map(repr, np.asarray(v, dtype=np.float32).tolist())) + "]"


def le32(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a, dtype="<f4").tobytes()
