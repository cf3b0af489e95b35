"""Search (POST, identifiers in the body, never in a URL) and lists (GET, keyset cursor). Wiring only; `async`
routes, as in entities.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from hub.api.deps import ApiCall, Gate
from hub.api.models import HouseSearch, OrganizationSearch, PersonSearch
from hub.api.problems import documented
from hub.views import list_entities_steps, search_steps
from schemas.views import Page

router = APIRouter(prefix="/api/v1")

ERRORS = documented(400, 401, 403, 422, 503)
Community = Annotated[str | None, Query(min_length=1, max_length=64, description="a community or grid: its place "
                                        "id or its name", examples=["胜利西社区"])]
PageSize = Annotated[int, Query(ge=1, le=200, description="results per page")]
PageCursor = Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous page")]
UpdatedSince = Annotated[AwareDatetime | None, Query(description="changed at or after (ISO 8601 with zone)",
                                                examples=["2026-12-01T00:00:00Z"])]


@router.post("/persons/search", tags=["persons"], response_model=Page, responses=ERRORS)
async def search_persons(body: PersonSearch, call: ApiCall, gate: Gate) -> Any:
    """Persons matching every criterion given, best first, each with a score (0–100)."""
    return await gate.read(call, "person", search_steps, **body.criteria(), limit=body.limit, cursor=body.cursor)


@router.post("/houses/search", tags=["houses"], response_model=Page, responses=ERRORS)
async def search_houses(body: HouseSearch, call: ApiCall, gate: Gate) -> Any:
    """Houses by address, best first."""
    return await gate.read(call, "house", search_steps, **body.criteria(), limit=body.limit, cursor=body.cursor)


@router.post("/organizations/search", tags=["organizations"], response_model=Page, responses=ERRORS)
async def search_organizations(body: OrganizationSearch, call: ApiCall, gate: Gate) -> Any:
    """Organizations by name, credit code or address, best first."""
    return await gate.read(call, "organization", search_steps, **body.criteria(), limit=body.limit, cursor=body.cursor)


@router.get("/persons", tags=["persons"], response_model=Page, responses=ERRORS)
async def list_persons(call: ApiCall, gate: Gate, community: Community = None, updated_since: UpdatedSince = None,
                 limit: PageSize = 50, cursor: PageCursor = None) -> Any:
    """Persons in id order, a page at a time."""
    return await gate.read(call, "person", list_entities_steps, community=community, updated_since=updated_since,
                           limit=limit, cursor=cursor)


@router.get("/houses", tags=["houses"], response_model=Page, responses=ERRORS)
async def list_houses(call: ApiCall, gate: Gate, community: Community = None, updated_since: UpdatedSince = None,
                limit: PageSize = 50, cursor: PageCursor = None) -> Any:
    """Houses in id order, a page at a time."""
    return await gate.read(call, "house", list_entities_steps, community=community, updated_since=updated_since,
                           limit=limit, cursor=cursor)


@router.get("/organizations", tags=["organizations"], response_model=Page, responses=ERRORS)
async def list_organizations(call: ApiCall, gate: Gate, community: Community = None, updated_since: UpdatedSince = None,
                       limit: PageSize = 50, cursor: PageCursor = None) -> Any:
    """Organizations in id order, a page at a time."""
    return await gate.read(call, "organization", list_entities_steps, community=community,
                           updated_since=updated_since, limit=limit, cursor=cursor)
