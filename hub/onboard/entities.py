"""Draft entities from placed attributes: their local names, required attributes, conditions, relations.

Names follow what a reader expects (person, house, employer, care_home, property_company, representative,
the situation's kind); relations follow the canonical predicates: a situation applies to the row's person,
an event concerns them and happens at the house (a registration only concerns them), a thing is owned by
them and kept at the house, a person works for their employer, is cared for by a care institution, is
served by a property company (or represents the row's organization), is registered at the house their
household-register address names, and lives in, owns or rents the house: a column such as 身份 (业主 /
租户) decides per row with a `when` on each relation, else 业主 / 租户 in the source's name or request.
"""

from __future__ import annotations

from typing import Any

import schemas
from hub.mapping.conditions import Condition
from hub.onboard.assemble import Assembly, AttrKey, EntityKey, Placed, attribute_order
from hub.onboard.draft import DraftEntity, DraftField

_OWNER = ("业主", "产权", "房主", "自住", "自有", "owner", "self-occupied", "owner-occupied", "本人", "self")
_TENANT = ("租户", "承租", "tenant", "租客", "租住", "租用", "租赁", "renter", "leased", "rented", "lease")
"""Words of a role column's values: the person owns the house (自住: lives in their own), or rents it. In a column of
relations to the owner (与业主关系), the owner is the one whose relation is 本人 / self."""
_KIN = ("亲属", "家属", "家庭成员", "配偶", "子女", "父母", "同住", "family", "relative", "spouse", "kin", "parent",
        "child", "son", "daughter")
"""Words of a value naming the owner's or tenant's family (业主亲属, OWNER_FAMILY): the person lives in the house
and neither owns nor rents it, though the value also holds the owner's word."""
_ORG_PREDICATES = {"employer": "employed_by", "care_home": "cared_for_by", "property_company": "served_by",
                   "membership": "member_of"}
"""The relation of the row's person to an organization, by the organization's role in the row."""
_ROLE_NAMES = {("house", "registered"): "registered_house"}


def entity_names(entities: set[EntityKey], consts: dict[AttrKey, str]) -> dict[EntityKey, str]:
    """A local name per (type, role), in the order of the canonical model's types."""
    names: dict[EntityKey, str] = {}
    for entity, role in sorted(entities, key=lambda k: (schemas.entity_types().index(k[0]), k[1])):
        if (entity, role) in _ROLE_NAMES:
            name = _ROLE_NAMES[(entity, role)]
        elif role:
            name = role
        elif entity == "organization" and ("person", "") in entities and ("person", "representative") not in entities:
            name = "employer"
        elif entity == "situation":
            name = consts.get(("situation", "", "situation_type"), "situation")
        elif entity == "thing":
            name = "vehicle" if consts.get(("thing", "", "thing_type")) == "vehicle" else "thing"
        else:
            name = entity
        while name in names.values():
            name += "_2"
        names[(entity, role)] = name
    return names


Relation = tuple[str, str, str, str]        # subject, predicate, object, when


def _tenure(value: str) -> str:
    text = value.lower()
    if any(w in text for w in _KIN):
        return "resides_at"
    return "owns" if any(w in text for w in _OWNER) else "rents" if any(w in text for w in _TENANT) else "resides_at"


def tenure_relations(person: str, house: str, column: str, values: list[str]) -> tuple[list[Relation], list[str]]:
    """One relation per kind of tenure the role column's values name, each with its `when`, and a note each."""
    by_predicate: dict[str, list[str]] = {}
    for value in values:
        by_predicate.setdefault(_tenure(value), []).append(value)
    out: list[Relation] = []
    notes: list[str] = []
    if len(by_predicate) == 1:       # every row the same (an export of owners only): no condition needed
        predicate, seen = next(iter(by_predicate.items()))
        return [(person, predicate, house, "")], [f"{column} says {' / '.join(seen)} on every sampled row"]
    for predicate in ("owns", "rents", "resides_at"):
        if predicate not in by_predicate:
            continue
        seen = by_predicate[predicate]
        condition = ({"column": column, "equals": seen[0]} if len(seen) == 1 else {"column": column, "in": seen})
        out.append((person, predicate, house, Condition.model_validate(condition).describe()))
        notes.append(f"{column} says {' / '.join(seen)} on these rows" + (
            ": not an owner or a tenant word, so lives in" if predicate == "resides_at" else ""))
    return out, notes


def relations(names: dict[EntityKey, str], context: list[str], tenure: tuple[str, list[str]] | None = None,
              ) -> tuple[list[Relation], list[str]]:
    """(subject, predicate, object, when) between the entities of a row, by the rules of the module docstring,
    and a note per relation."""
    person, house, org = names.get(("person", "")), names.get(("house", "")), names.get(("organization", ""))
    out: list[Relation] = []
    notes: list[str] = []

    def add(subject: str, predicate: str, obj: str, note: str = "") -> None:
        out.append((subject, predicate, obj, ""))
        notes.append(note)

    house_taken = False
    for (entity, role), name in names.items():
        if entity == "situation" and person:
            add(name, "applies_to", person)
        if entity in ("event", "thing"):
            if person:
                add(name, "concerns" if entity == "event" else "owned_by", person)
            if house and role != "registration":
                add(name, "located_at", house)
                house_taken = True
        if entity == "organization" and person and role in _ORG_PREDICATES:
            add(person, _ORG_PREDICATES[role], name, f"the organization's role in the row: {name}")
        if entity == "house" and person and role == "registered":
            add(person, "registered_at", name, "the household-register address names the house of the 户籍")
    if ("person", "representative") in names and org:
        add(names[("person", "representative")], "legal_representative_of", org)
    elif person and org:
        add(person, "employed_by", org)
    if person and house and tenure is not None:
        found, why = tenure_relations(person, house, *tenure)
        out += found
        notes += why
    elif person and house and not house_taken:
        text = " ".join(context).lower()
        add(person, _tenure(text), house)
    return out, notes


def draft_entities(asm: Assembly, names: dict[EntityKey, str]) -> list[DraftEntity]:
    """Entities with their fields in the model's attribute order, required attributes and conditions."""
    out = []
    for key, name in names.items():
        entity = DraftEntity(name, key[0], key[1])
        placed = {k[2]: p for k, p in asm.placed.items() if (k[0], k[1]) == key}
        for attribute in attribute_order(key[0]):
            if attribute not in placed:
                continue
            p = placed[attribute]
            spec: dict[str, Any] = ({"column": p.column} if p.parts is None and p.const is None and p.column
                                    else {"parts": p.parts} if p.parts else {"const": p.const})
            spec.update(p.extra)
            entity.fields.append(DraftField(attribute, spec, round(p.confidence, 2), p.evidence))
        for local_name, (column, evidence) in sorted(asm.local_ids.get(key, {}).items()):
            entity.local_ids[local_name] = {"column": column}
            entity.local_notes[local_name] = f"{evidence}; the source's own number for this {key[0]}"
        first = {"person": "name", "organization": "name", "house": "address", "situation": "situation_type",
                 "thing": "plate_no"}.get(key[0])
        if key[0] == "event":
            first = "occurred_at" if "occurred_at" in placed else "event_type"
        if first in placed:
            entity.required = [first]
            _only_where_filled(asm, entity, placed[first], key, set(names))
        _identified_in_an_event_log(asm, entity, placed, key, set(names))
        out.append(entity)
    return out


def _identified_in_an_event_log(asm: Assembly, entity: DraftEntity, placed: dict[str, Placed], key: EntityKey,
                                present: set[EntityKey]) -> None:
    """In a log of events and nothing else (door access), the person of a row whose ID number is blank is a
    visitor's name only: it cannot say who it was, so there is no person on that row."""
    others = {t for t, _ in present} - {"event", "person"}
    ids = placed.get("resident_id")
    if (key != ("person", "") or others or not any(t == "event" for t, _ in present) or entity.when
            or ids is None or ids.column is None or ids.extra.get("when")):
        return
    p = asm.profiles[ids.column]
    if p.rows and 1 - p.filled / p.rows >= 0.1:
        entity.when = [Condition.model_validate({"column": ids.column, "blank": False}).describe()]


def _only_where_filled(asm: Assembly, entity: DraftEntity, first: Placed, key: EntityKey,
                       present: set[EntityKey]) -> None:
    """A secondary entity (an employer, a representative, the house of a person) whose key column is often
    blank exists only where it is filled: a blank there means no such entity, not a rejected one."""
    secondary = key == ("person", "representative") or (key[0] in ("organization", "house")
                                                         and ("person", "") in present)
    if not secondary or first.column is None:
        return
    p = asm.profiles[first.column]
    blank = 1 - p.filled / p.rows if p.rows else 0.0
    placeholders = asm.placeholders.get(first.column, [])
    if blank >= 0.1 or placeholders:
        entity.when = [Condition.model_validate({"column": first.column, "blank": False}).describe()]
        entity.note = f"{first.column} is blank in {round(100 * blank)} % of sampled rows: no {entity.name} there"
    if placeholders:
        entity.when.append(Condition.model_validate({"column": first.column, "not_in": placeholders}).describe())
        entity.note = (f"{', '.join(placeholders)} in {first.column} say there is no {entity.name} (not an "
                       "organization)" + (f"; blank in {round(100 * blank)} % of sampled rows" if blank else ""))
