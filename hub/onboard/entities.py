"""Draft entities from placed attributes: their local names, required attributes, conditions, relations.

Names follow what a reader expects (person, house, employer, representative, the situation's kind);
relations follow the canonical predicates: a situation applies to the row's person, an event concerns
them and happens at the house, a thing is owned by them and kept at the house, a person works for the
row's organization (or represents it), and lives in, owns or rents the house (业主 / 租户 in the source's
name or request decide).
"""

from __future__ import annotations

from typing import Any

import schemas
from hub.mapping.conditions import Condition
from hub.onboard.assemble import Assembly, AttrKey, EntityKey, Placed, attribute_order
from hub.onboard.draft import DraftEntity, DraftField

_OWNER, _TENANT = ("业主", "产权", "owner"), ("租户", "承租", "tenant", "租客")


def entity_names(entities: set[EntityKey], consts: dict[AttrKey, str]) -> dict[EntityKey, str]:
    """A local name per (type, role), in the order of the canonical model's types."""
    names: dict[EntityKey, str] = {}
    for entity, role in sorted(entities, key=lambda k: (schemas.entity_types().index(k[0]), k[1])):
        if role:
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


def relations(names: dict[EntityKey, str], context: list[str]) -> list[tuple[str, str, str]]:
    """(subject, predicate, object) between the entities of a row, by the rules of the module docstring."""
    person, house, org = names.get(("person", "")), names.get(("house", "")), names.get(("organization", ""))
    out: list[tuple[str, str, str]] = []
    house_taken = False
    for (entity, _), name in names.items():
        if entity == "situation" and person:
            out.append((name, "applies_to", person))
        if entity in ("event", "thing"):
            if person:
                out.append((name, "concerns" if entity == "event" else "owned_by", person))
            if house:
                out.append((name, "located_at", house))
                house_taken = True
    if ("person", "representative") in names and org:
        out.append((names[("person", "representative")], "legal_representative_of", org))
    elif person and org:
        out.append((person, "employed_by", org))
    if person and house and not house_taken:
        text = " ".join(context).lower()
        predicate = ("owns" if any(w in text for w in _OWNER) else "rents" if any(w in text for w in _TENANT)
                     else "resides_at")
        out.append((person, predicate, house))
    return out


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
        first = {"person": "name", "organization": "name", "house": "address", "situation": "situation_type",
                 "thing": "plate_no"}.get(key[0])
        if key[0] == "event":
            first = "occurred_at" if "occurred_at" in placed else "event_type"
        if first in placed:
            entity.required = [first]
            _only_where_filled(asm, entity, placed[first], key, set(names))
        out.append(entity)
    return out


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
    if blank >= 0.1:
        entity.when = Condition.model_validate({"column": first.column, "blank": False}).describe()
        entity.note = f"{first.column} is blank in {round(100 * blank)} % of sampled rows: no {entity.name} there"
