"""One entity by id (`entity_view`), and the related entities profiles are made of.

One query per view or profile (hub.views.gather): the entity row (type and scope checked in the SQL), its
values, and for profiles its relations joined to the other ends (their type and scope checked in the same
SQL), their summary values and the entity's places. An entity the caller may not see is answered exactly
as an unknown one: None.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel

from hub.access.policy import Policy
from hub.store import tables
from hub.store.runs import as_utc
from hub.store.steps import Query, Steps, run_steps
from hub.views.gather import SUMMARY, SUMMARY_ATTRIBUTES, Gathered, constants, gather_steps, visible_at
from hub.views.reader import Reader, label_shown, relation_allowed, shown_value, utc
from schemas.views import Disclosure, EntityView, FieldValue, Moved

M = TypeVar("M", bound=BaseModel)


@dataclass
class Document(Generic[M]):
    """A view's result as the JSON-ready dicts and lists of its model `model` (schemas.views), and what it
    disclosed: what the API writes as is (one orjson call), without a validated model per value. `as_model`
    gives the model (the CLI, exports, tests): validating the body there also checks it against the contract."""

    model: type[M]
    entity_type: str
    body: dict[str, Any]
    disclosed: Disclosure
    subject: str | None = None
    """The body's member that is the entity's own view (a profile's "person"): it shares `disclosed`."""

    def as_model(self) -> M:
        model = self.model.model_validate({**self.body, "disclosed": self.disclosed})
        if self.subject is not None:
            getattr(model, self.subject).disclosed = self.disclosed
        return model

# The request path's statements, built once at import with bound parameters (version, ids): a request then
# costs its queries' execution, not building and hashing SQLAlchemy expressions each time.
_E, _VAL = tables.pub_entity, tables.pub_value

_VALUES = sa.select(_VAL.c.entity_id, _VAL.c.entity_type, _VAL.c.attribute.label("name"), _VAL.c.value,
                    _VAL.c.value_enc,
                    _VAL.c.source, _VAL.c.sources).where(_VAL.c.entity_id.in_(sa.bindparam("ids", expanding=True)),
                                                        visible_at(_VAL))
_VALUES_SOME = _VALUES.where(_VAL.c.attribute.in_(constants(SUMMARY_ATTRIBUTES)))


def entity_view(reader: Reader, policy: Policy, entity_id: str) -> EntityView | Moved | None:
    """The entity with its golden values as the policy may see them; a merged id: where it moved to; an entity
    of a type the policy does not allow, out of its scope, or unknown: None."""
    return run_steps(reader.conn, entity_view_steps(reader, policy, entity_id))


def entity_view_steps(reader: Reader, policy: Policy, entity_id: str) -> Steps[EntityView | Moved | None]:
    """`entity_view` as steps (hub.store.steps)."""
    found = yield from entity_document_steps(reader, policy, entity_id)
    return found.as_model() if isinstance(found, Document) else found


def entity_document_steps(reader: Reader, policy: Policy, entity_id: str,
                          ) -> Steps[Document[EntityView] | Moved | None]:
    """`entity_view_steps` as a Document: what the API answers."""
    gathered = yield from gather_steps(reader, policy, entity_id, with_related=False)
    return document_of(reader, policy, entity_id, gathered)


def view_of(reader: Reader, policy: Policy, entity_id: str, gathered: Gathered) -> EntityView | Moved | None:
    """`entity_view` from rows already gathered (a profile gathers its subject with everything else)."""
    found = document_of(reader, policy, entity_id, gathered)
    return found.as_model() if isinstance(found, Document) else found


def document_of(reader: Reader, policy: Policy, entity_id: str, gathered: Gathered,
                ) -> Document[EntityView] | Moved | None:
    """`view_of` as a Document."""
    row = gathered.subject
    if row is None:
        return None
    if row.state == "merged":
        survivor = gathered.survivor if row.merged_into else None
        if survivor is None:
            return None
        moved = Moved(id=entity_id, merged_into=survivor.entity_id)
        moved.disclosed.add(entity_id)
        moved.disclosed.add(survivor.entity_id)
        return moved
    disclosed = Disclosure()
    disclosed.add(entity_id)
    values = _shown(reader, policy, gathered.values, disclosed).get(entity_id, {})
    return Document(EntityView, row.entity_type, {
        "id": row.entity_id, "entity_type": row.entity_type, "label": label_shown(policy, row.entity_type, row.label),
        "records": int(row.records), "updated_at": utc(row.at), "values": values}, disclosed)


def _shown(reader: Reader, policy: Policy, rows: Iterable[Any], disclosed: Disclosure,
           attributes: Mapping[str, Sequence[str]] | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """Gathered value rows as the policy shows them (FieldValue objects as dicts), per entity, in attribute
    order."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: (r.entity_id, r.name)):
        if attributes is not None and row.name not in attributes.get(row.entity_type, ()):
            continue
        shown = shown_value(reader, policy, row.entity_type, row.name, row.value, row.value_enc, disclosed,
                            row.source, row.sources)
        if shown is not None:
            out.setdefault(row.entity_id, {})[row.name] = shown
    return out


def related_of(reader: Reader, policy: Policy, gathered: Gathered, disclosed: Disclosure) -> list[dict[str, Any]]:
    """The active entities related both ways that the policy may see (type and scope checked in the SQL,
    the predicate's sensitivity here), each with its summary values: outgoing first, by predicate and id.
    Related objects as dicts (Document)."""
    found = sorted((row for row in gathered.related if relation_allowed(policy, row.name)),
                   key=lambda r: (r.state != "out", r.name, r.entity_id))
    seen = {row.entity_id for row in found}
    values = _shown(reader, policy, [v for v in gathered.related_values if v.entity_id in seen], disclosed, SUMMARY)
    out = []
    for row in found:
        disclosed.add(row.entity_id)
        out.append({"id": row.entity_id, "entity_type": row.entity_type, "predicate": row.name,
                    "direction": row.state, "label": label_shown(policy, row.entity_type, row.label),
                    "valid_from": as_utc(row.at), "valid_to": as_utc(row.valid_to),
                    "values": values.get(row.entity_id, {})})
    return out


def places_in(gathered: Gathered) -> list[dict[str, Any]]:
    """The community and grid places an entity belongs to (PlaceRef objects as dicts)."""
    return [{"id": row.name, "place_type": row.entity_type, "name": row.label}
            for row in sorted(gathered.places, key=lambda r: r.name)]


_SUMMARIES = sa.union_all(
    sa.select(_E.c.entity_id, _E.c.entity_type, sa.literal("", sa.String()).label("name"), _E.c.label.label("value"),
              sa.cast(sa.null(), sa.LargeBinary()).label("value_enc"), sa.cast(sa.null(), sa.String()).label("source"),
              sa.cast(sa.null(), sa.Integer()).label("sources"))
    .where(_E.c.entity_id.in_(sa.bindparam("ids", expanding=True)), visible_at(_E)),
    _VALUES_SOME)


def summaries(reader: Reader, policy: Policy, entity_ids: Sequence[str], disclosed: Disclosure,
              ) -> Steps[tuple[dict[str, str | None], dict[str, dict[str, FieldValue]]]]:
    """Labels and summary values of entities (search hits, a profile's premises) in one query, as steps
    (hub.store.steps): the label rows carry an empty attribute name."""
    if not entity_ids:
        return {}, {}
    labels: dict[str, str | None] = {}
    rows = []
    for row in (yield Query(_SUMMARIES, {"version": reader.version, "ids": sorted(entity_ids)})):
        if row.name == "":
            labels[row.entity_id] = label_shown(policy, row.entity_type, row.value)
        else:
            rows.append(row)
    shown = _shown(reader, policy, rows, disclosed, SUMMARY)
    return labels, {entity_id: {name: FieldValue(**value) for name, value in values.items()}
                    for entity_id, values in shown.items()}


