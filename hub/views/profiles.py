"""The profiles: 一人一档 (person), 一房一档 (house), 一企一档 (organization).

Each is the entity's view plus its related entities, sorted into the lists the profile names; the related
entities pass the same checks as the subject (type, scope, and the relation's own sensitivity: a caller
below `sensitive` never learns that a situation such as 低保 applies to the person).
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from hub.access.policy import Policy
from hub.publish.keys import address_key
from hub.store import tables
from hub.store.steps import Query, Steps, run_steps
from hub.views.entity import places_in, related_of, summaries, view_of
from hub.views.gather import Gathered, gather_steps
from hub.views.reader import Reader, in_scope, now_visible, utc
from schemas.views import EntityView, HouseProfile, Moved, OrganizationProfile, PersonProfile, Related, SituationPeriod

RESIDENT_LINKS = ("resides_at", "registered_at", "rents")
def _derived(gathered: Gathered) -> list[SituationPeriod]:
    """The situations rules derived for the entity that held when the reader's version was published (hub.rules.
    situations, published with it), gathered with the subject (hub.views.gather): open periods, so no end. None
    tells welfare or health status: those are the departments' situations, shown by clearance."""
    return [SituationPeriod(situation_type=r.name, rule_id=r.label, started_at=utc(r.at), ended_at=None,
                            sources=json.loads(r.value))
            for r in sorted(gathered.derived, key=lambda r: (r.name, r.at))]


def _subject(reader: Reader, policy: Policy, entity_id: str, entity_type: str,
             ) -> Steps[tuple[EntityView | Moved | None, Gathered]]:
    """The subject's view and, gathered with it in one query, its related entities and places."""
    gathered = yield from gather_steps(reader, policy, entity_id, with_related=True)
    view = view_of(reader, policy, entity_id, gathered)
    if isinstance(view, EntityView) and view.entity_type != entity_type:
        return None, gathered
    return view, gathered


def person_profile(reader: Reader, policy: Policy, entity_id: str) -> PersonProfile | Moved | None:
    """Person's profile, read on the reader's connection: `person_profile_steps`."""
    return run_steps(reader.conn, person_profile_steps(reader, policy, entity_id))


def person_profile_steps(reader: Reader, policy: Policy, entity_id: str) -> Steps[PersonProfile | Moved | None]:
    """一人一档: the person, the houses they live at, are registered at, own or rent, their organizations,
    things (vehicles, parking spaces), the situations (情) that apply to them and the events (事) concerning them."""
    view, gathered = yield from _subject(reader, policy, entity_id, "person")
    if not isinstance(view, EntityView):
        return view
    disclosed = view.disclosed
    profile = PersonProfile(person=view, places=places_in(gathered), disclosed=disclosed)
    lists = {"house": profile.houses, "organization": profile.organizations, "thing": profile.things,
             "situation": profile.situations, "event": profile.events}
    for item in related_of(reader, policy, gathered, disclosed):
        if item.entity_type in lists:
            lists[item.entity_type].append(item)
    profile.derived_situations = _derived(gathered)
    return profile


def house_profile(reader: Reader, policy: Policy, entity_id: str) -> HouseProfile | Moved | None:
    """House's profile, read on the reader's connection: `house_profile_steps`."""
    return run_steps(reader.conn, house_profile_steps(reader, policy, entity_id))


def house_profile_steps(reader: Reader, policy: Policy, entity_id: str) -> Steps[HouseProfile | Moved | None]:
    """一房一档: the house, its community and grid, its owners, its residents (living there, registered there,
    renting it), the things and events located at it."""
    view, gathered = yield from _subject(reader, policy, entity_id, "house")
    if not isinstance(view, EntityView):
        return view
    profile = HouseProfile(house=view, places=places_in(gathered), disclosed=view.disclosed)
    for item in related_of(reader, policy, gathered, view.disclosed):
        if item.entity_type == "person" and item.predicate == "owns":
            profile.owners.append(item)
        elif item.entity_type == "person" and item.predicate in RESIDENT_LINKS:
            profile.residents.append(item)
        elif item.entity_type == "thing":
            profile.things.append(item)
        elif item.entity_type == "event":
            profile.events.append(item)
    profile.derived_situations = _derived(gathered)
    return profile


def _premises(reader: Reader, policy: Policy, view: EntityView) -> Steps[list[Related]]:
    """Houses at the organization's address (no source states premises as a relation; the address key does)."""
    address = view.values.get("address")
    key = address_key(str(address.value), normalized=True) if address is not None and address.mode == "clear" else None
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
    return [Related(id=house, entity_type="house", predicate="located_at", direction="out", label=labels.get(house),
                    values=values.get(house, {})) for house in ids]


def organization_profile(reader: Reader, policy: Policy, entity_id: str) -> OrganizationProfile | Moved | None:
    """Organization's profile, read on the reader's connection: `organization_profile_steps`."""
    return run_steps(reader.conn, organization_profile_steps(reader, policy, entity_id))


def organization_profile_steps(reader: Reader, policy: Policy, entity_id: str,
                               ) -> Steps[OrganizationProfile | Moved | None]:
    """一企一档: the organization, its people (employees, members, legal representative), its premises (houses at
    its address) and the things it owns."""
    view, gathered = yield from _subject(reader, policy, entity_id, "organization")
    if not isinstance(view, EntityView):
        return view
    profile = OrganizationProfile(organization=view, places=places_in(gathered), disclosed=view.disclosed)
    for item in related_of(reader, policy, gathered, view.disclosed):
        if item.entity_type == "person":
            profile.people.append(item)
        elif item.entity_type == "thing":
            profile.things.append(item)
    profile.premises = yield from _premises(reader, policy, view)
    return profile
