"""One events run: findings and property tickets into events, located, assigned and checked, as set operations.

Each step is one INSERT … SELECT or UPDATE … WHERE over the whole event table (a finding's event has the
finding's id, so a finding found again updates its event and never makes a second one); the step rows each
transition writes are selected by the same condition, before the update that changes it. No loop per event.

The check: an event resolved (or closed) before a rules run that still finds its finding failed the check and
is reopened, to the grid's worker again, with a new due time; an event whose finding a later run no longer
finds is closed by that run, whatever state it was in. A suppressed event stays so, its finding found or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection

from hub.events.roster import ANY_BUILDING, Roster
from hub.rules.engine import FusedTables
from hub.store import tables
from hub.store.bulk import insert_rows
from hub.store.frames import frame_of

OPEN_STATES = ("discovered", "assigned", "in_progress", "resolved")
DONE_STATES = ("closed", "suppressed")
TICKET_TYPES = ("repair", "complaint")
TICKET_SEVERITY = "medium"
HOUSE_LINKS = ("resides_at", "registered_at", "rents", "owns")
"""Where a person's event is located, in this order: where they live, are registered, rent, own."""

E, F, S = tables.event.c, tables.finding.c, tables.event_step.c


@dataclass
class Derived:
    new: int = 0
    tickets: int = 0
    persisting: int = 0
    reopened: int = 0
    closed: int = 0
    assigned: int = 0
    unlocated: int = 0
    new_high: tuple[str, ...] = ()
    """Rule ids of the high-severity events this run discovered (the fusion DAG raises an alert for them)."""


def _due(severity: sa.ColumnElement[str], roster: Roster, now: datetime) -> sa.ColumnElement[datetime]:
    """The due time of an event of `severity` discovered (or reopened) `now`."""
    whens = [(severity == level, sa.literal(now + roster.due(level), tables.event.c.due_at.type))
             for level in ("high", "medium")]
    return sa.case(*whens, else_=sa.literal(now + roster.due("low"), tables.event.c.due_at.type))


def _steps(conn: Connection, where: sa.ColumnElement[bool], state: str | sa.ColumnElement[str], by: str,
           note: sa.ColumnElement[str] | str, now: datetime) -> None:
    """A step row for every event `where` holds: the state it enters, its feedback."""
    state_col = state if isinstance(state, sa.ColumnElement) else sa.literal(state, sa.String())
    note_col = note if isinstance(note, sa.ColumnElement) else sa.literal(note, sa.Text())
    select = sa.select(E.id, sa.literal(now, S.at.type), state_col, sa.literal(by, sa.String()), note_col).where(where)
    conn.execute(sa.insert(tables.event_step).from_select(["event_id", "at", "state", "by", "note"], select))


def _finding(column: sa.Column[object]) -> sa.ScalarSelect[object]:
    return sa.select(column).where(F.id == E.id).correlate(tables.event).scalar_subquery()


def _count(conn: Connection, where: sa.ColumnElement[bool]) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(tables.event).where(where)).scalar_one())


def from_findings(conn: Connection, roster: Roster, run_id: str, now: datetime, out: Derived) -> None:
    """New events for new open findings; persisting, reopened (a failed check) and closed (a passed one)."""
    by = f"run:{run_id}"
    fresh = (F.cleared_at.is_(None)) & ~sa.exists(sa.select(1).where(E.id == F.id))
    out.new_high = tuple(sorted(set(conn.execute(sa.select(F.rule_id).where(fresh & (F.severity == "high")))
                                    .scalars())))
    conn.execute(sa.insert(tables.event).from_select(
        ["id", "origin", "kind", "severity", "entity_type", "entity_id", "state", "discovered_at", "due_at",
         "reopened", "first_run", "last_run", "updated_at"],
        sa.select(F.id, sa.literal("finding"), F.rule_id, F.severity, F.entity_type, F.entity_id,
                  sa.literal("discovered"), sa.literal(now, E.discovered_at.type), _due(F.severity, roster, now),
                  sa.literal(0), sa.literal(run_id), sa.literal(run_id), sa.literal(now, E.updated_at.type))
        .where(fresh)))
    born = (E.first_run == run_id) & (E.origin == "finding")
    out.new = _count(conn, born)
    _steps(conn, born, "discovered", by, sa.literal("found by rule ") + E.kind, now)

    is_finding = E.origin == "finding"
    open_finding = sa.exists(sa.select(1).where((F.id == E.id) & F.cleared_at.is_(None)))
    checked_after = sa.exists(sa.select(1).where(
        (F.id == E.id) & F.cleared_at.is_(None)
        & (F.last_found_at > sa.func.coalesce(E.closed_at, E.resolved_at))))
    failed = is_finding & E.state.in_(("resolved", "closed")) & checked_after
    out.reopened = _count(conn, failed)
    _steps(conn, failed, "discovered", by, "reopened: the check still finds it", now)
    conn.execute(tables.event.update().where(failed).values(
        state="discovered", worker_id=None, resolved_at=None, closed_at=None, reopened=E.reopened + 1,
        due_at=_due(E.severity, roster, now), updated_at=now))

    still = is_finding & E.state.in_(OPEN_STATES) & open_finding
    out.persisting = _count(conn, still & (E.first_run != run_id))
    conn.execute(tables.event.update().where(still).values(last_run=run_id, severity=_finding(F.severity)))

    gone = is_finding & E.state.in_(OPEN_STATES) & sa.exists(sa.select(1).where(
        (F.id == E.id) & F.cleared_at.is_not(None)))
    out.closed = _count(conn, gone)
    _steps(conn, gone, "closed", by, "closed: the check no longer finds it", now)
    conn.execute(tables.event.update().where(gone).values(
        state="closed", closed_at=now, resolved_at=sa.func.coalesce(E.resolved_at, now), updated_at=now))


def ticket_frame(fused: FusedTables, now: datetime) -> pd.DataFrame:
    """Property repairs and complaints (fused event entities): entity_id, kind, occurred_at, closed_at, done."""
    kinds = fused.golden("event", "event_type")
    kinds = kinds[kinds["value"].isin(TICKET_TYPES)]
    frame = kinds[["entity_id"]].assign(kind=kinds["value"].to_numpy())
    for attribute in ("occurred_at", "closed_at", "status"):
        values = fused.golden("event", attribute).drop_duplicates("entity_id").set_index("entity_id")["value"]
        frame[attribute] = frame["entity_id"].map(values)
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], errors="coerce", utc=True)
    frame["closed_at"] = pd.to_datetime(frame["closed_at"], errors="coerce", utc=True)
    frame["occurred_at"] = frame["occurred_at"].fillna(pd.Timestamp(now))
    frame["done"] = (frame["status"] == "closed") | frame["closed_at"].notna()
    frame["closed_at"] = frame["closed_at"].where(~frame["done"], frame["closed_at"].fillna(pd.Timestamp(now)))
    return frame.reset_index(drop=True)


def from_tickets(conn: Connection, frame: pd.DataFrame, roster: Roster, run_id: str, now: datetime,
                 out: Derived) -> None:
    """Tickets as events: new ones inserted, those the property system has closed since, closed. Their times are
    the source's, so a ticket closed before the hub saw it counts in the metrics with its own handling time."""
    if frame.empty:
        return
    known = set(conn.execute(sa.select(E.id).where(E.origin == "ticket")).scalars())
    new = frame[~frame["entity_id"].isin(known)]
    due = roster.due(TICKET_SEVERITY)
    by = f"run:{run_id}"

    def when(value: pd.Timestamp) -> datetime | None:
        return None if pd.isna(value) else value.to_pydatetime()

    rows = [(entity, "ticket", kind, TICKET_SEVERITY, "event", entity, "closed" if done else "discovered",
             occurred.to_pydatetime(), occurred.to_pydatetime() + due, when(closed), when(closed), 0, run_id, run_id,
             now)
            for entity, kind, occurred, closed, done in zip(new["entity_id"], new["kind"], new["occurred_at"],
                                                           new["closed_at"], new["done"], strict=True)]
    insert_rows(conn, tables.event, ["id", "origin", "kind", "severity", "entity_type", "entity_id", "state",
                                     "discovered_at", "due_at", "resolved_at", "closed_at", "reopened", "first_run",
                                     "last_run", "updated_at"], rows)
    out.tickets = len(rows)
    born = (E.first_run == run_id) & (E.origin == "ticket")
    _steps(conn, born, E.state, by, sa.literal("reported to the property system: ") + E.kind, now)
    closed = frame[frame["done"] & frame["entity_id"].isin(known)]
    if len(closed):
        ids = closed.set_index("entity_id")["closed_at"]
        open_ids = list(conn.execute(sa.select(E.id).where((E.origin == "ticket") & E.state.in_(OPEN_STATES)
                                                           & E.id.in_(list(ids.index)))).scalars())
        if open_ids:
            _steps(conn, E.id.in_(open_ids), "closed", by, "closed by the property system", now)
            conn.execute(tables.event.update().where(E.id == sa.bindparam("key")).values(
                state="closed", closed_at=sa.bindparam("at"), resolved_at=sa.func.coalesce(E.resolved_at,
                                                                                        sa.bindparam("at")),
                updated_at=now), [{"key": k, "at": when(ids[k])} for k in open_ids])
            out.closed += len(open_ids)


def _golden(entity: sa.ColumnElement[str], attribute: str) -> sa.ScalarSelect[str]:
    g = tables.golden_value.c
    return (sa.select(g.value).where((g.entity_id == entity) & (g.attribute == attribute))
            .correlate(tables.event).scalar_subquery())


def _linked_house(predicates: tuple[str, ...], subject_is_event: bool = False) -> list[sa.ScalarSelect[str]]:
    r = tables.relation.c
    return [sa.select(sa.func.min(r.object_id)).where(
        (r.subject_id == E.entity_id) & (r.predicate == p) & (r.object_type == "house") & r.valid_to.is_(None))
        .correlate(tables.event).scalar_subquery() for p in predicates]


def locate_and_assign(conn: Connection, roster: Roster, run_id: str, now: datetime, out: Derived) -> None:
    """Every open event at its house, building, grid and community (a redrawn grid moves it), then those without
    a worker of their grid assigned to the grid's first worker."""
    by = f"run:{run_id}"
    located: sa.ColumnElement[bool] = E.state.in_(OPEN_STATES) | (E.first_run == run_id)   # closed tickets too
    house = sa.case((E.entity_type == "house", E.entity_id),
                    (E.origin == "ticket", _linked_house(("located_at",))[0]),
                    else_=sa.func.coalesce(*_linked_house(HOUSE_LINKS)))
    conn.execute(tables.event.update().where(located).values(house_id=house))
    a = tables.grid_area.c
    estate, building = _golden(E.house_id, "estate"), _golden(E.house_id, "building")

    def area(column: sa.Column[str]) -> sa.ColumnElement[str]:
        exact = (sa.select(column).where((a.estate == estate) & (a.building == building))
                 .correlate(tables.event).scalar_subquery())
        whole = (sa.select(column).where((a.estate == estate) & (a.building == ANY_BUILDING))
                 .correlate(tables.event).scalar_subquery())
        return sa.func.coalesce(exact, whole)

    conn.execute(tables.event.update().where(located).values(
        building=estate + sa.literal(" ") + building, grid=sa.func.coalesce(area(a.grid), E.grid),
        community=sa.func.coalesce(area(a.community), E.community)))
    live = E.state.in_(OPEN_STATES)
    out.unlocated = _count(conn, live & E.grid.is_(None))
    w = tables.grid_worker.c
    serves = sa.exists(sa.select(1).where((w.worker_id == E.worker_id) & (w.grid == E.grid)))
    moved = live & E.worker_id.is_not(None) & ~serves
    _steps(conn, moved, "discovered", by, "the grid was redrawn: to be assigned again", now)
    conn.execute(tables.event.update().where(moved).values(state="discovered", worker_id=None, updated_at=now))
    first = (sa.select(w.worker_id).where(w.grid == E.grid).order_by(w.rank, w.worker_id).limit(1)
             .correlate(tables.event).scalar_subquery())
    waiting = (E.state == "discovered") & sa.exists(sa.select(1).where(w.grid == E.grid))
    out.assigned = _count(conn, waiting)
    _steps(conn, waiting, "assigned", by, sa.literal("assigned to the worker of ") + E.grid, now)
    conn.execute(tables.event.update().where(waiting).values(state="assigned", worker_id=first, assigned_at=now,
                                                             updated_at=now))


def derive(conn: Connection, tickets: pd.DataFrame, roster: Roster, run_id: str, now: datetime) -> Derived:
    """The whole run in the caller's transaction: findings, tickets (`ticket_frame`, read before the
    transaction), then location and assignment."""
    out = Derived()
    from_findings(conn, roster, run_id, now, out)
    from_tickets(conn, tickets, roster, run_id, now, out)
    locate_and_assign(conn, roster, run_id, now, out)
    return out


def read_events(conn: Connection, where: sa.ColumnElement[bool] | None = None) -> pd.DataFrame:
    columns = [c.name for c in tables.event.columns]
    query = sa.select(tables.event).order_by(E.due_at, E.id)
    if where is not None:
        query = query.where(where)
    return frame_of(conn.execute(query), columns)
