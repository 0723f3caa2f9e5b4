"""Every error of the API as one JSON object (`adapters.http.models.Error`), with the right status: the handlers,
the sentences they say, and the statuses each operation documents."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.http.models import Error, error_body
from qa.errors import InputError, QAError
from qa.text.cleaning import MAX_QUESTION_CHARS

log = logging.getLogger("qa.serve")

_SAYS: dict[int, str] = {
    400: "the question cannot be answered as given (it has no words once control characters are removed, or is "
         "too long once normalised)",
    401: "missing or wrong bearer token",
    404: "no such article, or no such path",
    405: "a method this path does not have: the `Allow` header lists those it has",
    410: "the article's file can no longer be read",
    413: "the request body is too large",
    422: "the request does not match the schema: `field` names what is wrong",
    500: "a bug: the `id` is in the server's log line about it",
    503: "the index cannot be read (missing, damaged, or its database is down)",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` entries for these error statuses, each an `Error` (a 405 with its `Allow`)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        out[status] = {"model": Error, "description": _SAYS[status]}
        if status == 405:
            out[status]["headers"] = {"Allow": {"description": "the methods this path has",
                                                "schema": {"type": "string"}}}
    return out


def error(status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, field), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """The handlers that make every error an `Error` with its status."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})  # a 405 keeps its Allow
        message = str(exc.detail)
        if exc.status_code == 405 and headers.get("Allow"):
            message = f"{request.method} is not allowed here: this path takes {headers['Allow']}"
        return error(exc.status_code, message, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":
            return error(422, not_json(exc.body, first), "body")
        where = ".".join(str(x) for x in first.get("loc", ()) if x not in ("body", "query", "path"))
        return error(422, invalid_message(where, first), where or "body")

    @app.exception_handler(InputError)
    async def bad_input(_request: Request, exc: InputError) -> JSONResponse:
        return error(400, str(exc), "question")

    @app.exception_handler(QAError)
    async def unavailable(_request: Request, exc: QAError) -> JSONResponse:
        log.error("qa serve: %s", exc)
        return error(503, str(exc))


def invalid_message(where: str, problem: dict[str, Any]) -> str:
    """One sentence for a field the schema refuses: the question's own rules in words, others as pydantic says."""
    kind = problem.get("type", "")
    given = problem.get("input")
    if where in ("question", "q") and isinstance(given, str):
        if kind == "string_too_long":
            return f"the question is too long ({len(given)} characters, at most {MAX_QUESTION_CHARS})"
        if kind in ("string_too_short", "string_pattern_mismatch"):
            if "\x1b" in given or "\x9b" in given:
                return "the question holds terminal escape characters"
            return "the question is empty: ask something, e.g. \"Who signed the agreement?\""
    return f"{where or 'request'}: {problem.get('msg', 'invalid')}"


def not_json(body: Any, problem: dict[str, Any]) -> str:
    """`body is not JSON: expecting ',' delimiter at line 1 column 12`, from the decoder's error."""
    loc = problem.get("loc") or ()
    pos = loc[-1] if loc and isinstance(loc[-1], int) else None
    why = str((problem.get("ctx") or {}).get("error") or "not valid JSON")
    why = why[:1].lower() + why[1:]
    if pos is None or not isinstance(body, (str, bytes)):
        return f"body is not JSON: {why}"
    text = body if isinstance(body, str) else body.decode("utf-8", "replace")
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"body is not JSON: {why} at line {line} column {column}"
