"""事 Events for grid workers' apps: my grid's open events, and moving one on with feedback. Wiring only:
which events a worker sees and may move is hub.events.serve; the request path (admission, grant, audit row in
the change's transaction) is the gateway's `act`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from hub.access import Policy
from hub.api.deps import ApiCall, Context, Gate
from hub.api.problems import ApiProblem, documented
from hub.events import EventError, load_roster
from hub.events.serve import NotAWorker, NotVisible, my_events, update_my_event

router = APIRouter(prefix="/api/v1")
EventId = Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$", description="the event's id")


class EventItem(BaseModel):
    """One event: what it is about (canonical ids), where, whose, by when. No personal value."""

    id: str
    origin: Literal["finding", "ticket"]
    kind: str = Field(description="the rule id of a finding, or repair / complaint")
    severity: str
    state: str
    entity_type: str
    entity_id: str
    house_id: str | None
    building: str | None
    grid: str | None
    community: str | None
    worker_id: str | None
    discovered_at: datetime
    due_at: datetime
    assigned_at: datetime | None
    resolved_at: datetime | None
    reopened: int


class EventList(BaseModel):
    items: list[EventItem]


class EventUpdate(BaseModel):
    """Move your event on: `in_progress` when you start, `resolved` with what was done (the next check closes
    it, or reopens it when the finding is still there)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"state": "resolved", "note": "上门核实：家属已向民政申请停发低保"}]})

    state: Literal["in_progress", "resolved"]
    note: str = Field(default="", max_length=2000, description="the feedback; needed to resolve")


def _refusals(action: Callable[[Connection, Policy], Any]) -> Callable[[Connection, Policy], Any]:
    """The action with the events' errors as the API's problems."""
    def run(conn: Connection, policy: Policy) -> Any:
        try:
            return action(conn, policy)
        except NotAWorker as exc:
            raise ApiProblem("role_not_allowed", str(exc)) from None
        except NotVisible:
            raise ApiProblem("not_found", "no event with this id that you may see") from None
        except EventError as exc:
            raise ApiProblem("invalid_query", str(exc)) from None
    return run


@router.get("/events", tags=["events"], response_model=EventList, responses=documented(401, 403, 503))
async def get_my_events(call: ApiCall, gate: Gate) -> Any:
    """The open events of your grid (your app's worker in the grid roster), soonest due first."""
    items = await run_in_threadpool(gate.act, call, "event", _refusals(my_events),
                                    entity_ids=lambda found: sorted({str(e["entity_id"]) for e in found}),
                                    detail={"given": []})
    return EventList(items=[EventItem.model_validate(e) for e in items])


@router.post("/events/{event_id}", tags=["events"], response_model=EventItem,
             responses=documented(400, 401, 403, 404, 422, 503))
async def update_event(body: EventUpdate, call: ApiCall, gate: Gate, ctx: Context,
                       event_id: str = EventId) -> Any:
    """Move one of your grid's events on, with your feedback."""
    roster = load_roster(ctx.settings.grids_file)

    def act(conn: Connection, policy: Policy) -> dict[str, Any]:
        update_my_event(conn, policy, event_id, body.state, body.note, roster)
        [event] = [e for e in my_events(conn, policy) if e["id"] == event_id]
        return event

    event = await run_in_threadpool(gate.act, call, "event", _refusals(act),
                                    entity_ids=lambda e: [str(e["entity_id"])],
                                    detail={"state": body.state})
    return EventItem.model_validate(event)
