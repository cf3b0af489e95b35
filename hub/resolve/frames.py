"""Record frames: one row per source record entity, one column per canonical attribute.

Resolution works on columns, not on statements: this module reads the statement rows once per
entity type, explodes them into one row per value and pivots that, so the engine (pure functions on
DataFrames) never touches the store.
A record can state an attribute twice (a birth date mapped from its own column and derived from
the ID number); the mapped value wins over a constant, a constant over a derived one, and the
latest over older ones. Persons also get the parts of the house the same record places them in
(resides_at, then owns, then rents), because a person's address is evidence only at house level.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

from hub.protect import Vault
from hub.quality.gate import QUALITY, visible
from hub.statements.entries import ciphertext_bytes, explode
from hub.store.frames import by_record, frame_of
from hub.store.tables import statement

RECORD_KEY = "record_key"
SOURCE = "source"
HOUSE_PARTS = ("estate", "building", "unit", "room")
"""Columns `house_estate`, `house_building`, … on person frames."""
HOUSE_PREDICATES = ("resides_at", "owns", "rents")
"""Relations placing a person in a house, strongest first."""
MATCH_ATTRIBUTES = {
    "person": ("name", "resident_id", "resident_id_unchecked", "resident_id_masked", "resident_id_prefix14",
               "birth_date", "gender", "phone"),
}
"""What resolution reads of an entity type: passing these as `attributes` keeps a large frame small
(a district of 500,000 holds some 30 million statements, most of them addresses and codes)."""
_METHOD_RANK = {"mapped": 0, "const": 1, "derived": 2, "relation": 3}


def record_keys(sources: pd.Series, record_ids: pd.Series, entity_refs: pd.Series) -> pd.Series:
    """`source|source_record_id|entity_ref`: the key every resolution output is indexed by."""
    return sources.astype(str) + "|" + record_ids.astype(str) + "|" + entity_refs.astype(str)


READ_CHUNK = 50_000
"""Statement rows (record entities, some six values each) turned into a frame at a time: each chunk is
exploded, filtered, decrypted and its strings shared before the next is fetched, so a district's tens
of millions of values never sit in memory as row tuples."""
_READ_ROW = ["source", "source_record_id", "entity_type", "entity_ref", "statements", "last_seen"]
_READ_COLUMNS = ["source", "source_record_id", "entity_type", "entity_ref", "attribute", "value", "method",
                 "last_seen"]


def _read(engine: Engine, vault: Vault, entity_types: Iterable[str], sources: Iterable[str] | None,
          attributes: Iterable[str] | None, records: Collection[tuple[str, str]] | None = None) -> pd.DataFrame:
    """Statements, one row per value, with clear values (encrypted ones decrypted), chunk by chunk; with
    `records`, only those source records' (looked up through the source record index)."""
    s = statement.c
    query = sa.select(s.source, s.source_record_id, s.entity_type, s.entity_ref, s.statements,
                      s.last_seen).where(s.entity_type.in_(list(entity_types)), visible(s.raw_record_id, [QUALITY]))
    if sources is not None:
        query = query.where(s.source.in_(list(sources)))
    wanted = None if attributes is None else {*attributes, *HOUSE_PREDICATES, *HOUSE_PARTS}
    chunks = []
    queries = [query] if records is None else [query.where(w) for w in by_record(s.source, s.source_record_id,
                                                                                   records)]
    with engine.connect() as conn:
        for one in queries:
            result = conn.execution_options(stream_results=True, yield_per=READ_CHUNK).execute(one)
            for part in result.partitions():
                chunk = explode(frame_of(part, _READ_ROW), with_ciphertext=False, attributes=wanted)
                chunk["value"] = _clear_values(chunk, vault)
                chunks.append(shared_strings(chunk[_READ_COLUMNS]))
    if not chunks:
        return pd.DataFrame(columns=_READ_COLUMNS)
    return shared_strings(pd.concat(chunks, ignore_index=True)) if len(chunks) > 1 else chunks[0]


def _clear_values(rows: pd.DataFrame, vault: Vault) -> pd.Series:
    """The value column with encrypted values (base64 ciphertext in `value_enc`) decrypted in place."""
    values = rows["value"].astype(object).copy()
    encrypted = rows["value_enc"].notna().to_numpy()
    if encrypted.any():
        decrypt = vault.decrypt_text
        values[encrypted] = [decrypt(ciphertext_bytes(text)) for text in rows.loc[encrypted, "value_enc"]]
    return values


def _latest(rows: pd.DataFrame) -> pd.DataFrame:
    """One value per (record, attribute): mapped before const before derived, then newest, then smallest."""
    rank = rows["method"].map(_METHOD_RANK).fillna(9)
    ordered = rows.assign(_rank=rank).sort_values(
        ["record_key", "attribute", "_rank", "last_seen", "value"], ascending=[True, True, True, False, True],
        kind="stable")
    return ordered.drop_duplicates(["record_key", "attribute"], keep="first")


def _pivot(rows: pd.DataFrame) -> pd.DataFrame:
    wide = rows.pivot(index="record_key", columns="attribute", values="value")
    wide.columns.name = None
    sources = rows.drop_duplicates("record_key").set_index("record_key")["source"]
    wide.insert(0, SOURCE, sources.reindex(wide.index))
    return wide.reset_index()


def _house_parts(rows: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    """house_estate … house_room for each person row, through the strongest house relation of its record."""
    relations = rows[(rows["entity_type"] == "person") & rows["attribute"].isin(HOUSE_PREDICATES)]
    relations = relations.assign(
        _rank=relations["attribute"].map({p: i for i, p in enumerate(HOUSE_PREDICATES)}),
        house_key=record_keys(relations["source"], relations["source_record_id"], relations["value"]),
    )[["record_key", "_rank", "house_key"]]
    houses = rows[(rows["entity_type"] == "house") & rows["attribute"].isin(HOUSE_PARTS)]
    # a record placing the person nowhere but naming one house (a vehicle's or a ticket's) lends it
    record_of = persons[RECORD_KEY].str.rsplit("|", n=1).str[0]
    house_record = houses.drop_duplicates("record_key")
    by_record = house_record.assign(record=house_record["record_key"].str.rsplit("|", n=1).str[0])
    sole = by_record[~by_record["record"].duplicated(keep=False)].set_index("record")["record_key"]
    lent = pd.DataFrame({"record_key": persons[RECORD_KEY], "_rank": len(HOUSE_PREDICATES),
                         "house_key": record_of.map(sole).to_numpy()}).dropna()
    relations = pd.concat([relations, lent]).sort_values(["record_key", "_rank"], kind="stable")
    relations = relations.drop_duplicates("record_key")
    house_wide = houses.pivot(index="record_key", columns="attribute", values="value")
    house_wide = house_wide.reindex(columns=list(HOUSE_PARTS)).add_prefix("house_")
    joined = relations[["record_key", "house_key"]].merge(
        house_wide, left_on="house_key", right_index=True, how="left").drop(columns="house_key")
    return persons.merge(joined, on=RECORD_KEY, how="left")


def entity_frame(engine: Engine, vault: Vault, entity_type: str, *, sources: Iterable[str] | None = None,
                 attributes: Iterable[str] | None = None,
                 records: Collection[tuple[str, str]] | None = None) -> pd.DataFrame:
    """The record frame of one entity type: `record_key`, `source`, then one column per attribute.

    `sources` limits the frame to some sources (a benchmark leaving out door events, say);
    `attributes` to some attributes (MATCH_ATTRIBUTES: what resolution compares), all by default;
    `records` to some (source, source_record_id) records (what an increment reads).
    Relation attributes (owns, employed_by …) are left out: their values are local entity names.
    """
    wanted = [entity_type, "house"] if entity_type == "person" else [entity_type]
    rows = _read(engine, vault, wanted, list(sources) if sources is not None else None,
                 list(attributes) if attributes is not None else None, records)
    columns = [RECORD_KEY, SOURCE]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows["record_key"] = record_keys(rows["source"], rows["source_record_id"], rows["entity_ref"])
    rows = _latest(rows)
    own = rows[(rows["entity_type"] == entity_type) & (rows["method"] != "relation")]
    frame = _pivot(own) if not own.empty else pd.DataFrame(columns=columns)
    if entity_type == "person":
        frame = _house_parts(rows, frame)
    return shared_strings(frame.sort_values(RECORD_KEY, kind="stable").reset_index(drop=True))


def shared_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with one string object per distinct value of each text column (dtypes unchanged).

    Rows read from the store carry their own copy of every value: "gongan_population" or a
    birth date is then stored once per record, not once per district. Sharing them cuts a large
    frame's memory by a third or more (and pickles share them too), which is what keeps the
    resolution of a million-resident district within a few gigabytes.
    """
    out = frame.copy(deep=False)
    for column in frame.columns:
        values = frame[column]
        if not (values.dtype == object or isinstance(values.dtype, pd.StringDtype)):
            continue
        codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
        table = np.append(np.asarray(uniques, dtype=object), [None])
        shared = pd.Series(table[codes], index=frame.index, dtype=object)
        out[column] = shared if values.dtype == object else shared.astype(values.dtype)
    return out
