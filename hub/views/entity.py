"""One entity by id (`entity_view`), and the related entities profiles are made of.

Two or three indexed queries per call: the entity row (type and scope checked in the SQL), its values, and
for profiles its relations joined to the other ends (their type and scope checked in the same SQL). An
entity the caller may not see is answered exactly as an unknown one: None.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from hub.access.policy import Policy
from hub.store import tables
from hub.store.runs import as_utc
from hub.views.reader import Reader, in_scope, now_visible, relation_allowed, show, utc
from schemas.views import Disclosure, EntityView, FieldValue, Moved, PlaceRef, Related

SUMMARY: dict[str, tuple[str, ...]] = {
    "person": ("name", "resident_id", "gender", "birth_date", "phone"),
    "house": ("address", "usage", "floor_area"),
    "organization": ("name", "credit_code", "org_type", "address"),
    "thing": ("thing_type", "plate_no", "brand", "color", "name", "parking_space_no"),
    "situation": ("situation_type", "status", "start_date", "end_date"),
    "event": ("event_type", "occurred_at", "status", "closed_at"),
}
"""The values shown for an entity in a profile's lists and in search results."""


def _entity_row(reader: Reader, policy: Policy, entity_id: str) -> Any:
    """The entity's row if the policy may see it; a merged id's row whatever the scope (its survivor is checked)."""
    e = tables.pub_entity
    return reader.conn.execute(
        sa.select(e.c.entity_id, e.c.entity_type, e.c.state, e.c.merged_into, e.c.label, e.c.records,
                  e.c.updated_at)
        .where(e.c.entity_id == entity_id, now_visible(reader, e), e.c.entity_type.in_(sorted(policy.entity_types)),
               sa.or_(e.c.state == "merged", in_scope(reader, policy, e.c.entity_id)))).first()


def _visible_active(reader: Reader, policy: Policy, entity_id: str) -> Any:
    e = tables.pub_entity
    return reader.conn.execute(
        sa.select(e.c.entity_id, e.c.entity_type, e.c.label, e.c.records, e.c.updated_at)
        .where(e.c.entity_id == entity_id, e.c.state == "active", now_visible(reader, e),
               e.c.entity_type.in_(sorted(policy.entity_types)), in_scope(reader, policy, e.c.entity_id))).first()


def values_of(reader: Reader, policy: Policy, entity_ids: Collection[str], disclosed: Disclosure,
              attributes: Mapping[str, Sequence[str]] | None = None) -> dict[str, dict[str, FieldValue]]:
    """Golden values of entities (all attributes, or per type those of `attributes`), shown by the policy."""
    if not entity_ids:
        return {}
    v = tables.pub_value
    query = sa.select(v.c.entity_id, v.c.entity_type, v.c.attribute, v.c.value, v.c.value_enc, v.c.source,
                      v.c.sources).where(v.c.entity_id.in_(sorted(entity_ids)), now_visible(reader, v))
    if attributes is not None:
        wanted = sorted({a for names in attributes.values() for a in names})
        query = query.where(v.c.attribute.in_(wanted))
    out: dict[str, dict[str, FieldValue]] = {}
    for row in reader.conn.execute(query.order_by(v.c.entity_id, v.c.attribute)):
        if attributes is not None and row.attribute not in attributes.get(row.entity_type, ()):
            continue
        shown = show(reader, policy, row.entity_type, row.attribute, row.value, row.value_enc, disclosed)
        if shown is not None:
            shown.source, shown.sources = row.source, row.sources
            out.setdefault(row.entity_id, {})[row.attribute] = shown
    return out


def entity_view(reader: Reader, policy: Policy, entity_id: str) -> EntityView | Moved | None:
    """The entity with its golden values as the policy may see them; a merged id: where it moved to; an entity
    of a type the policy does not allow, out of its scope, or unknown: None."""
    row = _entity_row(reader, policy, entity_id)
    if row is None:
        return None
    if row.state == "merged":
        survivor = _visible_active(reader, policy, row.merged_into) if row.merged_into else None
        if survivor is None:
            return None
        moved = Moved(id=entity_id, merged_into=survivor.entity_id)
        moved.disclosed.add(entity_id)
        moved.disclosed.add(survivor.entity_id)
        return moved
    disclosed = Disclosure()
    disclosed.add(entity_id)
    values = values_of(reader, policy, [entity_id], disclosed).get(entity_id, {})
    return EntityView(id=row.entity_id, entity_type=row.entity_type, label=row.label, records=row.records,
                      updated_at=utc(row.updated_at), values=values, disclosed=disclosed)


def related(reader: Reader, policy: Policy, entity_id: str, disclosed: Disclosure) -> list[Related]:
    """The active entities related to `entity_id` both ways that the policy may see (type, scope and the
    predicate's sensitivity), each with its summary values."""
    r, e = tables.pub_relation, tables.pub_entity
    found: list[tuple[Any, str]] = []
    for end, other, direction in ((r.c.subject_id, r.c.object_id, "out"), (r.c.object_id, r.c.subject_id, "in")):
        query = (sa.select(r.c.predicate, r.c.valid_from, r.c.valid_to, e.c.entity_id, e.c.entity_type, e.c.label)
                 .join(e, e.c.entity_id == other)
                 .where(end == entity_id, now_visible(reader, r), now_visible(reader, e), e.c.state == "active",
                        e.c.entity_type.in_(sorted(policy.entity_types)), in_scope(reader, policy, e.c.entity_id))
                 .order_by(r.c.predicate, e.c.entity_id))
        found += [(row, direction) for row in reader.conn.execute(query) if relation_allowed(policy, row.predicate)]
    values = values_of(reader, policy, {row.entity_id for row, _ in found}, disclosed, SUMMARY)
    out = []
    for row, direction in found:
        disclosed.add(row.entity_id)
        out.append(Related(id=row.entity_id, entity_type=row.entity_type, predicate=row.predicate,
                           direction=direction,  # type: ignore[arg-type]
                           label=row.label, valid_from=as_utc(row.valid_from), valid_to=as_utc(row.valid_to),
                           values=values.get(row.entity_id, {})))
    return out


def places_of(reader: Reader, entity_id: str) -> list[PlaceRef]:
    """The community and grid places an entity belongs to."""
    s = tables.pub_scope
    rows = reader.conn.execute(sa.select(s.c.place_id, s.c.place_type, s.c.name)
                               .where(s.c.entity_id == entity_id, now_visible(reader, s)).order_by(s.c.place_id))
    return [PlaceRef(id=row.place_id, place_type=row.place_type, name=row.name) for row in rows]
