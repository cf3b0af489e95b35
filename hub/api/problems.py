"""Every error the API answers, as application/problem+json (RFC 9457), from one function.

A client reads `code` (stable, listed in PROBLEMS and docs/api-guide.md) and `status`; `title` is the
code's fixed summary, `detail` says what was wrong with this request and where. Nothing else reaches a
client: no stack trace, no SQL, no driver message and never a value the client sent (a mistyped resident ID
would otherwise come back in the body and into whatever logs the client keeps). Validation problems list
each field as `body.phone`, `query.limit`, `path.entity_id` with what it must be.

`problem_response` is the one place an exception becomes a response: FastAPI's handlers for its own
exceptions and the catch-all middleware (for anything unexpected, which Starlette would otherwise answer
as text and log with its message) both call it.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.access.tokens import AuthError
from hub.audit import AuditQueryError
from hub.views import NothingPublished, QueryError

log = logging.getLogger("hub.api")

REALM = "community-hub"

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:community-hub:problem:"


@dataclass(frozen=True)
class ProblemKind:
    status: int
    title: str


PROBLEMS: dict[str, ProblemKind] = {
    "invalid_request": ProblemKind(422, "The request does not have the form the API expects"),
    "bad_request": ProblemKind(400, "The request cannot be read"),
    "invalid_query": ProblemKind(400, "The query cannot be answered as asked"),
    "missing_token": ProblemKind(401, "No access token was sent"),
    "invalid_token": ProblemKind(401, "The access token is not valid"),
    "expired_token": ProblemKind(401, "The access token has expired"),
    "invalid_client": ProblemKind(401, "The client credentials are not valid"),
    "unsupported_grant_type": ProblemKind(400, "Only the client_credentials grant is supported"),
    "type_not_allowed": ProblemKind(403, "Your grant does not cover this entity type"),
    "role_not_allowed": ProblemKind(403, "This endpoint is for another role"),
    "claim_not_allowed": ProblemKind(403, "Your grant does not cover this kind of claim"),
    "write_not_allowed": ProblemKind(403, "Your grant does not cover writing back this form"),
    "invalid_webhook_url": ProblemKind(400, "The webhook URL is not one the hub sends to"),
    "not_found": ProblemKind(404, "Nothing you may see has this id"),
    "no_such_endpoint": ProblemKind(404, "No endpoint has this path"),
    "method_not_allowed": ProblemKind(405, "This endpoint does not answer this method"),
    "not_acceptable": ProblemKind(406, "The API answers JSON only"),
    "unsupported_media_type": ProblemKind(415, "The body must be JSON (or a form for /token)"),
    "rate_limited": ProblemKind(429, "Too many tries: wait for Retry-After seconds"),
    "not_published": ProblemKind(503, "Nothing has been published yet"),
    "store_unavailable": ProblemKind(503, "The hub's store does not answer"),
    "source_busy": ProblemKind(503, "Another write-back holds the source: retry shortly"),
    "internal_error": ProblemKind(500, "Something went wrong on our side"),
}
"""The stable codes of the API. A code is never renamed or given another status; new ones may be added."""

_BY_STATUS = {401: "invalid_token", 403: "role_not_allowed", 404: "no_such_endpoint", 405: "method_not_allowed",
              406: "not_acceptable", 415: "unsupported_media_type", 400: "bad_request"}


class ApiProblem(Exception):
    """A request the API refuses on purpose: raised by dependencies and the gateway, answered by
    `problem_response`. `extra` adds members to the body (RFC 9457 extensions), never personal values."""

    def __init__(self, code: str, detail: str, *, headers: Mapping[str, str] | None = None,
                 extra: Mapping[str, Any] | None = None):
        super().__init__(detail)
        self.kind = PROBLEMS[code]
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class FieldProblem(BaseModel):
    field: str = Field(description="where: `body.phone`, `query.limit`, `path.entity_id`, `header.authorization`")
    message: str = Field(description="what it must be")


class Problem(BaseModel):
    """An error, as application/problem+json (RFC 9457)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "type": "urn:community-hub:problem:not_found", "title": PROBLEMS["not_found"].title, "status": 404,
        "detail": "no person P-00a1b2c3d4e5f607 that you may see", "code": "not_found",
        "instance": "/api/v1/persons/P-00a1b2c3d4e5f607"}]})

    type: str = Field(description="urn:community-hub:problem:CODE")
    title: str
    status: int
    detail: str
    code: str = Field(description="stable error code (docs/api-guide.md)")
    instance: str = Field(description="the path that was requested (without its query string)")
    errors: list[FieldProblem] | None = Field(default=None, description="invalid_request: each field at fault")
    incident: str | None = Field(default=None, description="internal_error: quote it when reporting the fault")


def problem_body(code: str, detail: str, instance: str, **extra: Any) -> dict[str, Any]:
    kind = PROBLEMS[code]
    body = {"type": PROBLEM_TYPE_PREFIX + code, "title": kind.title, "status": kind.status, "detail": detail,
            "code": code, "instance": instance}
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _validation(exc: RequestValidationError) -> tuple[str, dict[str, Any]]:
    """Each failed field with pydantic's message; the rejected input itself is left out on purpose."""
    errors = [{"field": _field(e.get("loc", ())), "message": str(e.get("msg", "invalid"))} for e in exc.errors()]
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return f"invalid {fields}" if fields else "the request is invalid", {"errors": errors}


def _unexpected(exc: BaseException, scope: Scope) -> tuple[str, str, dict[str, Any]]:
    """An error no code path expected: logged with its type and where it was raised, never its message
    (a driver or a KeyError may quote a value); the client gets an incident id to report."""
    if isinstance(exc, (OperationalError, psycopg.OperationalError)):
        return "store_unavailable", "the hub's store did not answer; try again later", {}
    incident = uuid.uuid4().hex[:12]
    frames = "; ".join(f"{f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(exc.__traceback__)[-6:])
    log.error("internal error %s (incident %s) on %s %s at %s", type(exc).__name__, incident, scope.get("method"),
              scope.get("path"), frames)
    return "internal_error", f"an unexpected error occurred (incident {incident})", {"incident": incident}


def problem_response(request_or_scope: Request | Scope, exc: BaseException) -> JSONResponse:
    """The one exception handler of the API: every error response is built here."""
    scope = request_or_scope.scope if isinstance(request_or_scope, Request) else request_or_scope
    instance = str(scope.get("root_path", "")) + str(scope.get("path", ""))
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(exc, ApiProblem):
        code, detail, headers, extra = exc.code, exc.detail, exc.headers, exc.extra
    elif isinstance(exc, AuthError):
        code, detail = exc.code, str(exc)
        headers = {"WWW-Authenticate": f'Bearer realm="{REALM}", error="{exc.code}"'}
    elif isinstance(exc, NothingPublished):
        code, detail = "not_published", "nothing has been published yet: the hub's operator runs `hub resolve`"
    elif isinstance(exc, (QueryError, AuditQueryError)):
        code, detail = "invalid_query", str(exc)
    elif isinstance(exc, RequestValidationError):
        code = "invalid_request"
        detail, extra = _validation(exc)
    elif isinstance(exc, HTTPException):
        headers = dict(exc.headers or {})
        if exc.status_code == 401 and headers.get("WWW-Authenticate", "").startswith("Basic"):
            code, detail = "invalid_client", "the HTTP Basic credentials cannot be read (base64 of id:secret)"
        else:
            code = _BY_STATUS.get(exc.status_code, "bad_request" if exc.status_code < 500 else "internal_error")
            detail = _http_detail(exc, scope)
    else:
        code, detail, extra = _unexpected(exc, scope)
    body = problem_body(code, detail, instance, **extra)
    return JSONResponse(body, status_code=PROBLEMS[code].status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _http_detail(exc: HTTPException, scope: Scope) -> str:
    if exc.status_code == 404:
        return f"no endpoint at {scope.get('path')}; the endpoints are listed at /docs"
    if exc.status_code == 405:
        return f"{scope.get('method')} is not allowed here"
    return exc.detail if isinstance(exc.detail, str) else PROBLEMS[_BY_STATUS.get(exc.status_code, "bad_request")].title


async def problem_handler(request: Request, exc: Exception) -> JSONResponse:
    """What FastAPI calls for ApiProblem, RequestValidationError and HTTPException."""
    return problem_response(request, exc)


class CatchAll:
    """Pure ASGI middleware: anything a route or dependency raised that no handler took becomes a
    problem+json 500 (or 503 when the store is down) instead of Starlette's text 500 and a logged
    traceback carrying the exception's message."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:      # a streamed response broke half-way: nothing sensible can be sent any more
                _unexpected(exc, scope)
                return
            await problem_response(scope, exc)(scope, receive, send)


_DESCRIPTIONS = {400: "the query cannot be answered as asked", 401: "no valid token",
                 403: "outside your grant (type or role)", 404: "unknown, of another type, or outside your scope",
                 422: "the request does not validate: `errors` names each field", 503: "nothing published yet, or "
                 "the store does not answer", 429: "too many tries for your consumer or this subject: `Retry-After` "
                 "says when to try again"}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error responses of a route for its OpenAPI entry, as problem+json (app.py moves the media type)."""
    return {status: {"model": Problem, "description": _DESCRIPTIONS.get(status, "error")} for status in statuses}
