"""Entities by canonical id: golden values, profiles (一人一档, 一房一档, 一企一档) and lineage. Wiring only:
the views are hub.views (as steps), the request path hub/api/gateway.py. The routes are `async`: the gateway
waits for the store on the driver's asynchronous connections, not in a thread of the pool."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from hub.api.deps import ApiCall, Gate
from hub.api.models import ENTITY_ID_PATTERN
from hub.api.problems import documented
from hub.views import lineage_steps
from hub.views.entity import entity_document_steps
from hub.views.profiles import house_document_steps, organization_document_steps, person_document_steps
from schemas.views import EntityView, HouseProfile, LineageView, OrganizationProfile, PersonProfile

router = APIRouter(prefix="/api/v1")

EntityId = Annotated[str, Path(pattern=ENTITY_ID_PATTERN, description="canonical id", examples=["P-3f9a0c2b7d1e4a55"])]
Attribute = Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_]+$", description="only this attribute",
                                        examples=["phone"])]
MOVED: dict[int | str, dict[str, Any]] = {308: {"description": "a merged id: `Location` is the survivor's URL"}}
BY_ID = {**MOVED, **documented(400, 401, 403, 404, 422, 503)}


@router.get("/persons/{entity_id}", tags=["persons"], response_model=EntityView, responses=BY_ID)
async def get_person(entity_id: EntityId, call: ApiCall, gate: Gate) -> Any:
    """A person's golden values, as your grant shows them."""
    return await gate.fetch(call, "person", entity_id, entity_document_steps)


@router.get("/houses/{entity_id}", tags=["houses"], response_model=EntityView, responses=BY_ID)
async def get_house(entity_id: EntityId, call: ApiCall, gate: Gate) -> Any:
    """A house's golden values."""
    return await gate.fetch(call, "house", entity_id, entity_document_steps)


@router.get("/organizations/{entity_id}", tags=["organizations"], response_model=EntityView, responses=BY_ID)
async def get_organization(entity_id: EntityId, call: ApiCall, gate: Gate) -> Any:
    """An organization's golden values."""
    return await gate.fetch(call, "organization", entity_id, entity_document_steps)


@router.get("/things/{entity_id}", tags=["things"], response_model=EntityView, responses=BY_ID)
async def get_thing(entity_id: EntityId, call: ApiCall, gate: Gate) -> Any:
    """A thing's (vehicle, parking space …) golden values."""
    return await gate.fetch(call, "thing", entity_id, entity_document_steps)


@router.get("/persons/{entity_id}/profile", tags=["persons"], response_model=PersonProfile, responses=BY_ID)
async def get_person_profile(entity_id: EntityId, call: ApiCall, gate: Gate) -> Any:
    """一人一档: the person with houses, organizations, things, situations and events."""
    return await gate.fetch(call, "person", entity_id, person_document_steps)


@router.get("/houses/{entity_id}/profile", tags=["houses"], response_model=HouseProfile, responses=BY_ID)
async def get_house_profile(entity_id: EntityId, call: ApiCall, gate: Gate) -> Any:
    """一房一档: the house with its places, owners, residents, things and events."""
    return await gate.fetch(call, "house", entity_id, house_document_steps)


@router.get("/organizations/{entity_id}/profile", tags=["organizations"], response_model=OrganizationProfile,
            responses=BY_ID)
async def get_organization_profile(entity_id: EntityId, call: ApiCall, gate: Gate) -> Any:
    """一企一档: the organization with its people, premises and things."""
    return await gate.fetch(call, "organization", entity_id, organization_document_steps)


@router.get("/persons/{entity_id}/lineage", tags=["lineage"], response_model=LineageView, responses=BY_ID)
async def get_person_lineage(entity_id: EntityId, call: ApiCall, gate: Gate, attribute: Attribute = None) -> Any:
    """Which departments stated each of the person's values you may see, and when."""
    return await gate.fetch(call, "person", entity_id, lineage_steps, attribute=attribute)


@router.get("/houses/{entity_id}/lineage", tags=["lineage"], response_model=LineageView, responses=BY_ID)
async def get_house_lineage(entity_id: EntityId, call: ApiCall, gate: Gate, attribute: Attribute = None) -> Any:
    """Which departments stated each of the house's values, and when."""
    return await gate.fetch(call, "house", entity_id, lineage_steps, attribute=attribute)


@router.get("/organizations/{entity_id}/lineage", tags=["lineage"], response_model=LineageView, responses=BY_ID)
async def get_organization_lineage(entity_id: EntityId, call: ApiCall, gate: Gate, attribute: Attribute = None) -> Any:
    """Which departments stated each of the organization's values, and when."""
    return await gate.fetch(call, "organization", entity_id, lineage_steps, attribute=attribute)


@router.get("/things/{entity_id}/lineage", tags=["lineage"], response_model=LineageView, responses=BY_ID)
async def get_thing_lineage(entity_id: EntityId, call: ApiCall, gate: Gate, attribute: Attribute = None) -> Any:
    """Which departments stated each of the thing's values, and when."""
    return await gate.fetch(call, "thing", entity_id, lineage_steps, attribute=attribute)
