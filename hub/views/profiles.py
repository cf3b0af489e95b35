"""The profiles: 一人一档 (person), 一房一档 (house), 一企一档 (organization).

Each is the entity's view plus its related entities, sorted into the lists the profile names; the related
entities pass the same checks as the subject (type, scope, and the relation's own sensitivity: a caller
below `sensitive` never learns that a situation such as 低保 applies to the person).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel

from hub.access.policy import Policy
from hub.publish.keys import address_key
from hub.store import tables
from hub.store.steps import Query, Steps, run_steps
from hub.views.entity import Document, document_of, places_in, related_of, summaries
from hub.views.gather import Gathered, gather_steps
from hub.views.reader import Reader, in_scope, now_visible, utc
from schemas.views import EntityView, HouseProfile, Moved, OrganizationProfile, PersonProfile

RESIDENT_LINKS = ("resides_at", "registered_at", "rents")
M = TypeVar("M", bound=BaseModel)


def _derived(gathered: Gathered) -> list[dict[str, Any]]:
    """The situations rules derived for the entity that held when the reader's version was published (hub.rules.
    situations, published with it), gathered with the subject (hub.views.gather), as SituationPeriod objects:
    open periods, so no end. None tells welfare or health status: those are the departments' situations, shown
    by clearance."""
    return [{"situation_type": r.name, "rule_id": r.label, "started_at": utc(r.at), "ended_at": None,
             "sources": json.loads(r.value)}
            for r in sorted(gathered.derived, key=lambda r: (r.name, r.at))]


def _subject(reader: Reader, policy: Policy, entity_id: str, entity_type: str,
             ) -> Steps[tuple[Document[EntityView] | Moved | None, Gathered]]:
    """The subject's view and, gathered with it in one query, its related entities and places."""
    gathered = yield from gather_steps(reader, policy, entity_id, with_related=True)
    view = document_of(reader, policy, entity_id, gathered)
    if isinstance(view, Document) and view.entity_type != entity_type:
        return None, gathered
    return view, gathered


def _as_model(steps: Callable[[Reader, Policy, str], Steps[Document[M] | Moved | None]],
              ) -> Callable[[Reader, Policy, str], Steps[M | Moved | None]]:
    def as_model(reader: Reader, policy: Policy, entity_id: str) -> Steps[M | Moved | None]:
        found = yield from steps(reader, policy, entity_id)
        return found.as_model() if isinstance(found, Document) else found
    as_model.__doc__ = f"`{steps.__name__}` as the model (schemas.views)."
    return as_model


def person_profile(reader: Reader, policy: Policy, entity_id: str) -> PersonProfile | Moved | None:
    """Person's profile, read on the reader's connection: `person_profile_steps`."""
    return run_steps(reader.conn, person_profile_steps(reader, policy, entity_id))


def person_document_steps(reader: Reader, policy: Policy, entity_id: str,
                          ) -> Steps[Document[PersonProfile] | Moved | None]:
    """一人一档: the person, the houses they live at, are registered at, own or rent, their organizations,
    things (vehicles, parking spaces), the situations (情) that apply to them and the events (事) concerning them."""
    view, gathered = yield from _subject(reader, policy, entity_id, "person")
    if not isinstance(view, Document):
        return view
    lists: dict[str, list[dict[str, Any]]] = {"house": [], "organization": [], "thing": [], "situation": [],
                                              "event": []}
    for item in related_of(reader, policy, gathered, view.disclosed):
        if item["entity_type"] in lists:
            lists[item["entity_type"]].append(item)
    return Document(PersonProfile, "person", {
        "person": view.body, "houses": lists["house"], "organizations": lists["organization"],
        "things": lists["thing"], "situations": lists["situation"], "derived_situations": _derived(gathered),
        "events": lists["event"], "places": places_in(gathered)}, view.disclosed, subject="person")


person_profile_steps = _as_model(person_document_steps)


def house_profile(reader: Reader, policy: Policy, entity_id: str) -> HouseProfile | Moved | None:
    """House's profile, read on the reader's connection: `house_profile_steps`."""
    return run_steps(reader.conn, house_profile_steps(reader, policy, entity_id))


def house_document_steps(reader: Reader, policy: Policy, entity_id: str,
                         ) -> Steps[Document[HouseProfile] | Moved | None]:
    """一房一档: the house, its community and grid, its owners, its residents (living there, registered there,
    renting it), the things and events located at it."""
    view, gathered = yield from _subject(reader, policy, entity_id, "house")
    if not isinstance(view, Document):
        return view
    owners, residents, things, events = [], [], [], []
    for item in related_of(reader, policy, gathered, view.disclosed):
        if item["entity_type"] == "person" and item["predicate"] == "owns":
            owners.append(item)
        elif item["entity_type"] == "person" and item["predicate"] in RESIDENT_LINKS:
            residents.append(item)
        elif item["entity_type"] == "thing":
            things.append(item)
        elif item["entity_type"] == "event":
            events.append(item)
    return Document(HouseProfile, "house", {
        "house": view.body, "places": places_in(gathered), "owners": owners, "residents": residents,
        "things": things, "events": events, "derived_situations": _derived(gathered)},
        view.disclosed, subject="house")


house_profile_steps = _as_model(house_document_steps)


def _premises(reader: Reader, policy: Policy, view: Document[EntityView]) -> Steps[list[dict[str, Any]]]:
    """Houses at the organization's address (no source states premises as a relation; the address key does)."""
    address = view.body["values"].get("address")
    key = (address_key(str(address["value"]), normalized=True)
           if address is not None and address["mode"] == "clear" else None)
    if key is None or not policy.allows_type("house"):
        return []
    k = tables.pub_key
    rows = yield Query(sa.select(k.c.entity_id).where(
        k.c.kind == "address", k.c.key == key, k.c.entity_type == "house", now_visible(reader, k),
        in_scope(reader, policy, k.c.entity_id)).distinct().order_by(k.c.entity_id).limit(50), reused=False)
    ids = [row.entity_id for row in rows]
    labels, values = yield from summaries(reader, policy, ids, view.disclosed)
    for house in ids:
        view.disclosed.add(house)
    return [{"id": house, "entity_type": "house", "predicate": "located_at", "direction": "out",
             "label": labels.get(house), "valid_from": None, "valid_to": None,
             "values": {name: value.model_dump() for name, value in values.get(house, {}).items()}}
            for house in ids]


def organization_profile(reader: Reader, policy: Policy, entity_id: str) -> OrganizationProfile | Moved | None:
    """Organization's profile, read on the reader's connection: `organization_profile_steps`."""
    return run_steps(reader.conn, organization_profile_steps(reader, policy, entity_id))


def organization_document_steps(reader: Reader, policy: Policy, entity_id: str,
                                ) -> Steps[Document[OrganizationProfile] | Moved | None]:
    """一企一档: the organization, its people (employees, members, legal representative), its premises (houses at
    its address) and the things it owns."""
    view, gathered = yield from _subject(reader, policy, entity_id, "organization")
    if not isinstance(view, Document):
        return view
    people, things = [], []
    for item in related_of(reader, policy, gathered, view.disclosed):
        if item["entity_type"] == "person":
            people.append(item)
        elif item["entity_type"] == "thing":
            things.append(item)
    premises = yield from _premises(reader, policy, view)
    return Document(OrganizationProfile, "organization", {
        "organization": view.body, "people": people, "premises": premises, "things": things,
        "places": places_in(gathered)}, view.disclosed, subject="organization")


organization_profile_steps = _as_model(organization_document_steps)
