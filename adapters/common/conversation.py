"""A conversation as every front end keeps it: the last `HISTORY_TURNS` turns, each made from an answer in one
place, so the REPL, Slack threads, the web page, `POST /api/ask` and MCP hand the core the same history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from qa.answering.answer import Answer
from qa.config import HISTORY_TURNS
from qa.question.conversation import Turn

__all__ = ["Turn", "kept", "remember", "turn_from", "turn_of"]


def turn_of(answer: Answer) -> Turn:
    """The turn an answer adds to its conversation: its question, its answer (None: abstained), how the question
    was understood and what the answer named."""
    return answer.turn()


def turn_from(question: str, answer: str | None, asked_as: str | None = None,
              about: Sequence[str] | None = None) -> Turn:
    """A turn a client sent back (the page, `POST /api/ask`, MCP). A client that keeps only the question and
    the answer loses nothing but precision: the core then reads what the turn was about from their texts."""
    return Turn(question, answer, asked_as or None, tuple(about) if about is not None else None)


def kept(turns: Iterable[Turn]) -> list[Turn]:
    """The turns a conversation keeps and the core is given: the last `HISTORY_TURNS`, oldest first."""
    return list(turns)[-HISTORY_TURNS:] if HISTORY_TURNS > 0 else []


def remember(turns: Iterable[Turn], answer: Answer) -> list[Turn]:
    """`turns` with `answer`'s turn added, cut to what a conversation keeps."""
    return kept([*turns, turn_of(answer)])
