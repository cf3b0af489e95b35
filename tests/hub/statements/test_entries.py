"""Statement rows and their entries: what is stored comes back, value by value, exactly."""

from __future__ import annotations

from typing import Any

import orjson
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.statements.entries import (
    ENTRY_FIELDS,
    LONG_COLUMNS,
    ciphertext_text,
    entry_texts,
    explode,
    long_frame,
    row_id,
    row_text,
)


def encode(entries: list[tuple[Any, ...]]) -> str:
    """A row's text from whole entries, one `entry_texts` call each (the builder makes one per attribute)."""
    texts = []
    for attribute, value, enc, token, method, source_field, flags in entries:
        texts += entry_texts(attribute, [value], method=method, source_field=source_field,
                             encrypted=None if enc is None else [enc], tokens=None if token is None else [token],
                             flags=[flags])
    return row_text(texts)


ROW = ("id", "source", "source_record_id", "entity_type", "entity_ref", "statements", "raw_record_id", "run_id",
       "first_seen", "last_seen")


def test_entries_come_back_one_row_per_value_with_their_row_beside_them() -> None:
    ciphertext = b"\x01nonce\x00\x00tag\x00"                        # trailing NULs must survive
    first = encode([("name", "买买提·艾力", None, None, "mapped", "XM", None),
                    ("resident_id", None, ciphertext_text(ciphertext), "tok", "mapped", "GMSFHM", "upgraded_from_15"),
                    ("resides_at", "residence", None, None, "relation", None, None)])
    second = encode([("address", "幸福小区3栋2单元301", None, None, "mapped", "JZDZ", None)])
    rows = [(row_id("raw1", "person"), "s", "1", "person", "person", first, "raw1", "run", "t1", "t1"),
            (row_id("raw1", "residence"), "s", "1", "house", "residence", second, "raw1", "run", "t1", "t1"),
            (row_id("raw2", "person"), "s", "2", "person", "person", encode([]), "raw2", "run", "t2", "t2")]
    values = long_frame(rows, ROW)
    assert list(values.columns) == list(LONG_COLUMNS) and len(values) == 4
    assert values["attribute"].tolist() == ["name", "resident_id", "resides_at", "address"]
    assert values["entity_ref"].tolist() == ["person", "person", "person", "residence"]
    assert values.loc[1, "value_enc"] == ciphertext and values.loc[1, "value"] is None
    assert values.loc[0, "value_enc"] is None and values.loc[0, "value"] == "买买提·艾力"
    assert values.loc[1, "flags"] == "upgraded_from_15" and values.loc[2, "method"] == "relation"
    assert "买买提" in first                                           # stored as UTF-8 text, not \\u escapes
    as_text = explode(pd.DataFrame(rows, columns=list(ROW)), with_ciphertext=False)
    assert as_text.loc[1, "value_enc"] == ciphertext_text(ciphertext)


def test_no_rows_give_an_empty_frame_with_every_column() -> None:
    assert list(long_frame([], ROW).columns) == list(LONG_COLUMNS)
    assert set(ENTRY_FIELDS) <= set(explode(pd.DataFrame(columns=list(ROW))).columns)


def test_a_row_id_depends_on_the_version_and_the_entity_only() -> None:
    assert row_id("raw1", "person") == row_id("raw1", "person")
    assert len({row_id("raw1", "person"), row_id("raw2", "person"), row_id("raw1", "owner")}) == 3


TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12)   # no lone surrogates


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(TEXT, st.lists(TEXT, min_size=1, max_size=4), TEXT, st.none() | TEXT,
                          st.booleans(), st.none() | TEXT), max_size=4))
def test_entry_texts_read_back_as_the_entries_they_were_written_from(columns: list[Any]) -> None:
    # Any text, quotes, backslashes, control characters and non-ASCII included; clear and encrypted columns.
    texts, expected = [], []
    for attribute, values, method, source_field, sensitive, flag in columns:
        if sensitive:
            texts += entry_texts(attribute, [None] * len(values), method=method, source_field=source_field,
                                 encrypted=values, tokens=values[::-1], flags=[flag] * len(values))
            expected += [[attribute, None, v, t, method, source_field, flag]
                         for v, t in zip(values, values[::-1], strict=True)]
        else:
            texts += entry_texts(attribute, values, method=method, source_field=source_field,
                                 flags=[flag] * len(values))
            expected += [[attribute, v, None, None, method, source_field, flag] for v in values]
    assert orjson.loads(row_text(texts)) == expected
