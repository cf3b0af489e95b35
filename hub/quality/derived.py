"""The auditors' report's section on what the rules found and what became of it: findings per rule and
community (open, new at the last run, cleared), open findings per rules run as a trend, and the events'
handling figures per community and grid (hub.events.metrics). Ids and counts only, never a value.

A finding's community is its event's (events are located by the grid roster); one no event located is `—`.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

from hub.events import event_metrics
from hub.store import tables
from hub.store.frames import frame_of

TREND_RUNS = 30


def _findings(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    f, e, r = tables.finding.c, tables.event.c, tables.run.c
    with engine.connect() as conn:
        found = frame_of(conn.execute(sa.select(f.rule_id, f.severity, f.first_run, f.cleared_run, f.cleared_at,
                                                e.community).outerjoin(tables.event, e.id == f.id)),
                         ["rule", "severity", "first_run", "cleared_run", "cleared_at", "community"])
        runs = frame_of(conn.execute(sa.select(r.id, r.finished_at).where(
            (r.stage == "rules") & (r.status == "succeeded")).order_by(r.started_at, r.id)), ["run", "at"])
    return found, runs.tail(TREND_RUNS)


def finding_rows(engine: Engine) -> pd.DataFrame:
    """Per rule and community: open findings, those the last rules run found first, those cleared so far."""
    found, runs = _findings(engine)
    if found.empty:
        return pd.DataFrame(columns=["rule", "severity", "community", "open", "new at the last run", "cleared"])
    found["community"] = found["community"].fillna("—")
    last = runs["run"].iloc[-1] if len(runs) else None
    found["open"] = found["cleared_at"].isna()
    found["new"] = found["open"] & (found["first_run"] == last)
    found["cleared"] = found["cleared_at"].notna()
    grouped = found.groupby(["rule", "severity", "community"])
    out = pd.DataFrame({"open": grouped["open"].sum(), "new at the last run": grouped["new"].sum(),
                        "cleared": grouped["cleared"].sum()}).reset_index()
    return out.sort_values(["rule", "community"]).reset_index(drop=True)


def finding_trend(engine: Engine) -> dict[str, list[tuple[str, float]]]:
    """Per rule, the findings open after each of the last rules runs, oldest first: found first by that run or an
    earlier one, and not cleared by then (runs compared by their order, not by the times findings carry)."""
    found, runs = _findings(engine)
    out: dict[str, list[tuple[str, float]]] = {}
    if found.empty or runs.empty:
        return out
    order = {run: i for i, run in enumerate(runs["run"])}
    first = found["first_run"].map(order).fillna(-1).to_numpy()          # before the window: open from its start
    cleared = found["cleared_run"].map(order).to_numpy()                 # NaN: open, or cleared before the window
    cleared_before = found["cleared_run"].notna().to_numpy() & (found["cleared_run"].map(order).isna().to_numpy())
    for i, at in enumerate(runs["at"]):
        open_then = (first <= i) & ~cleared_before & ~(cleared <= i)
        counts = found[open_then].groupby("rule").size()
        label = f"{pd.Timestamp(at):%m-%d %H:%M}" if at is not None else "?"
        for rule in sorted(set(found["rule"])):
            out.setdefault(str(rule), []).append((label, float(counts.get(rule, 0))))
    return out


def event_rows(engine: Engine, moment: datetime) -> pd.DataFrame:
    """The handling figures per community, then per grid."""
    per_grid, per_community = event_metrics(engine, moment)
    both = pd.concat([per_community, per_grid], ignore_index=True)
    return both.rename(columns={"open_per_worker": "open per worker", "on_time_rate": "on time",
                                "median_hours": "median hours"})


__all__ = ["event_rows", "finding_rows", "finding_trend"]
