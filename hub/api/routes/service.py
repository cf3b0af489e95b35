"""Service endpoints: liveness of the API and its store."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hub.api.deps import ApiCall, Context, Gate
from hub.api.models import Publication
from hub.api.problems import ApiProblem, Problem, documented
from hub.views.publication import publication

router = APIRouter(tags=["service"])


class Health(BaseModel):
    status: Literal["ok"] = Field(examples=["ok"])
    store: Literal["ok"] = Field(examples=["ok"], description="the store answered a query")


@router.get("/health", response_model=Health, responses={503: {"model": Problem}},
            summary="Is the API up and its store reachable?")
def health(ctx: Context) -> Health:
    """No authentication, no personal data: for load balancers and monitoring."""
    try:
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        raise ApiProblem("store_unavailable", "the hub's store did not answer") from None
    return Health(status="ok", store="ok")


@router.get("/api/v1/publication", response_model=Publication, responses=documented(401, 503),
            summary="Which version of the data is served")
def get_publication(call: ApiCall, gate: Gate) -> Any:
    """The published version requests are answered from, and when it was published."""
    return gate.describe(call, publication)
