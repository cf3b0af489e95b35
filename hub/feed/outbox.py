"""The outbox: what publication writes, in the transaction that switches a version on, about every entity whose
served state changed.

The comparison is the published state itself, version `v` against the previous version `p`, as set operations in
SQL: a row of a pub_* table added at v with no equal row visible at p, or retired at v with no equal row visible
at v, marks its entity changed (equal: every content column, NULL-safe, so a full republication that rewrites
equal rows changes nothing). Each changed entity gets one event, classified from its pub_entity rows at p and v:

- created: not served at p, active at v (split: the resolution recorded it as split from another entity, which
  `other_id` names);
- updated: active at both (values, relations, scope, lineage, label or record count);
- merged: active (or merged elsewhere) at p, merged at v (`other_id` is the survivor);
- retired: served at p, not at v (its records left every source).

Events carry the places (communities, grids) their entity belonged to at p or at v (change_event_place): a
consumer scoped to a community learns that an entity it could see was merged away or left, and nothing of
entities it never could. Ids ascend with versions, so the feed's order is each entity's order of changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Table

from hub.publish.build import CLAIM_COLUMNS, ENTITY_COLUMNS, RELATION_COLUMNS, SCOPE_COLUMNS, VALUE_COLUMNS
from hub.store import tables

CREATED, UPDATED, MERGED, SPLIT, RETIRED = "created", "updated", "merged", "split", "retired"
CHANGES = (CREATED, UPDATED, MERGED, SPLIT, RETIRED)

_WATCHED: tuple[tuple[Table, str, str, str | None, tuple[str, ...]], ...] = (
    (tables.pub_entity, "entity_id", "entity", None, ENTITY_COLUMNS),
    (tables.pub_value, "entity_id", "values", "attribute", VALUE_COLUMNS),
    (tables.pub_relation, "subject_id", "relations", None, RELATION_COLUMNS),
    (tables.pub_relation, "object_id", "relations", None, RELATION_COLUMNS),
    (tables.pub_scope, "entity_id", "scope", None, SCOPE_COLUMNS),
    (tables.pub_claim, "entity_id", "lineage", "attribute", CLAIM_COLUMNS),
)
"""(table, the column naming the entity a row belongs to, the part of the entity it serves, the attribute column,
the content columns compared)."""


def _visible(table: sa.FromClause, version: int) -> sa.ColumnElement[bool]:
    return sa.and_(table.c.since <= version, sa.or_(table.c.until.is_(None), table.c.until > version))


def _unmatched(table: Table, key: str, columns: tuple[str, ...], at: int) -> sa.ColumnElement[bool]:
    """No row equal to the outer row (every content column, NULL-safe) is visible at version `at`."""
    other = table.alias("other")
    same = [other.c[key] == table.c[key]] + [other.c[c].is_not_distinct_from(table.c[c]) for c in columns
                                            if c != key]
    return ~sa.exists(sa.select(1).select_from(other).where(*same, _visible(other, at)))


def changed_rows(version: int, previous: int | None) -> sa.Subquery:
    """(entity_id, part, attribute) of every pub_* row whose content differs between `previous` and `version`."""
    parts: list[sa.Select[Any]] = []
    for table, key, part, attribute, columns in _WATCHED:
        attr = table.c[attribute] if attribute else sa.cast(sa.null(), sa.String())
        shape = (table.c[key].label("entity_id"), sa.literal(part, sa.String()).label("part"), attr.label("attribute"))
        if previous is None:
            parts.append(sa.select(*shape).where(table.c.since == version))
            continue
        parts.append(sa.select(*shape).where(table.c.since == version, _unmatched(table, key, columns, previous)))
        parts.append(sa.select(*shape).where(table.c.until == version, _unmatched(table, key, columns, version)))
    return sa.union_all(*parts).subquery("changed")


def _joined(conn: Connection, column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """The comma-joined values of a group, sorted on PostgreSQL: unsorted, their order followed the plan, and
    a first publication (whose indexes are built before its events: hub.publish) got another order than
    before. SQLite before 3.44 has no ORDER BY inside an aggregate; there the order stays the input's."""
    joined = sa.func.aggregate_strings(column, ",")
    return joined.aggregate_order_by(column) if conn.dialect.name == "postgresql" else joined


def record_changes(conn: Connection, version: int, previous: int | None, at: datetime) -> int:
    """Write the events of publication `version` (compared with `previous`) and their places, in the caller's
    transaction (publication's own); returns how many events."""
    changed = changed_rows(version, previous)
    entities = sa.select(changed.c.entity_id).distinct().subquery("entities")
    part_rows = sa.select(changed.c.entity_id, changed.c.part).distinct().subquery("part_rows")
    parts = (sa.select(part_rows.c.entity_id, _joined(conn, part_rows.c.part).label("parts"))
             .group_by(part_rows.c.entity_id).subquery("parts"))
    attr_rows = (sa.select(changed.c.entity_id, changed.c.attribute).where(changed.c.attribute.is_not(None))
                 .distinct().subquery("attr_rows"))
    attrs = (sa.select(attr_rows.c.entity_id, _joined(conn, attr_rows.c.attribute).label("attributes"))
             .group_by(attr_rows.c.entity_id).subquery("attrs"))
    new, old = tables.pub_entity.alias("new"), tables.pub_entity.alias("old")
    old_visible = _visible(old, previous) if previous is not None else sa.false()
    ec = tables.entity_change.c
    origin = (sa.select(sa.func.min(ec.other_id)).where(ec.entity_id == entities.c.entity_id,
                                                         ec.change == "split_from").scalar_subquery())
    change = sa.case(
        (new.c.state.is_(None), RETIRED),
        (sa.and_(new.c.state == "merged", old.c.state.is_not(None),
                 sa.or_(old.c.state != "merged", old.c.merged_into.is_distinct_from(new.c.merged_into))), MERGED),
        (new.c.state == "merged", sa.null()),        # merged before it was ever served, or unchanged
        (sa.or_(old.c.state.is_(None), old.c.state != "active"),
         sa.case((origin.is_not(None), SPLIT), else_=CREATED)),
        else_=UPDATED).label("change")
    other = sa.case((new.c.state == "merged", new.c.merged_into),
                    (sa.and_(new.c.state == "active", sa.or_(old.c.state.is_(None), old.c.state != "active")),
                     origin), else_=sa.null()).label("other_id")
    events = (sa.select(entities.c.entity_id, sa.func.coalesce(new.c.entity_type, old.c.entity_type)
                        .label("entity_type"), change, other, parts.c.parts, attrs.c.attributes)
              .select_from(entities)
              .outerjoin(new, sa.and_(new.c.entity_id == entities.c.entity_id, _visible(new, version)))
              .outerjoin(old, sa.and_(old.c.entity_id == entities.c.entity_id, old_visible))
              .outerjoin(parts, parts.c.entity_id == entities.c.entity_id)
              .outerjoin(attrs, attrs.c.entity_id == entities.c.entity_id)).subquery("events")
    rows = (sa.select(sa.literal(version, sa.Integer()), events.c.entity_id, events.c.entity_type, events.c.change,
                      events.c.other_id, events.c.parts, events.c.attributes,
                      sa.literal(at, sa.DateTime(timezone=True)))
            .where(events.c.change.is_not(None), events.c.entity_type.is_not(None))
            .order_by(events.c.entity_id))
    e = tables.change_event
    conn.execute(e.insert().from_select(
        ["version", "entity_id", "entity_type", "change", "other_id", "parts", "attributes", "published_at"], rows))
    s = tables.pub_scope
    where = _visible(s, version) if previous is None else sa.or_(_visible(s, version), _visible(s, previous))
    places = (sa.select(e.c.id, s.c.place_id).select_from(e).join(s, s.c.entity_id == e.c.entity_id)
              .where(e.c.version == version, where).distinct())
    conn.execute(tables.change_event_place.insert().from_select(["event_id", "place_id"], places))
    return int(conn.execute(sa.select(sa.func.count()).where(e.c.version == version)).scalar_one())
