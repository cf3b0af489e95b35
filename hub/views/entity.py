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
from hub.views.reader import Reader, relation_allowed, show, utc
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


# The request path's statements, built once at import with bound parameters (version, types, scope, ids): a
# profile then costs its queries' execution, not building and hashing SQLAlchemy expressions each time.
_V: sa.BindParameter[int] = sa.bindparam("version")
_TYPES: sa.BindParameter[list[str]] = sa.bindparam("types", expanding=True)
_SCOPE: sa.BindParameter[list[str]] = sa.bindparam("scope", expanding=True)
_E, _VAL, _R, _S = tables.pub_entity, tables.pub_value, tables.pub_relation, tables.pub_scope


def _visible_at(table: sa.Table) -> sa.ColumnElement[bool]:
    return sa.and_(table.c.since <= _V, sa.or_(table.c.until.is_(None), table.c.until > _V))


def _scoped(entity_id: sa.ColumnElement[Any], scoped: bool) -> sa.ColumnElement[bool]:
    if not scoped:
        return sa.true()
    return sa.exists(sa.select(1).select_from(_S).where(_S.c.entity_id == entity_id, _S.c.place_id.in_(_SCOPE),
                                                         _visible_at(_S)))


_ENTITY_ROW = {scoped: sa.select(_E.c.entity_id, _E.c.entity_type, _E.c.state, _E.c.merged_into, _E.c.label,
                                 _E.c.records, _E.c.updated_at)
               .where(_E.c.entity_id == sa.bindparam("id"), _visible_at(_E), _E.c.entity_type.in_(_TYPES),
                      sa.or_(_E.c.state == "merged", _scoped(_E.c.entity_id, scoped)))
               for scoped in (False, True)}
_ACTIVE_ROW = {scoped: sa.select(_E.c.entity_id, _E.c.entity_type, _E.c.label, _E.c.records, _E.c.updated_at)
               .where(_E.c.entity_id == sa.bindparam("id"), _E.c.state == "active", _visible_at(_E),
                      _E.c.entity_type.in_(_TYPES), _scoped(_E.c.entity_id, scoped))
               for scoped in (False, True)}
_VALUES = sa.select(_VAL.c.entity_id, _VAL.c.entity_type, _VAL.c.attribute, _VAL.c.value, _VAL.c.value_enc,
                    _VAL.c.source, _VAL.c.sources).where(_VAL.c.entity_id.in_(sa.bindparam("ids", expanding=True)),
                                                        _visible_at(_VAL))
_VALUES_ALL = _VALUES.order_by(_VAL.c.entity_id, _VAL.c.attribute)
_VALUES_SOME = _VALUES.where(_VAL.c.attribute.in_(sa.bindparam("attributes", expanding=True))).order_by(
    _VAL.c.entity_id, _VAL.c.attribute)
_RELATED = {(direction, scoped): sa.select(_R.c.predicate, _R.c.valid_from, _R.c.valid_to, _E.c.entity_id,
                                          _E.c.entity_type, _E.c.label)
            .join(_E, _E.c.entity_id == other)
            .where(end == sa.bindparam("id"), _visible_at(_R), _visible_at(_E), _E.c.state == "active",
                   _E.c.entity_type.in_(_TYPES), _scoped(_E.c.entity_id, scoped))
            .order_by(_R.c.predicate, _E.c.entity_id)
            for direction, end, other in (("out", _R.c.subject_id, _R.c.object_id),
                                          ("in", _R.c.object_id, _R.c.subject_id))
            for scoped in (False, True)}
_PLACES = sa.select(_S.c.place_id, _S.c.place_type, _S.c.name).where(
    _S.c.entity_id == sa.bindparam("id"), _visible_at(_S)).order_by(_S.c.place_id)


def bound(reader: Reader, policy: Policy, **more: Any) -> dict[str, Any]:
    """The parameters of the statements above for one request."""
    params = {"version": reader.version, "types": sorted(policy.entity_types), **more}
    if policy.scope is not None:
        params["scope"] = sorted(policy.scope)
    return params


def _entity_row(reader: Reader, policy: Policy, entity_id: str) -> Any:
    """The entity's row if the policy may see it; a merged id's row whatever the scope (its survivor is checked)."""
    return reader.conn.execute(_ENTITY_ROW[policy.scope is not None], bound(reader, policy, id=entity_id)).first()


def _visible_active(reader: Reader, policy: Policy, entity_id: str) -> Any:
    return reader.conn.execute(_ACTIVE_ROW[policy.scope is not None], bound(reader, policy, id=entity_id)).first()


def values_of(reader: Reader, policy: Policy, entity_ids: Collection[str], disclosed: Disclosure,
              attributes: Mapping[str, Sequence[str]] | None = None) -> dict[str, dict[str, FieldValue]]:
    """Golden values of entities (all attributes, or per type those of `attributes`), shown by the policy."""
    if not entity_ids:
        return {}
    params: dict[str, Any] = {"version": reader.version, "ids": sorted(entity_ids)}
    if attributes is not None:
        params["attributes"] = sorted({a for names in attributes.values() for a in names})
    out: dict[str, dict[str, FieldValue]] = {}
    for row in reader.conn.execute(_VALUES_ALL if attributes is None else _VALUES_SOME, params):
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
    found: list[tuple[Any, str]] = []
    params = bound(reader, policy, id=entity_id)
    for direction in ("out", "in"):
        rows = reader.conn.execute(_RELATED[(direction, policy.scope is not None)], params)
        found += [(row, direction) for row in rows if relation_allowed(policy, row.predicate)]
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
    rows = reader.conn.execute(_PLACES, {"version": reader.version, "id": entity_id})
    return [PlaceRef(id=row.place_id, place_type=row.place_type, name=row.name) for row in rows]
