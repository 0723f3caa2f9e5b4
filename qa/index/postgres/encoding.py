"""How passages are stored in PostgreSQL: our own tokens as tsvector lexemes, vectors as pgvector text and bytes,
and file names that are not UTF-8 in text columns."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_MAX_LEXEME_BYTES = 2046  # PostgreSQL refuses longer tsvector lexemes
# A file name that is not UTF-8 holds its raw bytes as lone surrogates (U+DC80..U+DCFF), which PostgreSQL's
# text and jsonb refuse. They are stored as the last 128 code points of the private use plane 16, which no file
# name of the seeds' kind holds, and mapped back when read: the name comes back exactly as it was given.
_RAW_BYTES = {c: c - 0xDC80 + 0x10FF80 for c in range(0xDC80, 0xDD00)}
_STORED_BYTES = {v: k for k, v in _RAW_BYTES.items()}


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


def to_db(name: str) -> str:
    """A source as PostgreSQL can hold it (see `_RAW_BYTES`)."""
    return name.translate(_RAW_BYTES)


def from_db(name: str) -> str:
    """A source as it was given, from what `to_db` stored."""
    return name.translate(_STORED_BYTES)


def passage_json(d: dict) -> dict:
    """A passage's dict with its names made storable (`to_db`)."""
    return {**d, "source": to_db(d["source"]), **({"file": to_db(d["file"])} if d.get("file") else {})}


def passage_from_json(d: dict) -> dict:
    """A stored passage's dict with its names as they were given (`from_db`)."""
    return {**d, "source": from_db(d["source"]), **({"file": from_db(d["file"])} if d.get("file") else {})}
