"""`qa mcp`: an MCP server over stdio (the official SDK's FastMCP) with two tools, `ask` and `search`, and every
indexed article as a resource. Logs go to stderr: stdout carries the protocol."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, Field

from adapters.common.conversation import Turn, kept, turn_from
from adapters.common.ingest_view import load_bot
from adapters.common.safe import stderr_console
from qa.answering.answer import display_source
from qa.bot import Bot
from qa.config import HISTORY_TURNS, Settings
from qa.errors import InputError, SourceError
from qa.text.cleaning import MAX_QUESTION_CHARS, clean_question

ASK_DESCRIPTION = (
    "Answer a question from the indexed articles. The answer is a verbatim quote of the article sentence(s) "
    "that answer it, each followed by its citation marker [n]; citations give the file, line range (and PDF "
    "page or feed link), title and date, and the other articles that carry the same statement. Quote the "
    "answer as given, with its citations. abstained=true means the articles do not contain the answer: say "
    "so rather than answering from elsewhere. For a follow-up (\"When was that?\", \"And with Rubio?\"), pass "
    f"the conversation's earlier turns as `history` (oldest first, at most {HISTORY_TURNS} are read): each "
    "turn's question, the answer it got (null when abstained), and its `asked_as` (how the question was taken) "
    "and `about` (what the answer named) as `ask` returned them.")
SEARCH_DESCRIPTION = (
    "Find the passages of the indexed articles that best match a query, ranked, each with its file, line "
    "range, title, date and text (verbatim). No answer is chosen: use `ask` for a cited answer.")


class HistoryTurn(BaseModel):
    """An earlier turn of the conversation: its question, the answer it got (null when abstained), and how
    `ask` took the question and what its answer named, as `ask` returned them."""

    question: str = Field(max_length=MAX_QUESTION_CHARS)
    answer: str | None = None
    asked_as: str | None = None
    about: list[str] | None = None


def _checked(text: str, name: str) -> str:
    """`text` as the core will read it, or a ValueError in the words of this front end (an assistant passing an
    argument, not a person at a command line)."""
    cleaned = clean_question(text or "")
    if not cleaned:
        raise ValueError(f"`{name}` is empty: pass the user's question as `{name}`")
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise ValueError(f"`{name}` is too long ({len(cleaned)} characters, at most {MAX_QUESTION_CHARS})")
    return cleaned


def history_of(turns: list[HistoryTurn] | None) -> list[Turn]:
    """The conversation an assistant sent, as every front end hands it to the core."""
    return kept(turn_from(t.question, t.answer, t.asked_as, t.about) for t in turns or [])


class _OneLineReadFailure(logging.Filter):
    """FastMCP logs a resource that cannot be read with its whole traceback; an article whose file went bad is
    no bug: one warning line, with the reason (the client gets the same reason as its error)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.getMessage().startswith("Error reading resource"):
            exc = record.exc_info[1]
            said = " ".join(str(exc).split())[:300]  # it names the resource already
            record.msg, record.args = said if said.startswith("Error reading") else f"{record.getMessage()}: {said}", None
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def build_server(bot: Bot) -> Any:
    """The FastMCP server over `bot`: tools `ask` and `search`, resources `article://ID`."""
    from mcp.server.fastmcp import FastMCP

    fastmcp_log = logging.getLogger("mcp.server.fastmcp.server")
    if not any(isinstance(f, _OneLineReadFailure) for f in fastmcp_log.filters):
        fastmcp_log.addFilter(_OneLineReadFailure())

    server = FastMCP("qa-articles", instructions="Answers quoted verbatim from a folder of articles, cited to "
                     "the line. An abstention means the answer is not in the articles.")

    @server.tool(description=ASK_DESCRIPTION)
    def ask(question: str, k: int = 3, history: list[HistoryTurn] | None = None) -> dict[str, Any]:
        try:
            answer = bot.ask(_checked(question, "question"), history=history_of(history), k=k)
        except InputError as exc:
            raise ValueError(str(exc)) from None
        return {**answer.to_json(), "asked_as": answer.asked_as, "about": list(answer.about)}

    @server.tool(description=SEARCH_DESCRIPTION)
    def search(query: str, k: int = 5) -> dict[str, Any]:
        try:
            found = bot.search(_checked(query, "query"), k=k)
        except InputError as exc:
            raise ValueError(str(exc)) from None
        return {"query": query, "passages": [{**c.to_json(), "id": c.source_id} for c in found]}

    def reader(article_id: str) -> Any:
        def read() -> str:
            try:
                found = bot.article(article_id)
            except SourceError as exc:
                raise ValueError(f"the article's file can no longer be read: {exc}") from None
            if found is None:
                raise ValueError("no indexed article has this id")
            record, lines, stale = found
            head = [f"source: {display_source(record.source)}", f"title: {record.title or ''}",
                    f"date: {record.date or ''}"] + (["changed since indexed — run qa ingest"] if stale else [])
            body = [f"{'p. ' + str(x.page) + ' ' if x.page else ''}{x.number}: {x.text}" for x in lines]
            return "\n".join(head + [""] + body)
        return read

    for article_id, record in bot.articles().items():
        server.resource(f"article://{article_id}", name=display_source(record.source),
                        description=f"{record.title or display_source(record.source)} ({record.date or 'undated'}),"
                                    " numbered lines", mime_type="text/plain")(reader(article_id))

    @server.resource("article://{article_id}", name="article", mime_type="text/plain",
                     description="An indexed article by id (ids come from ask and search), as numbered lines.")
    def article(article_id: str) -> str:
        return str(reader(article_id)())

    return server


def run_mcp(settings: Settings) -> int:
    """Serve over stdio until the client closes the connection."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")  # stderr: stdout is the protocol
    bot = load_bot(Bot(settings), stderr_console())
    build_server(bot).run("stdio")
    return 0
