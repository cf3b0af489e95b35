"""Service endpoints: liveness of the API and its store."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hub.api.deps import Context
from hub.api.problems import ApiProblem, Problem

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
