"""A conversation as every front end keeps it: the last `HISTORY_TURNS` turns, each made from an answer in one
place, so the REPL, Slack threads, the web page, `POST /api/ask` and MCP hand the core the same history."""

from __future__ import annotations

from collections.abc import Iterable

from qa.answering.answer import Answer
from qa.config import HISTORY_TURNS

Turn = tuple[str, str | None]
"""One earlier turn as the core reads it: the question as asked, and the answer's text (None: abstained)."""


def turn_of(answer: Answer) -> Turn:
    """The turn an answer adds to its conversation."""
    return (answer.question, answer.answer)


def turn_from(question: str, answer: str | None) -> Turn:
    """A turn a client sent back (the page, `POST /api/ask`, MCP): its question and the answer it was given."""
    return (question, answer)


def kept(turns: Iterable[Turn]) -> list[Turn]:
    """The turns a conversation keeps and the core is given: the last `HISTORY_TURNS`, oldest first."""
    return list(turns)[-HISTORY_TURNS:] if HISTORY_TURNS > 0 else []


def remember(turns: Iterable[Turn], answer: Answer) -> list[Turn]:
    """`turns` with `answer`'s turn added, cut to what a conversation keeps."""
    return kept([*turns, turn_of(answer)])
