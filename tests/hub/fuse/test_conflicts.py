"""Conflicts: disagreeing values of one entity counted per field; equal values written differently are not."""

from __future__ import annotations

import json
import os
from datetime import datetime

import pandas as pd

from hub.fuse import conflict_counts
from hub.fuse.conflicts import conflicts
from hub.fuse.statements import COLUMNS
from hub.pipeline import Hub
from hub.protect import Vault

VAULT = Vault(os.urandom(32))
SEEN = datetime(2026, 1, 1)


def statement(sid: str, attribute: str, *, value: str | None = None, secret: str | None = None,
              tokenized: bool = False, source: str = "a", entity: str = "P-1") -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(COLUMNS)
    row.update(statement_id=sid, entity_id=entity, entity_type="person", source=source, attribute=attribute,
               value=value, method="mapped", first_seen=SEEN, last_seen=SEEN, current=True)
    if secret is not None:
        row["value_enc"] = VAULT.encrypt_text(secret)
        row["token"] = VAULT.token(secret) if tokenized else None
    return row


def disputes(*rows: dict[str, object]) -> pd.DataFrame:
    return conflicts(pd.DataFrame(list(rows)), VAULT, "run").set_index(["entity_id", "attribute"])


def test_two_phones_are_a_conflict_one_phone_twice_is_not() -> None:
    out = disputes(statement("1", "phone", secret="13800138000", tokenized=True, source="a"),
                   statement("2", "phone", secret="13700137000", tokenized=True, source="b"),
                   statement("3", "phone", secret="13800138000", tokenized=True, source="c"),
                   statement("4", "phone", secret="13900139000", tokenized=True, entity="P-2"),
                   statement("5", "phone", secret="13900139000", tokenized=True, entity="P-2", source="b"))
    row = out.loc[("P-1", "phone")]
    assert row["distinct_values"] == 2
    assert json.loads(row["sources"]) == ["a", "b", "c"] and json.loads(row["statement_ids"]) == ["1", "2"]
    assert ("P-2", "phone") not in out.index


def test_encrypted_values_without_token_are_compared_by_content() -> None:
    out = disputes(statement("1", "ethnicity", secret="01"), statement("2", "ethnicity", secret="01", source="b"),
                   statement("3", "marital_status", secret="married"),
                   statement("4", "marital_status", secret="divorced", source="b"))
    assert list(out.index) == [("P-1", "marital_status")]
    assert "married" not in out.to_string() and "divorced" not in out.to_string()


def test_addresses_naming_the_same_house_agree() -> None:
    out = disputes(statement("1", "residence_address", value="明珠花园3号楼2单元1502室"),
                   statement("2", "residence_address", value="天山区和平北路1号明珠花园3号楼2单元1502室", source="b"),
                   statement("3", "hukou_address", value="明珠花园3号楼2单元1502室"),
                   statement("4", "hukou_address", value="明珠花园3号楼2单元1503室", source="b"))
    assert list(out.index) == [("P-1", "hukou_address")]


def test_the_world_counts_its_disagreements_per_field(world: Hub) -> None:
    counts = conflict_counts(world.engine).set_index(["entity_type", "attribute"])["entities"].to_dict()
    # 张伟: 张玮 in welfare; phones 13800138000 (register) / 13700137000 (welfare, property). Addresses agree.
    assert counts == {("person", "name"): 1, ("person", "phone"): 1}
