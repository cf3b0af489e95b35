"""An entity and everything its view or profile shows, read in ONE query.

A profile used to cost seven round trips to the store (entity, values, relations out and in, the related
entities' values, places, and the version before them); under load each round trip waits for the server,
and their sum, not the work, set the profile's latency. This module asks for all of it at once: a UNION ALL
of the parts, each row tagged with the part it belongs to, every part filtered by the same visibility,
type and scope conditions as the separate queries were (the related ends' type and scope in the SQL, the
relation's sensitivity and each value's disclosure afterwards in `show`). A merged subject's survivor comes
with it, its type and scope checked in the SQL too.

The query also reads the latest published version, in the same statement and so the same snapshot as the
rows: a reader whose version was taken from an earlier request (`Reader.tentative`, the API's admission
cache) learns here whether it is still the latest, and `StaleVersion` makes the caller read again at the
latest one, so a request still sees exactly the version that was published when its rows were read (G13).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from hub.access.policy import Policy
from hub.errors import HubError
from hub.store import tables
from hub.store.steps import Query, Steps, run_steps
from hub.views.reader import Reader

_V: sa.BindParameter[int] = sa.bindparam("version")
_ID: sa.BindParameter[str] = sa.bindparam("id")
TYPES: sa.BindParameter[list[str]] = sa.bindparam("types", expanding=True)
_SCOPE: sa.BindParameter[list[str]] = sa.bindparam("scope", expanding=True)
_E, _VAL, _R, _S = tables.pub_entity, tables.pub_value, tables.pub_relation, tables.pub_scope
_D = tables.pub_situation
_SURVIVOR = tables.pub_entity.alias("survivor")

SUMMARY: dict[str, tuple[str, ...]] = {
    "person": ("name", "resident_id", "gender", "birth_date", "phone"),
    "house": ("address", "usage", "floor_area"),
    "organization": ("name", "credit_code", "org_type", "address"),
    "thing": ("thing_type", "plate_no", "brand", "color", "name", "parking_space_no"),
    "situation": ("situation_type", "status", "start_date", "end_date"),
    "event": ("event_type", "occurred_at", "status", "closed_at"),
}
"""The values shown for an entity in a profile's lists and in search results."""
SUMMARY_ATTRIBUTES = tuple(sorted({a for names in SUMMARY.values() for a in names}))
_NAME = re.compile(r"^[a-z_]+$")

COLUMNS: dict[str, sa.types.TypeEngine[Any]] = {
    "part": sa.String(), "entity_id": sa.String(), "entity_type": sa.String(), "name": sa.String(),
    "label": sa.Text(), "value": sa.Text(), "value_enc": sa.LargeBinary(), "source": sa.String(),
    "sources": sa.Integer(), "state": sa.String(), "merged_into": sa.String(), "records": sa.Integer(),
    "at": sa.DateTime(timezone=True), "valid_to": sa.DateTime(timezone=True),
}
"""The union's columns. `name`: a value's attribute, a relation's predicate, a place's id; `label`: an
entity's label, a place's name; `state`: a relation's direction; `at`: updated_at or valid_from."""


def visible_at(table: sa.FromClause) -> sa.ColumnElement[bool]:
    return sa.and_(table.c.since <= _V, sa.or_(table.c.until.is_(None), table.c.until > _V))


def scoped_by(entity_id: sa.ColumnElement[Any], scoped: bool) -> sa.ColumnElement[bool]:
    if not scoped:
        return sa.true()
    return sa.exists(sa.select(1).select_from(_S).where(_S.c.entity_id == entity_id, _S.c.place_id.in_(_SCOPE),
                                                         visible_at(_S)))


def _part(part_name: str, /, **given: sa.ColumnElement[Any]) -> list[sa.ColumnElement[Any]]:
    """The union's columns in order: those given, typed NULLs for the rest (PostgreSQL needs the types)."""
    return [sa.literal(part_name, sa.String()).label("part") if column == "part"
            else (given[column] if column in given else sa.cast(sa.null(), kind)).label(column)
            for column, kind in COLUMNS.items()]


def constants(names: Sequence[str]) -> list[sa.ColumnElement[Any]]:
    """Names of the hub's own vocabulary (entity types, attributes) written into the SQL, not bound: an IN
    list of bound values is rendered again at every execution, which cost more than running the query."""
    assert all(_NAME.match(name) for name in names), names
    return [sa.literal_column(f"'{name}'") for name in names]


def _statement(scoped: bool, with_related: bool, types: tuple[str, ...]) -> sa.CompoundSelect[Any]:
    allowed = constants(types)
    subject = sa.select(*_part("subject", entity_id=_E.c.entity_id, entity_type=_E.c.entity_type, label=_E.c.label,
                               state=_E.c.state, merged_into=_E.c.merged_into, records=_E.c.records,
                               at=_E.c.updated_at)).where(
        _E.c.entity_id == _ID, visible_at(_E), _E.c.entity_type.in_(allowed),
        sa.or_(_E.c.state == "merged", scoped_by(_E.c.entity_id, scoped)))
    merged_into = sa.select(_E.c.merged_into).where(_E.c.entity_id == _ID, visible_at(_E), _E.c.state == "merged")
    survivor = sa.select(*_part("survivor", entity_id=_SURVIVOR.c.entity_id, entity_type=_SURVIVOR.c.entity_type,
                                label=_SURVIVOR.c.label, state=_SURVIVOR.c.state, records=_SURVIVOR.c.records,
                                at=_SURVIVOR.c.updated_at)).where(
        _SURVIVOR.c.entity_id == merged_into.scalar_subquery(), _SURVIVOR.c.state == "active", visible_at(_SURVIVOR),
        _SURVIVOR.c.entity_type.in_(allowed), scoped_by(_SURVIVOR.c.entity_id, scoped))
    values = sa.select(*_part("value", entity_id=_VAL.c.entity_id, entity_type=_VAL.c.entity_type,
                              name=_VAL.c.attribute, value=_VAL.c.value, value_enc=_VAL.c.value_enc,
                              source=_VAL.c.source, sources=_VAL.c.sources)).where(
        _VAL.c.entity_id == _ID, visible_at(_VAL))
    parts: list[sa.Select[Any]] = [subject, survivor, values]
    if with_related:
        ends = []
        for direction, end, other in (("out", _R.c.subject_id, _R.c.object_id),
                                      ("in", _R.c.object_id, _R.c.subject_id)):
            ends.append(sa.select(*_part("related", entity_id=_E.c.entity_id, entity_type=_E.c.entity_type,
                                         name=_R.c.predicate, label=_E.c.label,
                                         state=sa.literal(direction, sa.String()), at=_R.c.valid_from,
                                         valid_to=_R.c.valid_to))
                        .join(_E, _E.c.entity_id == other)
                        .where(end == _ID, visible_at(_R), visible_at(_E), _E.c.state == "active",
                               _E.c.entity_type.in_(allowed), scoped_by(_E.c.entity_id, scoped)))
        related = sa.union_all(*ends).cte("related_end")
        related_values = sa.select(*_part("related_value", entity_id=_VAL.c.entity_id,
                                          entity_type=_VAL.c.entity_type, name=_VAL.c.attribute,
                                          value=_VAL.c.value, value_enc=_VAL.c.value_enc, source=_VAL.c.source,
                                          sources=_VAL.c.sources)).where(
            _VAL.c.entity_id.in_(sa.select(related.c.entity_id)), _VAL.c.attribute.in_(constants(SUMMARY_ATTRIBUTES)),
            visible_at(_VAL))
        places = sa.select(*_part("place", entity_id=_S.c.entity_id, name=_S.c.place_id, label=_S.c.name,
                                  entity_type=_S.c.place_type)).where(_S.c.entity_id == _ID, visible_at(_S))
        # The situations rules derived for the entity that held when the version was published (hub.rules.
        # situations, published by hub.publish), in this query rather than a second round trip.
        derived = sa.select(*_part("derived", entity_id=_D.c.entity_id, name=_D.c.situation_type,
                                   label=_D.c.rule_id, value=_D.c.sources, at=_D.c.started_at)).where(
            _D.c.entity_id == _ID, visible_at(_D))
        parts += [sa.select(*[related.c[c] for c in COLUMNS]), related_values, places, derived]
    p = tables.publication.c
    published = sa.select(*_part("published", records=sa.func.max(p.version))).where(p.state == "published")
    return sa.union_all(*parts, published)


class StaleVersion(HubError):
    """A tentative reader's version is no longer the latest published one: read again at `published`."""

    def __init__(self, published: int | None):
        self.published = published
        super().__init__(f"version {published} has been published since")


@functools.lru_cache(maxsize=256)
def statement(scoped: bool, with_related: bool, types: tuple[str, ...]) -> sa.CompoundSelect[Any]:
    """The gathering statement for a kind of policy (scoped or not, its entity types), built once."""
    return _statement(scoped, with_related, types)


@dataclass
class Gathered:
    """The rows of one entity's view, by part; `subject` None: no such entity the policy may see."""

    subject: Any = None
    survivor: Any = None
    """A merged subject: the entity it was merged into, if the policy may see it (type and scope)."""
    values: list[Any] = field(default_factory=list)
    related: list[Any] = field(default_factory=list)
    related_values: list[Any] = field(default_factory=list)
    places: list[Any] = field(default_factory=list)
    derived: list[Any] = field(default_factory=list)
    """Rule-derived situations that hold at the reader's version (`name` the situation type, `label` the rule,
    `value` the sources as JSON, `at` the period's start), gathered with related ends only."""
    published: int | None = None
    """The latest published version, read in the same statement as the rows."""


def gather(reader: Reader, policy: Policy, entity_id: str, *, with_related: bool) -> Gathered:
    """The entity's row, its values, and with `with_related` its related ends (both ways), their SUMMARY
    values, its places and its derived situations: one round trip."""
    return run_steps(reader.conn, gather_steps(reader, policy, entity_id, with_related=with_related))


def gather_steps(reader: Reader, policy: Policy, entity_id: str, *, with_related: bool) -> Steps[Gathered]:
    """`gather` as steps (hub.store.steps): its one query. StaleVersion: the reader is tentative and its
    version is not the latest published one."""
    params: dict[str, Any] = {"version": reader.version, "id": entity_id}
    if policy.scope is not None:
        params["scope"] = sorted(policy.scope)
    out = Gathered()
    parts = {"value": out.values, "related": out.related, "related_value": out.related_values, "place": out.places,
             "derived": out.derived}
    query = statement(policy.scope is not None, with_related, tuple(sorted(policy.entity_types)))
    for row in (yield Query(query, params)):
        if row.part == "subject":
            out.subject = row
        elif row.part == "survivor":
            out.survivor = row
        elif row.part == "published":
            out.published = None if row.records is None else int(row.records)
        else:
            parts[row.part].append(row)
    if reader.tentative and out.published != reader.version:
        raise StaleVersion(out.published)
    return out
