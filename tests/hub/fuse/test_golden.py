"""Golden records: survivorship by authority, then recency, then quality; every statement kept behind."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import sqlalchemy as sa
import yaml

from hub.fuse.golden import golden_values, statements_behind
from hub.fuse.statements import COLUMNS, ranked
from hub.mapping import MappingSpec
from hub.pipeline import Hub, resolve
from hub.resolve.store import link_rows
from hub.store import tables
from tests.hub.fuse.world import MAPPINGS, ROWS, ZHANG, change_rows

SPECS = [MappingSpec.model_validate(yaml.safe_load(text)) for text in MAPPINGS.values()]
OLD, MID, NEW = datetime(2026, 1, 1), datetime(2026, 2, 1), datetime(2026, 3, 1)


def statement(sid: str, source: str, value: str, seen: datetime, *, attribute: str = "name", method: str = "mapped",
              flags: str | None = None, entity: str = "P-1") -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(COLUMNS)
    row.update(statement_id=sid, entity_id=entity, entity_type="person", source=source, source_record_id="1",
               entity_ref="person", attribute=attribute, value=value, method=method, flags=flags,
               first_seen=seen, last_seen=seen, current=True)
    return row


def winner(*rows: dict[str, object]) -> str:
    golden = golden_values(ranked(pd.DataFrame(list(rows)), SPECS), "run")
    return str(golden.loc[0, "statement_id"])


def test_the_authoritative_source_wins_over_a_newer_one() -> None:
    # phone: t_property's mapping is authoritative; the register (公安) is not even listed for phones
    assert winner(statement("register", "t_register", "1", NEW, attribute="phone"),
                  statement("property", "t_property", "2", OLD, attribute="phone")) == "property"
    # name: the register's mapping is authoritative
    assert winner(statement("welfare", "t_welfare", "张玮", NEW), statement("register", "t_register", "张伟", OLD)) \
        == "register"


def test_department_rank_from_schemas_decides_between_non_authoritative_mappings() -> None:
    # residence_address: authority (grid, public_security) in schemas/; civil affairs is not listed
    assert winner(statement("welfare", "t_welfare", "b", NEW, attribute="residence_address"),
                  statement("register", "t_register", "a", OLD, attribute="residence_address")) == "register"


def test_recency_then_quality_break_ties() -> None:
    assert winner(statement("old", "t_welfare", "a", OLD), statement("new", "t_welfare", "b", NEW)) == "new"
    assert winner(statement("flagged", "t_welfare", "a", MID, flags="upgraded_from_15"),
                  statement("clean", "t_welfare", "b", MID)) == "clean"
    assert winner(statement("derived", "t_welfare", "a", MID, method="derived"),
                  statement("mapped", "t_welfare", "b", MID)) == "mapped"
    assert winner(statement("b", "t_welfare", "x", MID), statement("a", "t_welfare", "x", MID)) == "a"   # stable


def test_golden_value_counts_every_statement_and_source_behind_it() -> None:
    golden = golden_values(ranked(pd.DataFrame([
        statement("1", "t_register", "张伟", OLD), statement("2", "t_welfare", "张玮", NEW),
        statement("3", "t_welfare", "张伟", NEW), statement("4", "t_register", "x", OLD, entity="P-2")]), SPECS), "r")
    by_entity = golden.set_index("entity_id")
    assert by_entity.loc["P-1", "statements"] == 3 and by_entity.loc["P-1", "sources"] == 2
    assert by_entity.loc["P-1", "value"] == "张伟" and by_entity.loc["P-1", "statement_id"] == "1"
    assert by_entity.loc["P-2", "statements"] == 1


def _golden(hub: Hub, entity_id: str) -> dict[str, dict[str, object]]:
    g = tables.golden_value.c
    with hub.engine.connect() as conn:
        rows = conn.execute(sa.select(g.attribute, g.value, g.value_enc, g.token, g.source, g.statements, g.sources,
                                      g.statement_id).where(g.entity_id == entity_id)).mappings().all()
    return {str(r["attribute"]): dict(r) for r in rows}


def _zhang(hub: Hub) -> str:
    return str(link_rows(hub.engine, ["t_register|R1|person"])["entity_id"].iloc[0])


def test_golden_records_of_the_world_follow_the_authorities_and_stay_encrypted(world: Hub) -> None:
    golden = _golden(world, _zhang(world))
    assert golden["name"]["value"] == "张伟" and golden["name"]["source"] == "t_register"   # welfare wrote 张玮
    assert golden["name"]["statements"] == 3 and golden["name"]["sources"] == 3
    phone = golden["phone"]
    assert phone["value"] is None and phone["token"] is not None and phone["source"] == "t_property"
    assert world.vault.decrypt_text(bytes(phone["value_enc"])) == "13700137000"   # property beats the register
    assert world.vault.decrypt_text(bytes(golden["resident_id"]["value_enc"])) == ZHANG
    behind = statements_behind(world.engine, SPECS, _zhang(world), "phone")
    assert sorted(behind["source"]) == ["t_property", "t_register", "t_welfare"]
    assert behind["winner"].sum() == 1 and behind.loc[behind["winner"], "statement_id"].item() == phone["statement_id"]


def test_a_new_version_of_a_record_replaces_its_old_values(world: Hub) -> None:
    rows = [r[:] for r in ROWS["register.csv"]]
    rows[1][5] = "13811112222"            # the register's phone for 张伟 changes
    rows[1][6] = "明珠花园3号楼2单元1503室"
    change_rows(world, "register.csv", rows)
    resolve(world)
    golden = _golden(world, _zhang(world))
    assert golden["residence_address"]["value"] == "明珠花园3号楼2单元1503室"
    behind = statements_behind(world.engine, SPECS, _zhang(world), "phone")
    clear = sorted(world.vault.decrypt_text(bytes(v)) for v in behind["value_enc"])
    assert clear == ["13700137000", "13700137000", "13811112222"]     # the old register phone is history now
