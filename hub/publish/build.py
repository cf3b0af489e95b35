"""The rows of the read model, built as frames from the fusion tables (entity, golden_value, relation, place,
statement + record_link): what the pub_* tables should hold for the current fused state.

Built whole on every publication and compared with what is published (hub.publish.versioned), so the
read model can always be rebuilt from the statement store and never drifts from it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

import schemas
from hub.fuse.places import DIVISIONS, division_ids
from hub.fuse.statements import latest_versions
from hub.protect import present
from hub.publish.keys import KEYED_ATTRIBUTES, TOKEN_KINDS, address_key, keys_of_values
from hub.statements.entries import explode
from hub.store import tables
from hub.store.frames import frame_of

ENTITY_COLUMNS = ("entity_id", "entity_type", "state", "merged_into", "label", "records", "updated_at")
VALUE_COLUMNS = ("entity_id", "entity_type", "attribute", "value", "value_enc", "source", "statements", "sources")
KEY_COLUMNS = ("kind", "key", "entity_id", "entity_type")
RELATION_COLUMNS = ("subject_id", "predicate", "object_id", "subject_type", "object_type", "sources", "valid_from",
                    "valid_to")
SCOPE_COLUMNS = ("entity_id", "place_id", "place_type", "name")
CLAIM_COLUMNS = ("entity_id", "entity_type", "attribute", "source", "record_key", "department", "value", "value_enc",
                 "statements", "first_seen", "last_seen", "chosen")
SITUATION_COLUMNS = ("entity_id", "entity_type", "situation_type", "rule_id", "sources", "started_at")

LABEL_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "person": ("name",),
    "house": ("estate", "building", "unit", "room"),
    "organization": ("name",),
    "thing": ("name", "thing_type"),
    "situation": ("situation_type",),
    "event": ("event_type",),
}
"""What names an entity in a list, shown as `present` shows it at the lowest clearance (public)."""

HOUSE_LINKS = ("resides_at", "registered_at", "owns", "rents")
SCOPE_PLACES = ("community", "grid")


def golden_rows(engine: Engine) -> pd.DataFrame:
    g, e = tables.golden_value.c, tables.entity.c
    query = (sa.select(g.entity_id, g.entity_type, g.attribute, g.value, g.value_enc, g.token, g.statement_id,
                       g.source, g.statements, g.sources)
             .join(tables.entity, e.id == g.entity_id).where(e.state == "active"))
    with engine.connect() as conn:
        frame = frame_of(conn.execute(query), ["entity_id", "entity_type", "attribute", "value", "value_enc", "token",
                                               "statement_id", "source", "statements", "sources"])
    frame["value_enc"] = [None if v is None else bytes(v) for v in frame["value_enc"]]
    return frame


def entity_rows(engine: Engine, golden: pd.DataFrame) -> pd.DataFrame:
    """Active and merged entities; a merged one points at its final survivor (chains followed)."""
    e = tables.entity.c
    with engine.connect() as conn:
        frame = frame_of(conn.execute(sa.select(e.id, e.entity_type, e.state, e.merged_into, e.records, e.updated_at)
                                      .where(e.state.in_(("active", "merged")))),
                         ["entity_id", "entity_type", "state", "merged_into", "records", "updated_at"])
    survivor = dict(zip(frame["entity_id"], frame["merged_into"], strict=True))
    final = []
    for target in frame["merged_into"]:
        seen = 0
        while isinstance(target, str) and isinstance(survivor.get(target), str) and seen < 64:
            target, seen = survivor[target], seen + 1
        final.append(target if isinstance(target, str) else None)
    frame["merged_into"] = final
    frame["label"] = _labels(frame, golden)
    return frame[list(ENTITY_COLUMNS)]


HOUSE_SUFFIXES = {"building": "号楼", "unit": "单元", "room": "室"}


def _label(entity_type: str, values: dict[str, str]) -> str | None:
    parts = []
    for attribute in LABEL_ATTRIBUTES.get(entity_type, ()):
        shown, _ = present(entity_type, attribute, values.get(attribute), schemas.Sensitivity.public)
        if shown is None:
            continue
        text = str(shown)
        if entity_type != "house":
            return text
        suffix = HOUSE_SUFFIXES.get(attribute, "")
        parts.append(text + suffix if text.isdigit() else text)
    return "".join(parts) or None


def _labels(entities: pd.DataFrame, golden: pd.DataFrame) -> list[str | None]:
    wanted = golden[golden["value"].notna()]
    by_entity: dict[str, dict[str, str]] = {}
    for entity_id, attribute, value in zip(wanted["entity_id"], wanted["attribute"], wanted["value"], strict=True):
        by_entity.setdefault(entity_id, {})[attribute] = value
    return [_label(entity_type, by_entity.get(entity_id, {}))
            for entity_id, entity_type in zip(entities["entity_id"], entities["entity_type"], strict=True)]


def value_rows(golden: pd.DataFrame) -> pd.DataFrame:
    return golden[list(VALUE_COLUMNS)].reset_index(drop=True)


def key_rows(golden: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """Search keys of every current value an entity holds (golden or not: a person is found by any name or phone
    a source gives), identifiers by their lookup token."""
    rows: list[tuple[str, str, str, str]] = []
    values = pd.concat([golden[["entity_id", "entity_type", "attribute", "value", "token"]],
                        claims[["entity_id", "entity_type", "attribute", "value", "token"]]], ignore_index=True)
    for (type_, attribute_), part in values.groupby(["entity_type", "attribute"], sort=False):
        entity_type, attribute = str(type_), str(attribute_)
        kind = TOKEN_KINDS.get((entity_type, attribute))
        if kind is not None:
            rows += [(kind, t, e, entity_type) for e, t in zip(part["entity_id"], part["token"], strict=True)
                     if isinstance(t, str) and t]
        elif attribute in KEYED_ATTRIBUTES.get(entity_type, ()):
            clear = part[part["value"].notna()].drop_duplicates(["entity_id", "value"])
            keys = {v: [(k, key) for _, k, key in keys_of_values(entity_type, attribute, [v])]
                    for v in clear["value"].unique()}
            rows += [(kind_, key, e, entity_type) for e, v in zip(clear["entity_id"], clear["value"], strict=True)
                     for kind_, key in keys[v]]
    return pd.DataFrame(rows, columns=list(KEY_COLUMNS)).drop_duplicates(ignore_index=True)


def relation_rows(engine: Engine, active: set[str]) -> pd.DataFrame:
    r = tables.relation.c
    with engine.connect() as conn:
        frame = frame_of(conn.execute(sa.select(*(r[c] for c in RELATION_COLUMNS))), RELATION_COLUMNS)
    keep = frame["subject_id"].isin(active) & frame["object_id"].isin(active)
    return frame[keep].reset_index(drop=True)


def house_scopes(engine: Engine, golden: pd.DataFrame) -> dict[str, set[str]]:
    """The communities and grids of each house: those its own golden values name, never a guess.

    A house names its divisions by path (the place `places` made of its own values); where that path is
    partial (no street, say), the one fuller place of the same name its named levels agree with is added, and
    two or more such places add none. A house that names no community or grid takes its estate's, only when the
    estate's other houses name one community and at most one grid: estates are keyed by name alone, and a
    village group (3组) of one name stands in several villages, so a wider guess would show a community's
    consumer residents of another.
    """
    p = tables.place.c
    with engine.connect() as conn:
        places = frame_of(conn.execute(sa.select(p.id, p.place_type, p.parent_id, p.house_id, p.name, p.code)),
                          ["id", "place_type", "parent_id", "house_id", "name", "code"])
    kind = dict(zip(places["id"], places["place_type"], strict=True))
    parent = dict(zip(places["id"], places["parent_id"], strict=True))
    label = {i: (c if t == "district" else n)
             for i, t, n, c in zip(places["id"], places["place_type"], places["name"], places["code"], strict=True)}
    attribute_of = dict(DIVISIONS)
    houses = golden[(golden["entity_type"] == "house") & golden["attribute"].isin(list(attribute_of.values()))]
    wide = houses.pivot(index="entity_id", columns="attribute", values="value")
    own = division_ids(wide)
    by_name: dict[tuple[str, str], list[str]] = {}
    for place_id, place_type, name in zip(places["id"], places["place_type"], places["name"], strict=True):
        if place_type in SCOPE_PLACES:
            by_name.setdefault((place_type, name), []).append(place_id)

    def agrees(candidate: str, values: Mapping[Hashable, object]) -> bool:
        node = parent.get(candidate)
        while node is not None:
            said = values.get(attribute_of.get(kind.get(node, ""), ""))
            if isinstance(said, str) and said != label.get(node):
                return False
            node = parent.get(node)
        return True

    scoped: dict[str, set[str]] = {}
    for house, values in zip(wide.index, wide.to_dict("records"), strict=True):
        found = scoped.setdefault(house, set())
        for level in SCOPE_PLACES:
            own_id = own.at[house, level]
            if isinstance(own_id, str) and own_id in kind:
                found.add(own_id)
            name = values.get(attribute_of[level])
            if not isinstance(name, str):
                continue
            fuller = [c for c in by_name.get((level, name), []) if c != own_id and agrees(c, values)]
            if len(fuller) == 1:
                found.add(fuller[0])
    estate_of: dict[str, str] = {}
    for house, room_parent in zip(places["house_id"], places["parent_id"], strict=True):
        node, depth = room_parent, 0
        while house is not None and node is not None and depth < 16:
            if kind.get(node) == "estate":
                estate_of[house] = node
                break
            node, depth = parent.get(node), depth + 1
    by_estate: dict[str, set[str]] = {}
    for house, estate in estate_of.items():
        by_estate.setdefault(estate, set()).update(scoped.get(house, set()))
    for house, estate in estate_of.items():
        guessed = by_estate[estate]
        counts = [sum(kind.get(place) == level for place in guessed) for level in SCOPE_PLACES]
        if not scoped.get(house) and counts[0] == 1 and counts[1] <= 1:
            scoped[house] = set(guessed)
    return {house: found for house, found in scoped.items() if found}


def scope_rows(engine: Engine, entities: pd.DataFrame, relations: pd.DataFrame, golden: pd.DataFrame
               ) -> pd.DataFrame:
    """The community and grid places each active entity belongs to: houses by their place chain, persons by
    the houses they live at, are registered at, own or rent; organizations by a house at their address;
    things, situations and events by what they belong to, are located at or concern."""
    scoped = house_scopes(engine, golden)

    def inherit(frame: pd.DataFrame, member: str, holder: str) -> None:
        for a, b in zip(frame[member], frame[holder], strict=True):
            if b in scoped:
                scoped.setdefault(a, set()).update(scoped[b])

    pred = relations["predicate"]
    inherit(relations[pred.isin(HOUSE_LINKS)], "subject_id", "object_id")
    houses_by_address: dict[str, str] = {}
    addressed = golden[(golden["attribute"] == "address") & golden["value"].notna()]
    for entity_id, entity_type, value in zip(addressed["entity_id"], addressed["entity_type"], addressed["value"],
                                             strict=True):
        if entity_type == "house":
            key = address_key(value, normalized=True)
            if key:
                houses_by_address[key] = entity_id
    for entity_id, entity_type, value in zip(addressed["entity_id"], addressed["entity_type"], addressed["value"],
                                             strict=True):
        if entity_type == "organization":
            house = houses_by_address.get(address_key(value, normalized=True) or "")
            if house in scoped:
                scoped.setdefault(entity_id, set()).update(scoped[house])
    inherit(relations[pred.isin(("located_at", "owned_by"))], "subject_id", "object_id")
    inherit(relations[pred.isin(("applies_to", "concerns"))], "subject_id", "object_id")
    active = set(entities.loc[entities["state"] == "active", "entity_id"])
    p = tables.place.c
    with engine.connect() as conn:
        named = {row.id: (row.place_type, row.name) for row in conn.execute(
            sa.select(p.id, p.place_type, p.name).where(p.place_type.in_(SCOPE_PLACES)))}
    rows = [(entity_id, place, *named[place])
            for entity_id, found in scoped.items() if entity_id in active for place in sorted(found)]
    return pd.DataFrame(rows, columns=list(SCOPE_COLUMNS))


def claim_frame(engine: Engine, golden: pd.DataFrame, departments: Mapping[str, str]) -> pd.DataFrame:
    """One row per (entity, attribute, source record, value) of the current statements linked to active entities,
    `chosen` where it is the golden value's statement and value; `token` kept for the search keys."""
    s, link = tables.statement.c, tables.record_link.c
    query = (sa.select(s.source, s.source_record_id, s.entity_ref, s.statements, s.first_seen, s.last_seen,
                       s.raw_record_id, s.id, link.entity_id, link.entity_type)
             .join(tables.record_link, (link.source == s.source) & (link.source_record_id == s.source_record_id)
                   & (link.entity_ref == s.entity_ref)))
    latest = latest_versions(engine)
    columns = ["source", "source_record_id", "entity_ref", "statements", "first_seen", "last_seen", "raw_record_id",
               "statement_id", "entity_id", "entity_type"]
    with engine.connect() as conn:
        rows = frame_of(conn.execute(query), columns)
    rows = rows[rows["raw_record_id"].isin(latest) & rows["entity_id"].isin(set(golden["entity_id"]))]
    # relations are published as relations; department-local ids (a flat number, an employer number) name a
    # record inside its source for resolution, they are no attribute of the entity a caller can ask for
    values = explode(rows.reset_index(drop=True), except_methods=("relation", schemas.LOCAL_ID_METHOD))
    if values.empty:
        return pd.DataFrame(columns=[*CLAIM_COLUMNS, "token"])
    values["record_key"] = values["source"] + "|" + values["source_record_id"] + "|" + values["entity_ref"]
    values["department"] = values["source"].map(lambda source: departments.get(source))
    at = pd.MultiIndex.from_frame(values[["entity_id", "attribute"]])
    winners = golden.set_index(["entity_id", "attribute"])
    won = {c: winners[c].reindex(at).to_numpy() for c in ("statement_id", "value", "token", "value_enc")}
    values["chosen"] = [
        statement == won_statement and any(a is not None and isinstance(b, (str, bytes)) and a == b
                                           for a, b in ((value, won_value), (token, won_token), (enc, won_enc)))
        for statement, value, token, enc, won_statement, won_value, won_token, won_enc in zip(
            values["statement_id"], values["value"], values["token"], values["value_enc"], won["statement_id"],
            won["value"], won["token"], won["value_enc"], strict=True)]
    values["statements"] = 1
    values = values.drop_duplicates(["entity_id", "attribute", "record_key", "value", "token"])
    return values[[*CLAIM_COLUMNS, "token"]].reset_index(drop=True)


def situation_rows(engine: Engine) -> pd.DataFrame:
    """The derived situations (hub.rules.situations) that hold, of active entities: published with the version so
    that a profile shows the situations the derive stage found over the same fused state as its values."""
    d, e = tables.derived_situation.c, tables.entity.c
    query = (sa.select(*(d[c] for c in SITUATION_COLUMNS)).join(tables.entity, e.id == d.entity_id)
             .where(d.ended_at.is_(None), e.state == "active"))
    with engine.connect() as conn:
        frame = frame_of(conn.execute(query), SITUATION_COLUMNS)
    # in UTC, as the published rows read back: SQLite returns the moment with the offset it was written with
    frame["started_at"] = pd.to_datetime(frame["started_at"], utc=True)
    return frame
