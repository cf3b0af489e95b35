"""`create_app(settings)`: the hub's HTTP API for downstream apps, as one FastAPI application.

Everything a request does not need to decide is done here, once: the store is opened (and checked to be
at the current schema), routers are mounted, the OpenAPI document is built on first request and cached.
Routes only wire (hub/api/routes/); the decisions live in hub.views, hub.access and hub.audit, and the
one request path that ties them together in hub/api/gateway.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException

from hub.api.context import ApiContext
from hub.api.problems import PROBLEM_MEDIA_TYPE, ApiProblem, CatchAll, log, problem_handler
from hub.api.routes import ROUTERS
from hub.audit import Sealer
from hub.settings import HubSettings

API_TITLE = "Community Data Hub API · 智慧社区数据汇聚中枢"
API_VERSION = "1"
API_DESCRIPTION = """\
The fused 人 房 事 物 情 组织 data of the hub, served to registered downstream apps (可用不可见).

* **Authenticate** with OAuth2 client credentials: `POST /api/v1/token` (form: `grant_type=client_credentials`,
  `client_id`, `client_secret`) returns a short-lived bearer token; send it as `Authorization: Bearer …`.
* **What you see** depends on your grant: entity types, fields, scope (communities or grids) and clearance.
  Values above your clearance are masked (ID `650102********1234`, phone `138****5678`, names by character)
  or withheld (`null`, with the field's mode in `fields`). Out of scope is the same as unknown: 404.
* **Identifiers never go in URLs**: search by name, resident ID, phone or address with `POST …/search`.
* **Every read is audited** (who, purpose, endpoint, entity ids, fields and how they were shown).
* **Errors** are `application/problem+json` with a stable `code` (see the guide: docs/api-guide.md).
"""

TAGS = [
    {"name": "auth", "description": "Access tokens for registered consumers."},
    {"name": "persons", "description": "人: residents. 一人一档 is the person's profile."},
    {"name": "houses", "description": "房: houses and rooms. 一房一档 is the house's profile."},
    {"name": "organizations", "description": "组织: companies and social organizations. 一企一档."},
    {"name": "things", "description": "物: vehicles and other things."},
    {"name": "lineage", "description": "Which departments stated a value, and when."},
    {"name": "verify", "description": "核验: a claim answered yes or no, nothing else; rate-limited and audited."},
    {"name": "forms", "description": "智慧表单: forms prefilled from the hub; newly collected values written back."},
    {"name": "feed", "description": "Changes of the entities you may see, by cursor or pushed to your webhook."},
    {"name": "audit", "description": "The hash-chained audit log: auditors only."},
    {"name": "service", "description": "Health and the published version."},
]


def _problem_content(schema: dict[str, Any]) -> None:
    """Error responses carry problem+json: moved from the application/json FastAPI writes by default."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content")
                if status[:1] in "45" and content and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")


def create_app(settings: HubSettings, context: ApiContext | None = None) -> FastAPI:
    """The API over the store the settings name; `context`: an already opened store (tests share one)."""
    ctx = context or ApiContext.open(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        sealer = Sealer(ctx.engine, ctx.keys).start()     # chains the audit rows the requests append
        try:
            yield
        finally:
            await ctx.gateway.close()
            try:
                sealer.stop()
            except SQLAlchemyError:     # the store is gone: the rows wait for the next sealer or `hub audit`
                log.warning("the audit rows of the last moments could not be sealed at shutdown: the store did "
                            "not answer; the next API start or `hub audit verify` seals them")
            if context is None:
                ctx.close()

    docs = settings.api_docs
    app = FastAPI(title=API_TITLE, version=API_VERSION, description=API_DESCRIPTION, openapi_tags=TAGS,
                  lifespan=lifespan, docs_url="/docs" if docs else None, redoc_url=None,
                  openapi_url="/openapi.json" if docs else None, swagger_ui_parameters={"tryItOutEnabled": True})
    app.state.hub = ctx
    for exc_class in (ApiProblem, RequestValidationError, HTTPException):
        app.add_exception_handler(exc_class, problem_handler)
    app.add_middleware(CatchAll)
    for router in ROUTERS:
        app.include_router(router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes, tags=app.openapi_tags)
            _problem_content(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
