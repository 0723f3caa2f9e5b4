"""The HTTP API and the web page over one Bot: ask, search, the indexed articles, health; JSON errors only."""

from __future__ import annotations

import hmac
import logging
import uuid
from importlib import resources
from typing import Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.http.limits import LimitBody
from qa.answering.answer import display_source
from qa.bot import Bot
from qa.documents.feeds import feed_of
from qa.errors import InputError, QAError, SourceError

log = logging.getLogger("qa.serve")
STATIC = resources.files("adapters.http") / "static"
# The page loads nothing from elsewhere and runs no inline script: an article's text can never become code.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'")


class AskRequest(BaseModel):
    question: str = Field(max_length=10_000)
    k: int | None = Field(default=None, ge=1, le=50)
    mode: Literal["hybrid", "dense", "lexical"] | None = None
    history: list[tuple[str, str | None]] = Field(default_factory=list, max_length=20)
    view: Literal["json", "web"] = "json"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(bot: Bot, token: str | None = None) -> FastAPI:
    """The ASGI app; with `token`, every /api request needs `Authorization: Bearer TOKEN`."""
    app = FastAPI(title="qa", summary="Answers quoted verbatim from your articles, cited to the line.",
                  version="0.1.0", redoc_url=None)

    def authorised(request: Request) -> None:
        if token is None:
            return
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.encode(), token.encode()):
            raise HTTPException(401, "missing or wrong bearer token")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":
            return _error(422, _not_json(exc.body, first))
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        return _error(422, f"{where or 'request'}: {first.get('msg', 'invalid')}")

    @app.exception_handler(InputError)
    async def bad_input(_request: Request, exc: InputError) -> JSONResponse:
        return _error(400, str(exc))

    @app.exception_handler(QAError)
    async def unavailable(_request: Request, exc: QAError) -> JSONResponse:
        log.error("qa serve: %s", exc)
        return _error(503, str(exc))


    @app.post("/api/ask", dependencies=[Depends(authorised)])
    def ask(body: AskRequest) -> dict[str, Any]:
        """The answer, exactly as `qa ask --json` gives it (`view: "web"` adds what the page shows)."""
        answer = bot.ask(body.question, history=list(body.history), k=body.k, mode=body.mode)
        return answer.to_web() if body.view == "web" else answer.to_json()

    @app.get("/api/search", dependencies=[Depends(authorised)])
    def search(q: str = Query(max_length=10_000), k: int = Query(5, ge=1, le=50),
               mode: Literal["hybrid", "dense", "lexical"] | None = None) -> dict[str, Any]:
        """The ranked passages for `q`, with no answer chosen."""
        found = bot.search(q, k=k, mode=mode)
        return {"query": q, "passages": [{**c.to_json(), "id": c.source_id} for c in found]}

    @app.get("/api/sources", dependencies=[Depends(authorised)])
    def sources() -> dict[str, Any]:
        """Every indexed article: its id, source, title, date and passages."""
        return {"sources": [{"id": i, "source": display_source(r.source), "title": r.title, "date": r.date, "passages": r.passages}
                            for i, r in bot.articles().items()]}

    @app.get("/api/sources/{article_id}", dependencies=[Depends(authorised)])
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

    @app.get("/healthz")
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
            return JSONResponse({"error": f"internal error (id {error_id})", "id": error_id}, status_code=500)

    app.add_middleware(LimitBody)
    return app


def _not_json(body: Any, error: dict[str, Any]) -> str:
    """`body is not JSON: expecting ',' delimiter at line 1 column 12`, from the decoder's error."""
    loc = error.get("loc") or ()
    pos = loc[-1] if loc and isinstance(loc[-1], int) else None
    why = str((error.get("ctx") or {}).get("error") or "not valid JSON")
    why = why[:1].lower() + why[1:]
    if pos is None or not isinstance(body, (str, bytes)):
        return f"body is not JSON: {why}"
    text = body if isinstance(body, str) else body.decode("utf-8", "replace")
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"body is not JSON: {why} at line {line} column {column}"
