"""Handling figures per grid and community: open, overdue, on-time rate, median handling time, and a grid's
load (residents, open events per worker), which the street office reads to redraw grids.

Handled = resolved or closed with a resolution time (a suppressed event is not handled: it was dismissed).
Read from the event table and the roster at once and grouped in frames; the residents of a grid are the
persons whose current residence is a house of its buildings.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

from hub.events.derive import OPEN_STATES
from hub.events.roster import ANY_BUILDING
from hub.store import tables
from hub.store.frames import frame_of

METRIC_COLUMNS = ["community", "grid", "events", "open", "overdue", "handled", "on_time_rate", "median_hours",
                  "residents", "workers", "open_per_worker"]


def _residents(engine: Engine) -> pd.Series:
    """Persons living (current resides_at) in the houses of each grid."""
    g, r, a = tables.golden_value.c, tables.relation.c, tables.grid_area.c
    with engine.connect() as conn:
        houses = frame_of(conn.execute(sa.select(g.entity_id, g.attribute, g.value).where(
            (g.entity_type == "house") & g.attribute.in_(("estate", "building")))), ["house", "attribute", "value"])
        lives = frame_of(conn.execute(sa.select(r.subject_id, r.object_id).where(
            (r.predicate == "resides_at") & r.valid_to.is_(None))), ["person", "house"])
        areas = frame_of(conn.execute(sa.select(a.estate, a.building, a.grid)), ["estate", "building", "grid"])
    if houses.empty or areas.empty:
        return pd.Series(dtype="int64")
    wide = houses.pivot_table(index="house", columns="attribute", values="value", aggfunc="first")
    wide = wide.reindex(columns=["estate", "building"]).reset_index()
    exact = wide.merge(areas, on=["estate", "building"], how="left")
    whole = wide.merge(areas[areas["building"] == ANY_BUILDING].drop(columns="building"), on="estate", how="left")
    grid_of = exact.set_index("house")["grid"].fillna(whole.set_index("house")["grid"])
    lives["grid"] = lives["house"].map(grid_of)
    return lives.dropna(subset=["grid"]).drop_duplicates("person").groupby("grid")["person"].nunique()


def event_metrics(engine: Engine, now: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per grid, per community) frames of METRIC_COLUMNS; events nobody could locate under grid `—`."""
    e, w = tables.event.c, tables.grid_worker.c
    with engine.connect() as conn:
        ev = frame_of(conn.execute(sa.select(e.community, e.grid, e.state, e.discovered_at, e.due_at, e.resolved_at)),
                      ["community", "grid", "state", "discovered_at", "due_at", "resolved_at"])
        workers = frame_of(conn.execute(sa.select(w.grid, w.worker_id)), ["grid", "worker_id"])
        areas = frame_of(conn.execute(sa.select(tables.grid_area.c.grid, tables.grid_area.c.community).distinct()),
                         ["grid", "community"])
    ev[["community", "grid"]] = ev[["community", "grid"]].fillna("—")
    for column in ("discovered_at", "due_at", "resolved_at"):
        ev[column] = pd.to_datetime(ev[column], utc=True)
    stamp = pd.Timestamp(now)
    ev["open"] = ev["state"].isin(OPEN_STATES) & (ev["state"] != "resolved")
    ev["overdue"] = ev["open"] & (ev["due_at"] < stamp)
    ev["handled"] = ev["resolved_at"].notna() & (ev["state"] != "suppressed")
    ev["on_time"] = ev["handled"] & (ev["resolved_at"] <= ev["due_at"])
    ev["hours"] = ((ev["resolved_at"] - ev["discovered_at"]).dt.total_seconds() / 3600).where(ev["handled"])
    grids = pd.concat([areas, ev[["grid", "community"]]]).drop_duplicates("grid")
    per_grid = _aggregate(ev, ["community", "grid"], grids.set_index("grid")["community"])
    residents = _residents(engine)
    staff = workers.groupby("grid")["worker_id"].nunique()
    per_grid["residents"] = per_grid["grid"].map(residents).fillna(0).astype(int)
    per_grid["workers"] = per_grid["grid"].map(staff).fillna(0).astype(int)
    per_grid["open_per_worker"] = (per_grid["open"] / per_grid["workers"].where(per_grid["workers"] > 0)).round(1)
    per_community = _aggregate(ev, ["community"], None)
    sums = per_grid.groupby("community")[["residents", "workers"]].sum()
    per_community["grid"] = ""
    per_community["residents"] = per_community["community"].map(sums["residents"]).fillna(0).astype(int)
    per_community["workers"] = per_community["community"].map(sums["workers"]).fillna(0).astype(int)
    per_community["open_per_worker"] = (per_community["open"]
                                        / per_community["workers"].where(per_community["workers"] > 0)).round(1)
    return per_grid[METRIC_COLUMNS], per_community[METRIC_COLUMNS]


def _aggregate(ev: pd.DataFrame, keys: list[str], communities: pd.Series | None) -> pd.DataFrame:
    grouped = ev.groupby(keys)
    out = pd.DataFrame({
        "events": grouped.size(), "open": grouped["open"].sum(), "overdue": grouped["overdue"].sum(),
        "handled": grouped["handled"].sum(), "on_time": grouped["on_time"].sum(),
        "median_hours": grouped["hours"].median().round(1),
    }).reset_index() if len(ev) else pd.DataFrame(columns=[*keys, "events", "open", "overdue", "handled", "on_time",
                                                          "median_hours"])
    if communities is not None:   # every grid of the roster, with or without events
        known = pd.DataFrame({"grid": communities.index, "community": communities.to_numpy()})
        out = known.merge(out.drop(columns="community"), on="grid", how="left")
    for column in ("events", "open", "overdue", "handled", "on_time"):
        out[column] = out[column].fillna(0).astype(int)
    out["on_time_rate"] = (out["on_time"] / out["handled"].where(out["handled"] > 0)).round(3)
    return out.sort_values(keys).reset_index(drop=True)


__all__ = ["METRIC_COLUMNS", "event_metrics"]
