"""Whether two stores resolved, fused and published the same district hold the same entity output.

    python -m bench.resolve.store_equal URL_A URL_B

Compared as multisets of rows, leaving out what differs between any two runs (run ids, times, serial ids):
record links (record → canonical id and why), entities (state, merged_into, records, founding record),
the review queue, golden values, conflicts, relations, places, the read model's current rows (pub_*)
and the change feed's events. Prints one line per table (with a hash of its sorted rows) and exits 1 when any
differs. Used by bench.resolve.store_path's `--keep` runs to check that a faster store path decides exactly what
the baseline decided.
"""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from typing import Any

import sqlalchemy as sa

COMPARED: dict[str, tuple[str, ...]] = {
    "record_link": ("record_key", "entity_type", "entity_id", "score", "linked_to", "decided_by"),
    "entity": ("id", "entity_type", "state", "founding_record", "merged_into", "records"),
    "entity_change": ("entity_id", "entity_type", "change", "other_id", "detail"),
    "review_pair": ("id", "entity_type", "record_a", "record_b", "weight", "reason"),
    "golden_value": ("entity_id", "entity_type", "attribute", "value", "value_enc", "token", "statement_id",
                     "source", "statements", "sources"),
    "conflict": ("entity_id", "entity_type", "attribute", "distinct_values", "sources", "statement_ids"),
    "relation": ("id", "subject_id", "predicate", "object_id", "subject_type", "object_type", "sources",
                 "statement_ids", "valid_from", "valid_to"),
    "place": ("id", "place_type", "parent_id", "house_id", "name"),
    "pub_entity": ("entity_id", "entity_type", "state", "merged_into", "label", "records"),
    "pub_value": ("entity_id", "entity_type", "attribute", "value", "value_enc", "source", "statements", "sources"),
    "pub_key": ("kind", "key", "entity_id", "entity_type"),
    "pub_relation": ("subject_id", "predicate", "object_id", "subject_type", "object_type", "sources",
                     "valid_from", "valid_to"),
    "pub_scope": ("entity_id", "place_id", "place_type", "name"),
    "pub_claim": ("entity_id", "entity_type", "attribute", "source", "record_key", "department", "value",
                  "value_enc", "statements", "chosen"),
    "change_event": ("version", "entity_id", "entity_type", "change", "other_id", "parts", "attributes"),
}


def _norm(value: Any) -> Any:
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, float):
        return round(value, 6)
    return value


def _rows(engine: sa.Engine, table: str, columns: tuple[str, ...]) -> Counter[tuple[Any, ...]] | None:
    meta = sa.MetaData()
    try:
        t = sa.Table(table, meta, autoload_with=engine)
    except sa.exc.NoSuchTableError:
        return None
    cols = [c for c in columns if c in t.c]
    query = sa.select(*(t.c[c] for c in cols))
    if table.startswith("pub_"):
        query = query.where(t.c.until.is_(None))
    with engine.connect() as conn:
        return Counter(tuple(_norm(v) for v in row) for row in conn.execute(query))


def _digest(rows: Counter[tuple[Any, ...]]) -> str:
    """A short SHA-256 of the rows sorted (by their repr: columns mix None, text, bytes, numbers)."""
    text = "\n".join(sorted(repr(row) for row in rows.elements()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def compare(url_a: str, url_b: str) -> bool:
    a, b = sa.create_engine(url_a), sa.create_engine(url_b)
    same = True
    try:
        for table, columns in COMPARED.items():
            rows_a, rows_b = _rows(a, table, columns), _rows(b, table, columns)
            if rows_a is None or rows_b is None:
                print(f"{table}: missing in {'A' if rows_a is None else 'B'}")
                same = same and rows_a is None and rows_b is None
                continue
            equal = rows_a == rows_b
            same &= equal
            extra_a, extra_b = sum((rows_a - rows_b).values()), sum((rows_b - rows_a).values())
            print(f"{table}: {sum(rows_a.values())} rows vs {sum(rows_b.values())}: "
                  + ("same" if equal else f"DIFFER ({extra_a} only in A, {extra_b} only in B)")
                  + f", sha256 of the sorted rows {_digest(rows_a)} vs {_digest(rows_b)}", flush=True)
    finally:
        a.dispose()
        b.dispose()
    return same


if __name__ == "__main__":
    sys.exit(0 if compare(sys.argv[1], sys.argv[2]) else 1)
