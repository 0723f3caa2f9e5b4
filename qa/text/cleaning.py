"""Questions as the bot reads them: escape sequences and control characters removed, length checked."""

from __future__ import annotations

import re
import unicodedata

from qa.config import MAX_QUESTION_CHARS
from qa.errors import ASK, InputError

__all__ = ["MAX_QUESTION_CHARS", "check_question", "clean_question"]  # the limit is defined with the others

# Escape sequences as terminals parse them: CSI, OSC (to BEL or ST), DCS/SOS/PM/APC strings, and
# two-character escapes; a lone ESC as well.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|[ -/]*[0-~])?|\x9b[0-?]*[ -/]*[@-~]"
)
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
# Bidi overrides, embeddings, isolates and marks: they change how the text around them is shown, not what it says.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _decoded(text: str) -> str:
    """`text` with the bytes that were not UTF-8 (which reach Python as lone surrogates, from a command line
    or a pipe) decoded with replacement characters, as a tokenizer needs valid text."""
    if not _SURROGATE.search(text):
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # surrogates that stand for no byte
        return _SURROGATE.sub("\ufffd", text)


def clean_question(text: str) -> str:
    """A question as the bot should read it: bytes that are not UTF-8 made replacement characters, escape
    sequences and bidi controls dropped, other control characters and runs of spaces made single spaces,
    Unicode in its composed (NFC) form, ends trimmed.

    A question pasted from a terminal or a document can carry colour codes or stray control bytes;
    they are not words, and echoed back they would be commands to the terminal.
    """
    text = _CONTROLS.sub(" ", _BIDI.sub("", _ESCAPE_SEQUENCE.sub("", _decoded(text))))
    return " ".join(unicodedata.normalize("NFC", text).split())


def check_question(question: str) -> str:
    """The question cleaned (see `clean_question`), or InputError for an empty or oversized one."""
    q = clean_question(question or "")
    if not q:
        raise InputError("the question is empty", fix=ASK)
    if len(q) > MAX_QUESTION_CHARS:
        raise InputError(f"the question is too long ({len(q)} characters, at most {MAX_QUESTION_CHARS})")
    return q
