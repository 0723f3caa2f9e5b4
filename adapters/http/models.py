"""The HTTP API's contract: typed request and response models, so the OpenAPI document says exactly what the
server accepts and returns. The limits are the core's (question length, modes, conversation turns), read from
it, never copied; a request the schema accepts is one the server answers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from qa.config import HISTORY_TURNS, MAX_K, MIN_K, MODES
from qa.text.cleaning import MAX_QUESTION_CHARS

# The longest earlier answer a client may send back as context (the page cuts longer ones: only their names
# and dates are read). With it every valid request fits `adapters.http.limits.MAX_BODY_BYTES`.
MAX_HISTORY_ANSWER_CHARS = 4000

# Characters that are not words: spaces as Python splits on them, control characters, and bidi controls (the
# ones `qa.text.cleaning.clean_question` removes). Spelled out rather than `\s`, whose meaning differs between
# ECMA-262 (the schema's), Rust (pydantic's) and Python regular expressions.
_BLANK = (r"\u0000-\u0020\u007f-\u00a0\u061c\u1680\u2000-\u200a\u200e\u200f\u2028\u2029\u202a-\u202f\u205f"
          r"\u2066-\u2069\u3000")
# A question holds at least one such word character and no terminal escape introducer (ESC or CSI): cleaning
# then leaves at least that character, so a question the schema accepts is never refused as empty.
QUESTION_PATTERN = rf"^[^\u001b\u009b]*[^{_BLANK}\u001b\u009b][^\u001b\u009b]*$"
QUESTION_RULE = (f"1 to {MAX_QUESTION_CHARS} characters, at least one of them not a space or a control character; "
                 "no terminal escape characters (ESC, CSI)")

def _whole(value: Any) -> Any:
    """3.0 is the integer 3, as JSON Schema counts; "3" and true are not integers."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


K = Annotated[int, Field(strict=True, ge=MIN_K, le=MAX_K), BeforeValidator(_whole)]
Mode = Literal[MODES]  # type: ignore[valid-type]  # the core's modes, as an enum in the schema
Question = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS, pattern=QUESTION_PATTERN,
                                description=QUESTION_RULE, examples=["Who did Ruto call in January 2025?"])]
# How a question was understood is the question with names put in; what an answer named, a few names.
MAX_ASKED_AS_CHARS = MAX_QUESTION_CHARS + 400
MAX_ABOUT_NAMES, MAX_NAME_CHARS = 8, 200
_Asked = Annotated[str, Field(max_length=MAX_QUESTION_CHARS)]
_Said = Annotated[str | None, Field(max_length=MAX_HISTORY_ANSWER_CHARS)]
_AskedAs = Annotated[str | None, Field(max_length=MAX_ASKED_AS_CHARS)]
_About = Annotated[list[Annotated[str, Field(max_length=MAX_NAME_CHARS)]], Field(max_length=MAX_ABOUT_NAMES)]
HistoryTurn = tuple[_Asked, _Said] | tuple[_Asked, _Said, _AskedAs, _About]


class AskRequest(BaseModel):
    """A question, with the earlier turns of its conversation for a follow-up."""

    model_config = ConfigDict(extra="forbid")

    question: Question
    k: K | None = Field(default=None, description="passages to cite (default: the server's)")
    mode: Mode | None = Field(default=None, description="retrieval mode (default: the server's)")
    history: list[HistoryTurn] = Field(
        default_factory=list, max_length=HISTORY_TURNS,
        description=f"the conversation's earlier turns, oldest first, each as [question, answer or null, asked_as, "
                    f"about] from the `web` view's answer, or as [question, answer or null] (then what the turn was "
                    f"about is read from its texts); at most {HISTORY_TURNS}, the number every front end keeps")
    view: Literal["json", "web"] = Field(default="json", description="`web` adds what the page shows")


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Citation(_Out):
    """A cited passage, as `qa ask --json` gives it."""

    n: int = Field(description="its number: the answer's [n] marker")
    source: str = Field(description="the file (a feed entry as `feed#entry=…`)")
    title: str | None
    date: str | None
    line_start: int
    line_end: int
    text: str = Field(description="the passage, verbatim")
    score: float
    also_in: list[str] = Field(description="other articles that carry the same passage")
    page: int | None = Field(description="a PDF's page; the lines count within it")
    url: str | None = Field(description="a feed entry's link")
    stale: bool = Field(description="the file changed since it was indexed")


class Card(Citation):
    """A citation as the page shows it (`adapters.common.view`): with its article's id, its section, its
    heading and location, and whether the answer quotes it, with the quoted sentence's span."""

    id: str = Field(description="the article's id, for GET /api/sources/{article_id}")
    section: str | None
    heading: str = Field(description="the article's title, or its location when it has none")
    location: str = Field(description="the file and where in it: `seeds/003_….txt, line 1`, `a.pdf, p. 2, line 4`")
    quoted: bool = Field(description="the answer quotes this passage (its [n] is in the answer)")
    highlight: tuple[int, int] | None = Field(description="the quoted sentence's [start, end) within `text`; "
                                                          "null when the answer does not quote the passage")


class Quote(_Out):
    """One quoted sentence, verbatim, with its citation's number and the span that answers inside it."""

    text: str
    n: int = Field(description="the citation it is quoted from")
    answer_span: tuple[int, int] | None = Field(description="[start, end) of the answer (a name, place, time or "
                                                            "number) within `text`; null when none is marked")


class Answer(_Out):
    """The answer, exactly as `qa ask --json` gives it."""

    question: str
    answer: str | None = Field(description="the quoted sentence(s) with [n] markers; null when abstained")
    abstained: bool = Field(description="the articles do not answer the question")
    citations: list[Citation]
    quotes: list[Quote] = Field(description="the quoted sentences, in the order of `answer`")
    answer_spans: list[tuple[int, int] | None] = Field(description="each quote's `answer_span`, in order")


class Piece(_Out):
    """A piece of the answer's text; the pieces join back to `answer`."""

    text: str
    answer: bool = Field(description="this is the part of a quote that answers (a name, place, time or number)")


class WebAnswer(_Out):
    """The answer with what the page shows (`view: "web"`)."""

    question: str
    answer: str | None
    abstained: bool
    citations: list[Card]
    quotes: list[Quote]
    answer_spans: list[tuple[int, int] | None]
    nearest: list[Card] = Field(description="an abstention's nearest passages, not an answer")
    asked_as: str | None = Field(description="the question as understood from the conversation, if rewritten")
    about: list[str] = Field(description="what the answer named as the answer (a who question's person), for the "
                                         "turn a follow-up sends back")
    headline: str = Field(description="what the page shows first: the answer, or the abstention's sentence")
    pieces: list[Piece] = Field(description="the answer in pieces, the part that answers marked (empty when abstained)")


class Passage(Citation):
    """A passage found by a search, with its article's id."""

    id: str


class SearchResult(_Out):
    query: str
    passages: list[Passage]


class ArticleSummary(_Out):
    id: str
    source: str
    title: str | None
    date: str | None
    passages: int


class Sources(_Out):
    sources: list[ArticleSummary]


class Line(_Out):
    page: int | None
    n: int
    text: str


class Article(_Out):
    """An indexed article as numbered lines, as its file reads now."""

    id: str
    source: str
    title: str | None
    date: str | None
    stale: bool = Field(description="the file changed since it was indexed")
    lines: list[Line]


class Overview(_Out):
    """What the index holds, for the page's empty state: how many articles, their dates, example questions."""

    articles: int
    first_date: str | None
    last_date: str | None
    examples: list[str] = Field(description="questions about indexed articles, to try")
    question_chars: int = Field(description="the longest question")
    history_turns: int = Field(description="earlier turns sent with a follow-up")
    history_answer_chars: int = Field(description="the longest earlier answer sent back")


class Health(_Out):
    status: Literal["ok"]
    generation: str | None
    passages: int
    model: str


class Error(_Out):
    """Every error: a sentence, and the request field it is about when there is one."""

    error: str
    field: str | None = Field(default=None, description="the request field at fault (absent when none)")
    id: str | None = Field(default=None, description="a 500's id, which the server's log line repeats")


def error_body(message: str, field: str | None = None, error_id: str | None = None) -> dict[str, Any]:
    """An `Error` as JSON, without the keys it does not have."""
    return Error(error=message, field=field, id=error_id).model_dump(exclude_none=True)
