"""Every error the service answers is JSON in one shape, built from the library's Problems:

    {"error": {"status": 422, "title": "invalid case", "problems": [{"path": ..., "message": ...}]}}

the same `problems` records the CLI prints for a bad case, never a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from escalator.errors import EscalatorError, Problem

log = logging.getLogger("escalator.service")


class ApiError(Exception):
    """A request the service refuses: an HTTP status, a title and the problems."""

    def __init__(self, status: int, title: str, problems: list[Problem] | None = None,
                 headers: dict[str, str] | None = None, kind: str | None = None):
        super().__init__(title)
        self.status, self.title = status, title
        self.problems = problems or [Problem(title)]
        self.headers = headers
        self.kind = kind or {400: "bad_request", 401: "unauthorized", 413: "too_large",
                             422: "invalid", 503: "log_unavailable"}.get(status, "error")


def problem_records(problems: list[Problem]) -> list[dict[str, Any]]:
    return [{k: v for k, v in p.to_dict().items() if v is not None} for p in problems]


def error_body(status: int, title: str, problems: list[Problem]) -> dict[str, Any]:
    return {"error": {"status": status, "title": title, "problems": problem_records(problems)}}


def slot_error(error: EscalatorError) -> dict[str, Any]:
    """The record that stands in a batch slot for a case that could not be decided."""
    return error_body(422, "invalid case", error.problems)


def _respond(error: ApiError) -> JSONResponse:
    return JSONResponse(error_body(error.status, error.title, error.problems), error.status, headers=error.headers)


def install(app: FastAPI, count_error: Any) -> None:
    """Exception handlers: ours, FastAPI's validation errors, 404/405, and anything else (500)."""

    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        count_error(exc.kind)
        return _respond(exc)

    async def validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [Problem(str(e.get("msg", "invalid")), path=".".join(str(p) for p in e.get("loc", ())))
                    for e in exc.errors()]
        count_error("invalid")
        return _respond(ApiError(422, "invalid request", problems))

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        count_error("http")
        return _respond(ApiError(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None)))

    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        count_error("internal")
        return _respond(ApiError(500, "internal error (a bug; the server log has the details)"))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, internal)
