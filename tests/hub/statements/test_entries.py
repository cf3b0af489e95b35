"""Statement rows and their entries: what is stored comes back, value by value, exactly."""

from __future__ import annotations

import pandas as pd

from hub.statements.entries import ENTRY_FIELDS, LONG_COLUMNS, ciphertext_text, encode, explode, long_frame, row_id

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


def test_filtered_entries_are_the_rows_a_filter_after_exploding_would_keep() -> None:
    ciphertext = b"\x02nonce\x00tag\x00"
    rows = pd.DataFrame([
        (row_id("raw1", "person"), "s", "1", "person", "person",
         encode([("name", "张伟", None, None, "mapped", "XM", None),
                 ("resident_id", None, ciphertext_text(ciphertext), "tok", "mapped", "GMSFHM", None),
                 ("flat_no", "301", None, None, "local_id", "FH", None),
                 ("resides_at", "residence", None, None, "relation", None, None)]), "raw1", "run", "t1", "t1"),
        (row_id("raw2", "person"), "s", "2", "person", "person", encode([]), "raw2", "run", "t2", "t2"),
        (row_id("raw3", "person"), "s", "3", "person", "person",
         encode([("owns", "house", None, None, "relation", None, None),
                 ("name", "李娜", None, None, "const", None, "x")]), "raw3", "run", "t3", "t3")],
        columns=list(ROW))
    every = explode(rows)
    cases = [({"attributes": {"name", "resides_at"}}, every["attribute"].isin({"name", "resides_at"})),
             ({"methods": ("relation",)}, every["method"] == "relation"),
             ({"except_methods": ("relation", "local_id")}, ~every["method"].isin(("relation", "local_id"))),
             ({"attributes": ["resident_id", "owns"], "except_methods": ["relation"]},
              (every["attribute"] == "resident_id")),
             ({"attributes": ["nothing"]}, every["attribute"] == "nothing")]
    for options, expected in cases:
        got = explode(rows, **options)
        pd.testing.assert_frame_equal(got, every[expected].reset_index(drop=True), check_index_type=False)
    assert explode(rows, except_methods=("relation",))["value_enc"].tolist() == [None, ciphertext, None, None]
    assert explode(rows, methods=("relation",))["source_record_id"].tolist() == ["1", "3"]
