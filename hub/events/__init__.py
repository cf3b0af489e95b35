"""事 Events: what the findings of the rules (hub.rules) and the property system's repairs and complaints ask
someone to handle, followed from discovery to closing.

`run_events` (stage `events`) loads the grid roster (hub.events.roster), then turns findings and tickets into
events, checks the resolved ones and locates and assigns the open ones, as set operations (hub.events.derive);
`move` and `move_event` are what people do to one event (hub.events.life); `event_metrics` the handling
figures per grid and community (hub.events.metrics).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

from hub.events.derive import DONE_STATES, OPEN_STATES, Derived, derive, read_events, ticket_frame
from hub.events.life import MOVES, WORKER_MOVES, EventError, Moved, move, move_event, steps_of
from hub.events.metrics import METRIC_COLUMNS, event_metrics
from hub.events.roster import Roster, load_roster, write_roster
from hub.protect import Vault
from hub.rules.engine import FusedTables
from hub.store import tables
from hub.store.runs import DEFAULT_STALE_AFTER, failure_text, finish_counted, start_run

STAGE, SOURCE = "events", "all"


@dataclass
class EventsResult:
    run_id: str
    derived: Derived


def run_events(engine: Engine, vault: Vault, roster: Roster, *, now: datetime | None = None,
               stale_after: timedelta = DEFAULT_STALE_AFTER) -> EventsResult:
    """One events run after a rules run: the roster written, then every event derived in one transaction."""
    run = start_run(engine, STAGE, SOURCE, stale_after=stale_after)
    when = now or datetime.now(UTC)
    try:
        tickets = ticket_frame(FusedTables(engine, vault), when)
        with engine.begin() as conn:
            write_roster(conn, roster)
            derived = derive(conn, tickets, roster, run.id, when)
            total = conn.execute(sa.select(sa.func.count()).select_from(tables.event)).scalar_one()
            finish_counted(conn, run.id, status="succeeded", records=int(total),
                           changed=derived.new + derived.tickets + derived.reopened + derived.closed + derived.assigned)
    except Exception as exc:
        with engine.begin() as conn:
            finish_counted(conn, run.id, status="failed", error=failure_text(exc))
        raise
    return EventsResult(run.id, derived)


def list_events(engine: Engine, *, grid: str | None = None, worker_id: str | None = None,
                states: tuple[str, ...] | None = OPEN_STATES) -> pd.DataFrame:
    """Events (open ones by default), soonest due first; ids, places and codes only."""
    e = tables.event.c
    where: sa.ColumnElement[bool] = sa.true()
    if states is not None:
        where &= e.state.in_(states)
    if grid is not None:
        where &= e.grid == grid
    if worker_id is not None:
        where &= e.worker_id == worker_id
    with engine.connect() as conn:
        return read_events(conn, where)


__all__ = ["DONE_STATES", "METRIC_COLUMNS", "MOVES", "OPEN_STATES", "WORKER_MOVES", "Derived", "EventError",
           "EventsResult", "Moved", "Roster", "event_metrics", "list_events", "load_roster", "move", "move_event",
           "run_events", "steps_of"]
