"""What a grid worker's app sees and may do through the API: the events of the grids the roster gives its
worker (`grid_worker.consumer_id`), within the consumer's grant (the `event` type) and scope (its communities
and grids, by the event's house as published), and the moves of WORKER_MOVES on those events only.

An event outside that is answered as absent (404), as every other read answers an id out of scope. Events
carry ids, codes and places, no personal value: the worker reads a person through the entity endpoints,
masked by clearance there.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection

from hub.access import Policy
from hub.events.derive import OPEN_STATES
from hub.events.life import WORKER_MOVES, EventError, Moved, move
from hub.events.roster import Roster
from hub.store import tables

E, W, P = tables.event.c, tables.grid_worker.c, tables.pub_scope.c
SHOWN = ["id", "origin", "kind", "severity", "state", "entity_type", "entity_id", "house_id", "building", "grid",
         "community", "worker_id", "discovered_at", "due_at", "assigned_at", "resolved_at", "reopened"]


class NotAWorker(EventError):
    """The caller's app is no grid worker's (the roster names no worker with its client id)."""


class NotVisible(EventError):
    """No event with this id that the caller may see (absent, or of another grid: told apart by nobody)."""


def _grids(conn: Connection, policy: Policy) -> list[str]:
    if policy.consumer_id is None:
        raise NotAWorker("this endpoint is for grid workers' apps")
    grids = list(conn.execute(sa.select(W.grid).where(W.consumer_id == policy.consumer_id)).scalars())
    if not grids:
        raise NotAWorker("no grid worker in the roster has this app's client id")
    return grids


def _visible(conn: Connection, policy: Policy) -> sa.ColumnElement[bool]:
    where: sa.ColumnElement[bool] = E.grid.in_(_grids(conn, policy))
    if policy.scope is not None:   # the consumer's communities and grids, by the event's house as published
        where &= sa.exists(sa.select(1).where((P.entity_id == E.house_id) & P.place_id.in_(sorted(policy.scope))
                                              & P.until.is_(None)))
    return where


def my_events(conn: Connection, policy: Policy) -> list[dict[str, object]]:
    """The open events of the caller's grids, soonest due first."""
    query = (sa.select(*(E[c] for c in SHOWN)).where(_visible(conn, policy) & E.state.in_(OPEN_STATES))
             .order_by(E.due_at, E.id))
    return [dict(row._mapping) for row in conn.execute(query)]


def update_my_event(conn: Connection, policy: Policy, event_id: str, state: str, note: str, roster: Roster,
                    now: datetime | None = None) -> Moved:
    """A worker's move on one of its events (EventError: absent for this caller, or a move it may not make)."""
    if state not in WORKER_MOVES:
        raise EventError(f"a grid worker's app may move an event to {' or '.join(WORKER_MOVES)} only")
    mine = conn.execute(sa.select(E.id).where((E.id == event_id) & _visible(conn, policy))).scalar()
    if mine is None:
        raise NotVisible(event_id)
    return move(conn, event_id, state, by=policy, note=note, roster=roster, now=now, audit=False)


__all__ = ["SHOWN", "NotAWorker", "NotVisible", "my_events", "update_my_event"]
