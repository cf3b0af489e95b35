"""What people do to an event: assign, update (start, resolve, give feedback), close, reopen, suppress.

Each is one UPDATE guarded by the states it may leave (`MOVES`), one step row with the feedback, and one
audit row, in one transaction: an event changed is always an event whose history and audit say by whom, when
and why. A suppression needs a reason; it stays through every later run (hub.events.derive).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from hub.access import Policy
from hub.audit import AuditEntry, append
from hub.errors import HubError
from hub.events.derive import DONE_STATES, OPEN_STATES
from hub.events.roster import Roster
from hub.store import tables

E, W = tables.event.c, tables.grid_worker.c

MOVES: dict[str, tuple[str, ...]] = {
    "assigned": ("discovered", "assigned", "in_progress"),
    "in_progress": ("assigned", "in_progress"),
    "resolved": ("assigned", "in_progress"),
    "closed": OPEN_STATES,
    "reopened": ("resolved", "closed"),
    "suppressed": (*OPEN_STATES, "closed"),
}
"""The states an event may be moved to (`reopened` puts it back to `assigned`), and from which."""
NEEDS_NOTE = ("resolved", "closed", "reopened", "suppressed")
WORKER_MOVES = ("in_progress", "resolved")
"""What a grid worker's app may do (API); assigning, closing, reopening and suppressing are the office's."""


class EventError(HubError):
    """The event is not there (for this caller), or cannot make this move from its state."""


@dataclass(frozen=True)
class Moved:
    event_id: str
    state: str
    worker_id: str | None


def _worker(conn: Connection, worker_id: str) -> str:
    grid = conn.execute(sa.select(W.grid).where(W.worker_id == worker_id)).scalar()
    if grid is None:
        raise EventError(f"no grid worker {worker_id!r} in the roster (HUB_GRIDS_FILE; `hub events load-grids`)")
    return str(grid)


def move(conn: Connection, event_id: str, state: str, *, by: Policy, note: str = "", worker_id: str | None = None,
         roster: Roster | None = None, now: datetime | None = None, audit: bool = True) -> Moved:
    """Move one event to `state` in the caller's transaction (EventError if it may not); a step and, unless the
    caller audits the request itself (the API's gateway), an audit row."""
    if state not in MOVES:
        raise EventError(f"unknown state {state!r}; one of {', '.join(MOVES)}")
    note = note.strip()
    if state in NEEDS_NOTE and not note:
        raise EventError(f"moving an event to {state} needs a note (the feedback, or the reason)")
    when = now or datetime.now(UTC)
    row = conn.execute(sa.select(E.state, E.worker_id, E.severity).where(E.id == event_id)).first()
    if row is None:
        raise EventError(f"no event {event_id}")
    if row.state not in MOVES[state]:
        raise EventError(f"event {event_id} is {row.state}: it cannot move to {state} "
                         f"(from {', '.join(MOVES[state])} only)")
    values: dict[str, object] = {"updated_at": when}
    entered = state
    worker = row.worker_id
    if state == "assigned":
        if worker_id is None:
            raise EventError("assigning needs a worker id")
        grid = _worker(conn, worker_id)
        located = conn.execute(sa.select(E.grid).where(E.id == event_id)).scalar()
        if located is not None and located != grid:
            raise EventError(f"worker {worker_id} serves {grid}; event {event_id} is in {located}")
        values.update(worker_id=worker_id, grid=grid, assigned_at=when)
        worker = worker_id
    elif state == "resolved":
        values["resolved_at"] = when
    elif state == "closed":
        values.update(closed_at=when, resolved_at=sa.func.coalesce(E.resolved_at, when))
    elif state == "reopened":
        entered = "assigned"
        due = (roster or Roster()).due(str(row.severity))
        values.update(resolved_at=None, closed_at=None, reopened=E.reopened + 1, due_at=when + due)
    values["state"] = entered
    done = conn.execute(tables.event.update().where((E.id == event_id) & E.state.in_(MOVES[state])).values(**values))
    if done.rowcount != 1:   # moved by someone else meanwhile
        raise EventError(f"event {event_id} changed meanwhile; read it again")
    text = note or (f"assigned to {worker_id}" if state == "assigned" else state)
    conn.execute(tables.event_step.insert().values(event_id=event_id, at=when, state=entered, by=by.actor,
                                                   note=text))
    if audit:
        append(conn, AuditEntry.of(by, f"event {state}", status=200, entity_ids=[event_id],
                                   detail={"state": entered, "from": row.state}))
    return Moved(event_id, entered, worker)


def move_event(engine: Engine, event_id: str, state: str, *, by: Policy, note: str = "",
               worker_id: str | None = None, roster: Roster | None = None) -> Moved:
    """`move` in a transaction of its own: what the CLI calls."""
    with engine.begin() as conn:
        return move(conn, event_id, state, by=by, note=note, worker_id=worker_id, roster=roster)


def steps_of(engine: Engine, event_id: str) -> list[tuple[datetime, str, str, str]]:
    """An event's history, oldest first: (at, state, by, note)."""
    s = tables.event_step.c
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(s.at, s.state, s.by, s.note)
                                               .where(s.event_id == event_id).order_by(s.at, s.id))]


__all__ = ["DONE_STATES", "MOVES", "NEEDS_NOTE", "WORKER_MOVES", "EventError", "Moved", "move", "move_event",
           "steps_of"]
