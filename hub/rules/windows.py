"""Clauses over paths, time windows, ages and ratios: what the house- and access-side rules need.

- `count`: follow a path of relations from the entity (person → house → its residents; house → residents → the
  door events concerning them), keep the entities at the end that pass `where` and, with `within`, whose moment
  lies in the window before the run's reference time; the number of distinct ones must be `at_least` and/or
  `at_most` a bound. `at_most: 0` is an absence ("no door event in 48 hours").
- `age`: completed years between a date attribute and the reference time, `at_least` and/or `below` a bound.
- `ratio`: a numeric attribute of the entity divided by a count over a path (floor area per resident), `below`
  and/or `at_least` a bound; entities with nothing to divide by do not pass.

Each is a join or group-by over whole columns of the fused tables (hub.rules.engine.FusedTables): no loop per
entity. The reference time is the rule run's (`hub rules run --at`), so a run over an old snapshot judges it as of
its own day, and the same data judged twice at one time gives the same findings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hub.mapping.nearest import suggest
from schemas.registry import attributes, entity_types
from schemas.relations import RelationPredicate, predicate_allows

if TYPE_CHECKING:   # hub.rules.model imports this module; it resolves ValueTest here (Hop.model_rebuild)
    from hub.rules.engine import FusedTables
    from hub.rules.model import ValueTest

EVIDENCE = ["entity_id", "clause", "statement_id", "other_id"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, hide_input_in_errors=True)


class Hop(_Strict):
    """One step of a path: relations of one of `predicate` to entities of `entity_type` passing `where`."""

    predicate: list[str] = Field(min_length=1)
    direction: Literal["out", "in"] = "out"
    entity_type: str
    where: dict[str, ValueTest] = Field(default_factory=dict)
    """Tests on golden values of the entities reached, all of which must pass."""

    @field_validator("predicate", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class Window(_Strict):
    """The moments (a datetime attribute of the entities at the path's end) in the `days`/`hours` before the
    reference time, the reference time included."""

    attribute: str
    days: float | None = Field(default=None, gt=0)
    hours: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_length(self) -> Window:
        if (self.days is None) == (self.hours is None):
            raise ValueError("give the window's length as exactly one of: days, hours")
        return self

    def length(self) -> timedelta:
        return timedelta(days=self.days) if self.days is not None else timedelta(hours=self.hours or 0)


def _bounded(low: float | None, high: float | None, names: str) -> None:
    if low is None and high is None:
        raise ValueError(f"give at least one bound: {names}")


class CountClause(_Strict):
    path: list[Hop] = Field(min_length=1)
    within: Window | None = None
    at_least: int | None = Field(default=None, ge=0)
    at_most: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> CountClause:
        _bounded(self.at_least, self.at_most, "at_least, at_most")
        return self


class AgeClause(_Strict):
    attribute: str = "birth_date"
    at_least: int | None = Field(default=None, ge=0)
    below: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _bounds(self) -> AgeClause:
        _bounded(self.at_least, self.below, "at_least, below")
        return self


class PathCount(_Strict):
    path: list[Hop] = Field(min_length=1)


class RatioClause(_Strict):
    attribute: str
    """A numeric attribute of the entity (the numerator)."""
    per: PathCount
    """The denominator: the distinct entities at the end of the path."""
    below: float | None = None
    at_least: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> RatioClause:
        _bounded(self.at_least, self.below, "at_least, below")
        return self


def _no_evidence() -> pd.DataFrame:
    return pd.DataFrame(columns=EVIDENCE)


def _local(at: datetime) -> pd.Timestamp:
    """The reference time as the hub's moments are written: China time, without an offset."""
    stamp = pd.Timestamp(at)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("Asia/Shanghai").tz_localize(None)
    return stamp


class PathRunner:
    """Evaluates the clauses above against the fused tables at one reference time."""

    def __init__(self, fused: FusedTables, at: datetime):
        self.fused, self.at = fused, _local(at)

    def walk(self, entity_type: str, path: list[Hop], ids: pd.Series) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
        """(entity_id, node) pairs reached from `ids` along `path`, and per hop the relation statements used."""
        from hub.rules.engine import _filter_by_value

        reached = pd.DataFrame({"entity_id": ids.to_numpy(dtype=object), "node": ids.to_numpy(dtype=object)})
        here, cited = entity_type, []
        for hop in path:
            subject, obj = (here, hop.entity_type) if hop.direction == "out" else (hop.entity_type, here)
            frames = [self.fused.relations(p, subject, obj) for p in hop.predicate]
            rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
            rows = rows[rows["current"]]
            near, far = ("subject_id", "object_id") if hop.direction == "out" else ("object_id", "subject_id")
            rows = rows[[near, far, "statement_ids"]].rename(columns={near: "node", far: "next"})
            for attribute, test in hop.where.items():
                golden = self.fused.golden(hop.entity_type, attribute)
                golden = golden[golden["entity_id"].isin(rows["next"])]
                keep, _ = _filter_by_value(rows["next"], golden, test)
                rows = rows[keep]
            step = reached.merge(rows, on="node")
            cited.append(step[["entity_id", "next", "statement_ids"]])
            reached = step[["entity_id", "next"]].rename(columns={"next": "node"}).drop_duplicates()
            here = hop.entity_type
        return reached, cited

    def count(self, entity_type: str, clause: CountClause, ids: pd.Series) -> tuple[pd.Index, pd.DataFrame]:
        reached, cited = self.walk(entity_type, clause.path, ids)
        moments = pd.DataFrame(columns=["entity_id", "statement_id"])
        latest = pd.DataFrame(columns=["entity_id", "node", "statement_id"])
        if clause.within is not None:
            end_type = clause.path[-1].entity_type
            golden = self.fused.golden(end_type, clause.within.attribute)
            golden = golden[golden["entity_id"].isin(reached["node"])]
            when = pd.to_datetime(golden["value"].astype(str), errors="coerce", format="ISO8601")
            golden = golden.assign(when=when.to_numpy())
            before = golden[golden["when"] <= self.at]
            inside = before[before["when"] >= self.at - clause.within.length()]
            timed = reached.merge(before[["entity_id", "when", "statement_id"]].rename(columns={"entity_id": "node"}),
                                  on="node")
            reached = reached[reached["node"].isin(inside["entity_id"])]
            latest = (timed[(timed["when"] < self.at - clause.within.length())
                            & ~timed["entity_id"].isin(reached["entity_id"])]
                      .sort_values("when").drop_duplicates("entity_id", keep="last"))
            moments = reached.merge(inside[["entity_id", "statement_id"]].rename(columns={"entity_id": "node"}),
                                    on="node")
        counts = reached.groupby("entity_id")["node"].nunique().reindex(ids.to_numpy(), fill_value=0)
        keep = np.ones(len(counts), dtype=bool)
        if clause.at_least is not None:
            keep &= counts.to_numpy() >= clause.at_least
        if clause.at_most is not None:
            keep &= counts.to_numpy() <= clause.at_most
        passing = pd.Index(counts.index[keep], dtype=object)
        found = [self._relations_cited(cited[:-1] if clause.within is not None else cited, passing)]
        if clause.within is not None:   # the moments counted, or the last one before the window (an absence)
            found.append(moments[moments["entity_id"].isin(passing)].rename(columns={"node": "other_id"})
                         .assign(clause=None))
            found.append(latest[latest["entity_id"].isin(passing)].rename(columns={"node": "other_id"})
                         .assign(clause=None))
        ev = pd.concat([f.reindex(columns=EVIDENCE) for f in found], ignore_index=True)
        return passing, ev

    def age(self, entity_type: str, clause: AgeClause, ids: pd.Series) -> tuple[pd.Index, pd.DataFrame]:
        golden = self.fused.golden(entity_type, clause.attribute)
        golden = golden[golden["entity_id"].isin(ids)]
        born = pd.to_datetime(golden["value"].astype(str), errors="coerce", format="ISO8601")
        t = self.at
        before = (born.dt.month > t.month) | ((born.dt.month == t.month) & (born.dt.day > t.day))
        years = t.year - born.dt.year - before.astype(int)
        keep = born.notna().to_numpy().copy()
        if clause.at_least is not None:
            keep &= (years >= clause.at_least).to_numpy()
        if clause.below is not None:
            keep &= (years < clause.below).to_numpy()
        hit = golden[keep]
        ev = pd.DataFrame({"entity_id": hit["entity_id"], "clause": None, "statement_id": hit["statement_id"],
                           "other_id": None})
        return pd.Index(ids[ids.isin(hit["entity_id"])], dtype=object), ev[EVIDENCE]

    def ratio(self, entity_type: str, clause: RatioClause, ids: pd.Series) -> tuple[pd.Index, pd.DataFrame]:
        golden = self.fused.golden(entity_type, clause.attribute)
        golden = golden[golden["entity_id"].isin(ids)]
        value = pd.to_numeric(golden["value"].astype(str), errors="coerce")
        reached, cited = self.walk(entity_type, clause.per.path, ids)
        counts = reached.groupby("entity_id")["node"].nunique()
        per = golden.assign(n=golden["entity_id"].map(counts).fillna(0).to_numpy(), v=value.to_numpy())
        per = per[(per["n"] > 0) & per["v"].notna()]
        share = per["v"] / per["n"]
        keep = np.ones(len(per), dtype=bool)
        if clause.below is not None:
            keep &= (share < clause.below).to_numpy()
        if clause.at_least is not None:
            keep &= (share >= clause.at_least).to_numpy()
        hit = per[keep]
        passing = pd.Index(ids[ids.isin(hit["entity_id"])], dtype=object)
        ev = pd.concat([pd.DataFrame({"entity_id": hit["entity_id"], "clause": None,
                                      "statement_id": hit["statement_id"], "other_id": None}),
                        self._relations_cited(cited, passing)], ignore_index=True)
        return passing, ev[EVIDENCE]

    @staticmethod
    def _relations_cited(cited: list[pd.DataFrame], passing: pd.Index) -> pd.DataFrame:
        if not cited:
            return _no_evidence()
        rows = pd.concat(cited, ignore_index=True)
        rows = rows[rows["entity_id"].isin(passing)]
        behind = rows.assign(statement_id=[json.loads(t) for t in rows["statement_ids"]]).explode("statement_id")
        return pd.DataFrame({"entity_id": behind["entity_id"], "clause": None,
                             "statement_id": behind["statement_id"], "other_id": behind["next"]})[EVIDENCE]


Problem = Callable[[Sequence[str | int], str], None]


def check_names(entity_type: str, clause: CountClause | AgeClause | RatioClause, loc: list[str | int],
                problem: Problem) -> None:
    """Report (through `problem(loc, message)`) every name the clause uses that schemas/ does not define, and an
    attribute of the wrong kind (a window over a non-moment, an age of a non-date, a ratio of a non-number)."""
    if isinstance(clause, AgeClause):
        _check_kind(entity_type, clause.attribute, ("date", "datetime"), [*loc, "attribute"], problem)
        return
    if isinstance(clause, RatioClause):
        _check_kind(entity_type, clause.attribute, ("Decimal", "int", "float"), [*loc, "attribute"], problem)
        _check_path(entity_type, clause.per.path, [*loc, "per", "path"], problem)
        return
    end = _check_path(entity_type, clause.path, [*loc, "path"], problem)
    if clause.within is not None and end is not None:
        _check_kind(end, clause.within.attribute, ("date", "datetime"), [*loc, "within", "attribute"], problem)


def _check_kind(entity_type: str, name: str, kinds: tuple[str, ...], loc: list[str | int], problem: Problem) -> None:
    known = attributes(entity_type)
    if name not in known:
        problem(loc, f"{entity_type} has no attribute {name!r}" + suggest(name, known))
    elif known[name].type_name not in kinds:
        problem(loc, f"{entity_type}.{name} is a {known[name].type_name}, not a {' or '.join(kinds)}")


def _check_path(entity_type: str, path: list[Hop], loc: list[str | int], problem: Problem) -> str | None:
    """The entity type at the path's end, or None when a step names something unknown."""
    predicates = [p.value for p in RelationPredicate]
    here = entity_type
    for i, hop in enumerate(path):
        at: list[str | int] = [*loc, i]
        if hop.entity_type not in entity_types():
            problem([*at, "entity_type"], f"unknown entity type {hop.entity_type!r}"
                    + suggest(hop.entity_type, entity_types()))
            return None
        subject, obj = (here, hop.entity_type) if hop.direction == "out" else (hop.entity_type, here)
        for predicate in hop.predicate:
            if predicate not in predicates:
                problem([*at, "predicate"], f"unknown predicate {predicate!r}" + suggest(predicate, predicates))
                return None
            if not predicate_allows(RelationPredicate(predicate), subject, obj):
                problem([*at, "predicate"], f"no relation {subject} –{predicate}→ {obj} exists (check `direction`: "
                        "out when the entity so far is the subject, in when it is the object)")
        for name in hop.where:
            known = attributes(hop.entity_type)
            if name not in known:
                problem([*at, "where", name], f"{hop.entity_type} has no attribute {name!r}" + suggest(name, known))
        here = hop.entity_type
    return here
