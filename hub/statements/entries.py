"""The statement entries of one stored row, and the long form every reader works with.

A statement row holds what one version of a source record states about one of its entities, as a
JSON list of entries `[attribute, value, value_enc, token, method, source_field, flags]`: a clear
value, or for a sensitive attribute only its AES-GCM ciphertext (base64) and, where the model says
so, its keyed token. Relations are entries too: attribute = the predicate, value = the local name of
the object entity in the same record, method = "relation".

One row per record entity instead of one per value is what lets a district of a million records
load in bulk: about 2 million rows instead of 12 million, each index a sixth of the size
(bench/results/ingest.md). Readers explode the rows back into one row per value with `explode`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import ColumnElement, Connection

from hub.store import tables

ENTRY_FIELDS = ("attribute", "value", "value_enc", "token", "method", "source_field", "flags")
"""The fields of one entry, in their order within its JSON array."""

ROW_FIELDS = ("statement_id", "source", "source_record_id", "entity_type", "entity_ref", "raw_record_id", "run_id",
              "first_seen", "last_seen")
"""The row-level fields a long frame repeats on each of the row's entries (`statement_id` is the row id)."""

LONG_COLUMNS = (*ROW_FIELDS[:5], *ENTRY_FIELDS, *ROW_FIELDS[5:])
"""One row per value: the columns `explode` returns when given every row-level field."""

STATEMENT_COLUMNS = ("id", "source", "source_record_id", "entity_type", "entity_ref", "statements", "raw_record_id",
                  "run_id", "first_seen", "last_seen")
"""The columns of a stored statement row (hub.store.tables.statement), in the order bulk writes use."""



def row_id(raw_record_id: str, entity_ref: str) -> str:
    """A statement row's id: a hash of (raw record id, entity). No key needed: the raw record id is a keyed hash."""
    return hashlib.blake2b(f"{raw_record_id}\x1f{entity_ref}".encode(), digest_size=16).hexdigest()


def encode(entries: Sequence[Sequence[Any]]) -> str:
    """The JSON text of a row's entries (compact; Chinese kept as UTF-8, not escaped): orjson writes what
    `json.dumps(entries, ensure_ascii=False, separators=(",", ":"))` would, about seven times faster."""
    return orjson.dumps(entries).decode()


def ciphertext_text(blob: bytes) -> str:
    """How an entry carries a ciphertext inside JSON."""
    return base64.b64encode(blob).decode("ascii")


def ciphertext_bytes(text: str) -> bytes:
    return base64.b64decode(text)


def explode(rows: pd.DataFrame, *, with_ciphertext: bool = True, attributes: Collection[str] | None = None,
            methods: Collection[str] | None = None, except_methods: Collection[str] = ()) -> pd.DataFrame:
    """One row per entry of `rows` (which has a `statements` column of JSON text): the entry fields beside
    the row's other columns, repeated. `value_enc` comes back as bytes, as the old per-value table held it.

    `attributes`, `methods` (keep only entries of these) and `except_methods` (drop entries of these) filter
    the entries while they are still columns of the parsed JSON, before any row is repeated or ciphertext
    decoded: readers that drop relations or local ids, or keep a few attributes, otherwise built and threw
    away a frame of every value.
    """
    other = [c for c in rows.columns if c != "statements"]
    if rows.empty:
        return pd.DataFrame(columns=[*other, *ENTRY_FIELDS])
    parsed = list(map(orjson.loads, rows["statements"].tolist()))
    counts = np.fromiter(map(len, parsed), dtype=np.int64, count=len(parsed))
    flat = [entry for entries in parsed for entry in entries]
    del parsed
    # one object array per entry field: a JSON null stays None, as the stored value's absence, not NaN
    fields = [np.empty(len(flat), dtype=object) for _ in ENTRY_FIELDS]
    if flat:
        for i, column in enumerate(zip(*flat, strict=True)):
            fields[i][:] = column
    del flat
    keep: np.ndarray | None = None
    for field, wanted, inside in ((0, attributes, True), (4, methods, True), (4, except_methods, False)):
        if wanted is None or (not inside and not wanted):
            continue
        found = pd.Series(fields[field], dtype="object").isin(list(wanted)).to_numpy()
        found = found if inside else ~found
        keep = found if keep is None else keep & found
    positions = np.repeat(np.arange(len(rows)), counts)
    if keep is not None:
        positions = positions[keep]
        fields = [values[keep] for values in fields]
    repeated = rows[other].iloc[positions].reset_index(drop=True)
    entries = pd.DataFrame(dict(zip(ENTRY_FIELDS, fields, strict=True)), index=repeated.index, dtype=object)
    out = pd.concat([repeated, entries], axis=1)
    # value_enc as the old per-value column held it: bytes, None where a value is clear. Built as a list:
    # a list of bytes assigned through a mask goes through a numpy bytes array, which drops trailing NULs.
    decoded = ciphertext_bytes if with_ciphertext else str
    out["value_enc"] = pd.Series([None if text is None else decoded(text) for text in out["value_enc"].tolist()],
                                 index=out.index, dtype=object)
    return out


def stored_statements(conn: Connection, *criteria: ColumnElement[bool]) -> pd.DataFrame:
    """The stored statements (of the rows meeting `criteria`), one row per value in LONG_COLUMNS order:
    what lineage questions and tests read."""
    s = tables.statement.c
    query = sa.select(*(s[c] for c in STATEMENT_COLUMNS)).where(*criteria).order_by(s.id)
    return long_frame([tuple(r) for r in conn.execute(query)], STATEMENT_COLUMNS)


def long_frame(rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Statement rows as tuples (in `columns` order, `id` among them), one row per value in LONG_COLUMNS order."""
    frame = pd.DataFrame.from_records([tuple(r) for r in rows], columns=list(columns))
    frame = frame.rename(columns={"id": "statement_id"})
    return explode(frame)[list(LONG_COLUMNS)]


__all__ = ["ENTRY_FIELDS", "LONG_COLUMNS", "ROW_FIELDS", "ciphertext_bytes", "ciphertext_text", "encode", "explode",
           "long_frame", "row_id",
           "stored_statements"]
