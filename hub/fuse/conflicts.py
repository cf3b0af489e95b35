"""Conflicts: where the records of one entity state different values for one attribute.

Two phones, two birth dates, two residence addresses: the golden value picks one, and the
disagreement is kept as a row (how many distinct values, which sources, the best statement of each
value) so that departments can be asked to reconcile. Values are compared as stored: by lookup
token for ID numbers and phones, by clear value otherwise (an address by the house it names: one
written with its road number and one without are the same residence), by decrypted value for other
sensitive attributes (only where an entity holds several statements of the attribute); nothing
decrypted leaves this module.
"""

from __future__ import annotations

import functools
from collections.abc import Collection

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

import schemas
from hub.fuse.write import json_lists, replace_per_entity
from hub.normalize.addresses import normalize_address
from hub.protect import Vault
from hub.store import tables
from hub.store.frames import frame_of

CONFLICT_COLUMNS = ("entity_id", "attribute", "entity_type", "distinct_values", "sources", "statement_ids", "run_id")
COMPARED = ("distinct_values", "sources", "statement_ids")


def _address_key(value: str) -> str:
    """An address as the house it names (estate, building, unit, room) when it names one: a road number
    or district written on one side only is not a disagreement."""
    parts = normalize_address(value).derived
    house = [str(parts.get(p) or "") for p in ("estate", "building", "unit", "room")]
    return "a:" + "|".join(house) if any(house[1:]) else "v:" + value


def _value_keys(statements: pd.DataFrame, vault: Vault) -> pd.Series:
    """A comparable key per statement: token, else clear value (addresses by the house they name),
    else a keyed hash of the decrypted value."""
    keys = ("t:" + statements["token"].astype(object)).where(statements["token"].notna(), None)
    clear = statements["value"].astype(object)
    kinds = statements["entity_type"] + "\x1f" + statements["attribute"]
    is_address = kinds.map({k: _is_address(tuple(k.split("\x1f"))) for k in kinds.unique()}).astype(bool)
    by_value = ("v:" + clear).where(clear.notna() & ~is_address, None)
    addresses = clear[clear.notna() & is_address]
    by_value[addresses.index] = addresses.map({v: _address_key(v) for v in addresses.unique()})
    keys = keys.fillna(by_value)
    hidden = keys.isna() & statements["value_enc"].notna()
    if hidden.any():
        keys[hidden] = pd.Series(["h:" + vault.keyed_hash(vault.decrypt(bytes(blob)))
                                  for blob in statements.loc[hidden, "value_enc"]], index=keys.index[hidden])
    return keys


@functools.cache
def _is_address(key: tuple[str, ...]) -> bool:
    meta = schemas.attribute_spec(key[0], key[1])
    return meta is not None and meta.normalizer == "address"


def conflicts(statements: pd.DataFrame, vault: Vault, run_id: str) -> pd.DataFrame:
    """Conflict rows of ranked statements (best first within each entity and attribute)."""
    several = statements.groupby(["entity_id", "attribute"], sort=False)["statement_id"].transform("size") > 1
    candidates = statements[several]
    if candidates.empty:
        return pd.DataFrame(columns=list(CONFLICT_COLUMNS))
    candidates = candidates.assign(value_key=_value_keys(candidates, vault))
    distinct = candidates.drop_duplicates(["entity_id", "attribute", "value_key"])
    counts = distinct.groupby(["entity_id", "attribute"], sort=False).size()
    disputed = counts[counts > 1]
    if disputed.empty:
        return pd.DataFrame(columns=list(CONFLICT_COLUMNS))
    index = pd.MultiIndex.from_frame(distinct[["entity_id", "attribute"]])
    best = distinct[index.isin(disputed.index)]
    index = pd.MultiIndex.from_frame(candidates[["entity_id", "attribute"]])
    held = candidates[index.isin(disputed.index)]
    keys = ["entity_id", "attribute"]
    sources = json_lists(held.drop_duplicates([*keys, "source"]).sort_values([*keys, "source"]), keys, "source")
    statement_ids = json_lists(best, keys, "statement_id")      # best first: `statements` come ranked
    types = best.groupby(["entity_id", "attribute"], sort=False)["entity_type"].first()
    out = pd.DataFrame({"entity_type": types, "distinct_values": disputed, "sources": sources,
                        "statement_ids": statement_ids}).reset_index()
    out["run_id"] = run_id
    return out[list(CONFLICT_COLUMNS)]


def write_conflicts(conn: Connection, entity_type: str, rows: pd.DataFrame,
                    entity_ids: Collection[str] | None = None) -> int:
    return replace_per_entity(conn, tables.conflict, entity_type, rows, CONFLICT_COLUMNS, COMPARED, entity_ids)


def conflict_counts(engine: Engine) -> pd.DataFrame:
    """entity_type, attribute, entities: how many entities disagree on each field."""
    c = tables.conflict.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(c.entity_type, c.attribute, sa.func.count().label("entities"))
                            .group_by(c.entity_type, c.attribute).order_by(c.entity_type, sa.func.count().desc()))
        return frame_of(rows, ["entity_type", "attribute", "entities"])


def conflict_rows(engine: Engine, entity_id: str) -> pd.DataFrame:
    c = tables.conflict.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(c.attribute, c.distinct_values, c.sources).where(c.entity_id == entity_id)
                            .order_by(c.attribute))
        return frame_of(rows, ["attribute", "distinct_values", "sources"])
