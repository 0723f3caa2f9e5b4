"""The HTTP API and the web page over one Bot: ask, search, the indexed articles, health; JSON errors only."""

from __future__ import annotations

import hmac
import logging
import uuid
from importlib import resources
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request

from adapters.common.conversation import Turn, kept, turn_from
from adapters.common.overview import overview
from adapters.common.view import web_json
from adapters.http import errors
from adapters.http.errors import documented
from adapters.http.limits import LimitBody
from adapters.http.models import (
    MAX_HISTORY_ANSWER_CHARS,
    QUESTION_PATTERN,
    QUESTION_RULE,
    Answer,
    Article,
    AskRequest,
    Health,
    Mode,
    Overview,
    SearchResult,
    Sources,
    WebAnswer,
    error_body,
)
from qa.answering.answer import display_source
from qa.bot import Bot
from qa.config import HISTORY_TURNS, MAX_K, MIN_K
from qa.documents.feeds import feed_of
from qa.errors import SourceError
from qa.text.cleaning import MAX_QUESTION_CHARS

log = logging.getLogger("qa.serve")
STATIC = resources.files("adapters.http") / "static"
# The page loads nothing from elsewhere and runs no inline script: an article's text can never become code.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'")
DESCRIPTION = ("Answers quoted verbatim from your articles, cited to the line. Every error is an `Error` object "
               "with its status; a request the schema accepts is answered.")


def history_of(body: AskRequest) -> list[Turn]:
    """The conversation a request carries, as every front end hands it to the core."""
    return kept(turn_from(*turn) for turn in body.history)


def create_app(bot: Bot, token: str | None = None) -> FastAPI:
    """The ASGI app; with `token`, every /api request needs `Authorization: Bearer TOKEN` (and the schema says so)."""
    app = FastAPI(title="qa", summary="Answers quoted verbatim from your articles, cited to the line.",
                  description=DESCRIPTION, version="0.1.0", redoc_url=None)
    bearer = HTTPBearer(auto_error=False, description="the server's token (`qa serve --token`)")

    def authorised(given: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:  # noqa: B008
        if given is None or not hmac.compare_digest(given.credentials.encode(), (token or "").encode()):
            raise HTTPException(401, "missing or wrong bearer token")

    guarded = [Depends(authorised)] if token is not None else []
    auth = (401,) if token is not None else ()
    errors.install(app)

    @app.post("/api/ask", dependencies=guarded, response_model=Answer | WebAnswer, response_model_exclude_unset=True,
              responses=documented(400, *auth, 405, 413, 422, 500, 503))
    def ask(body: AskRequest) -> dict[str, Any]:
        """The answer, exactly as `qa ask --json` gives it (`view: "web"` adds what the page shows)."""
        answer = bot.ask(body.question, history=history_of(body), k=body.k, mode=body.mode)
        return web_json(answer) if body.view == "web" else answer.to_json()

    @app.get("/api/search", dependencies=guarded, response_model=SearchResult,
             responses=documented(400, *auth, 405, 422, 500, 503))
    def search(q: str = Query(min_length=1, max_length=MAX_QUESTION_CHARS, pattern=QUESTION_PATTERN,
                              description=QUESTION_RULE),
               k: int = Query(5, ge=MIN_K, le=MAX_K), mode: Mode | None = None) -> dict[str, Any]:
        """The ranked passages for `q`, with no answer chosen."""
        found = bot.search(q, k=k, mode=mode)
        return {"query": q, "passages": [{**c.to_json(), "id": c.source_id} for c in found]}

    @app.get("/api/sources", dependencies=guarded, response_model=Sources,
             responses=documented(*auth, 405, 500, 503))
    def sources() -> dict[str, Any]:
        """Every indexed article: its id, source, title, date and passages."""
        return {"sources": [{"id": i, "source": display_source(r.source), "title": r.title, "date": r.date, "passages": r.passages}
                            for i, r in bot.articles().items()]}

    @app.get("/api/sources/{article_id}", dependencies=guarded, response_model=Article,
             responses=documented(*auth, 404, 405, 410, 422, 500, 503))
    def source(article_id: str) -> dict[str, Any]:
        """An indexed article as numbered lines, with its metadata; 404 for an id that is not indexed."""
        try:
            found = bot.article(article_id)
        except SourceError as exc:
            log.warning("qa serve: %s", exc)
            # the reason without the file's path: requests name articles by id, never by path
            record = bot.articles().get(article_id)
            why = str(exc).removeprefix(f"{feed_of(record.source)}: ") if record is not None else "unreadable"
            raise HTTPException(410, f"the article's file can no longer be read ({why}): run qa ingest") from None
        if found is None:
            raise HTTPException(404, "no indexed article has this id")
        record, lines, stale = found
        return {"id": article_id, "source": display_source(record.source), "title": record.title, "date": record.date,
                "stale": stale, "lines": [{"page": x.page, "n": x.number, "text": x.text} for x in lines]}

    @app.get("/api/overview", dependencies=guarded, response_model=Overview,
             responses=documented(*auth, 405, 500, 503))
    def about() -> dict[str, Any]:
        """What the index holds (articles, their dates, example questions) and the limits of a question."""
        def first_line(article_id: str) -> str | None:
            try:
                found = bot.article(article_id)
            except SourceError:
                return None
            return next((x.text for x in found[1] if x.text.strip()), None) if found else None

        seen = overview(bot.articles(), first_line)
        return {"articles": seen.articles, "first_date": seen.first_date, "last_date": seen.last_date,
                "examples": seen.examples, "question_chars": MAX_QUESTION_CHARS, "history_turns": HISTORY_TURNS,
                "history_answer_chars": MAX_HISTORY_ANSWER_CHARS}

    @app.get("/healthz", response_model=Health, responses=documented(405, 500, 503))
    def healthz() -> dict[str, Any]:
        """The index being answered from: generation, passages, model."""
        return {"status": "ok", **bot.status()}

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"), headers={"Content-Security-Policy": CSP})

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if not request.url.path.startswith("/docs"):  # the OpenAPI page loads Swagger UI's own assets
            response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    @app.middleware("http")
    async def internal(request: Request, call_next: Any) -> Any:
        """A bug (any exception no handler above took): one log line and a JSON 500 that share an id, so a user's
        report finds the line; the traceback is logged at DEBUG only."""
        try:
            return await call_next(request)
        except Exception as exc:
            error_id = uuid.uuid4().hex[:12]
            log.error("qa serve: internal error %s on %s %s: %s: %s", error_id, request.method, request.url.path,
                      type(exc).__name__, " ".join(str(exc).split())[:200])
            log.debug("internal error %s in full", error_id, exc_info=exc)
            return JSONResponse(error_body(f"internal error (id {error_id})", error_id=error_id), status_code=500)

    app.add_middleware(LimitBody)
    return app
