"""The grid-worker roster: which grid each building belongs to, which workers serve each grid, and how long
an event of each severity may take. An operator's file (HUB_GRIDS_FILE, default HUB_HOME/grids.yaml).

Why a hub config file and not a department source: the roster is who the hub dispatches events to, as the
consumers are who it answers; it names staff accounts and their apps, not residents, and nothing in it is
resolved, fused or published. The street office keeps it (it changes when a worker leaves or a grid is
redrawn, which `hub events load-grids` makes effective at once), and the demo writes the district's own.
Buildings are the unit of a grid (grids are drawn along buildings), named by estate and building number as the
houses' golden values name them; both are normalized here with the houses' own normalizers.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection

from hub.errors import ConfigurationError
from hub.normalize import get_normalizer
from hub.store import tables
from hub.store.bulk import insert_rows

ANY_BUILDING = "*"
DUE_HOURS = {"high": 24, "medium": 72, "low": 168}
"""Default handling time by severity: a day for a high one (a death still paid, a care alert), three days, a week."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class Worker(_Strict):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    consumer: str | None = Field(default=None, max_length=64)
    """The client id of the worker's app (`hub consumers add`): the API shows that app this worker's grids."""


class Grid(_Strict):
    name: str = Field(min_length=1, max_length=100)
    community: str = Field(min_length=1, max_length=100)
    buildings: dict[str, list[str | int]] = Field(min_length=1)
    """Estate → its building numbers in this grid (`"*"`: every building of the estate)."""
    workers: list[Worker] = Field(min_length=1)
    """The first is the grid's own worker, whom new events are assigned to."""


class Roster(_Strict):
    grids: list[Grid] = Field(default_factory=list)
    due_hours: dict[str, float] = Field(default_factory=lambda: {k: float(v) for k, v in DUE_HOURS.items()})

    def due(self, severity: str) -> timedelta:
        return timedelta(hours=self.due_hours.get(severity, DUE_HOURS.get(severity, DUE_HOURS["low"])))


def load_roster(path: Path | None) -> Roster:
    """The roster of `path`; an empty one (nothing is located or assigned) when there is no file."""
    if path is None or not path.exists():
        return Roster()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        roster = Roster.model_validate(data)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"{path}: {problems}") from None
    workers = [w.id for g in roster.grids for w in g.workers]
    twice = sorted({w for w in workers if workers.count(w) > 1})
    if twice:
        raise ConfigurationError(f"{path}: worker id(s) {', '.join(twice)} listed in more than one place")
    return roster


def _norm(normalizer: str, raw: str) -> str:
    value = get_normalizer(normalizer)(raw).value
    return value if value is not None else raw


def area_rows(roster: Roster) -> list[tuple[str, str, str, str]]:
    """(estate, building, grid, community), normalized as the houses' golden values; a building named by two
    grids is a mistake in the file."""
    rows: dict[tuple[str, str], tuple[str, str, str, str]] = {}
    for grid in roster.grids:
        for estate, buildings in grid.buildings.items():
            name = _norm("estate_name", estate)
            for raw in buildings:
                building = ANY_BUILDING if str(raw) == ANY_BUILDING else _norm("building_no", str(raw))
                if (name, building) in rows and rows[(name, building)][2] != grid.name:
                    raise ConfigurationError(f"building {estate} {raw} is in grid {rows[(name, building)][2]} and "
                                             f"in grid {grid.name}")
                rows[(name, building)] = (name, building, grid.name, grid.community)
    return sorted(rows.values())


def write_roster(conn: Connection, roster: Roster) -> None:
    """Make the store's roster tables the file's (a few thousand rows: replaced whole)."""
    conn.execute(sa.delete(tables.grid_area))
    conn.execute(sa.delete(tables.grid_worker))
    insert_rows(conn, tables.grid_area, ["estate", "building", "grid", "community"], area_rows(roster))
    insert_rows(conn, tables.grid_worker, ["worker_id", "name", "grid", "rank", "consumer_id"],
                [(w.id, w.name, g.name, rank, w.consumer) for g in roster.grids
                 for rank, w in enumerate(g.workers, start=1)])


__all__ = ["ANY_BUILDING", "DUE_HOURS", "Grid", "Roster", "Worker", "area_rows", "load_roster", "write_roster"]
