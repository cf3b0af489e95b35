"""The fifth department, 残联, onboarded as an operator would: suggest → a scripted small edit → check → ingest,
with counts reconciled against the generator's truth. The edited draft is the mapping shipped in mappings/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from hub.demo import DemoManifest
from hub.demo.canlian import WORKBOOK
from hub.mapping import load_mapping
from hub.mapping.loader import parse_mapping
from hub.onboard import check_mapping, compare, locate_file, mapping_sample, render, suggest_mapping
from hub.pipeline import Hub, ingest
from hub.protect import new_key_text
from hub.settings import HubSettings
from hub.statements.entries import stored_statements
from hub.store import tables

SHIPPED = Path(__file__).resolve().parents[3] / "mappings" / "canlian_disabled.yaml"
TITLE = "title: 残联持证残疾人信息 (disability certificate holders, Excel export)"
STATUS = "status: {column: 人员状态, map: {正常: active, 暂停: suspended, 迁出注销: ended, 死亡注销: ended}}"


def operator_edit(draft: str) -> str:
    """What the operator changed: the title, the full list of certificate states (the sample had no
    死亡注销 row, so the draft's map could not hold it), and, the review done, the draft's status to ready."""
    edited = re.sub(r"(?m)^status: draft .*$", "status: ready", draft)
    edited = re.sub(r"(?m)^title: .*$", TITLE, edited)
    return re.sub(r"status: \{column: 人员状态, map: \{[^}]*\}\}", STATUS, edited)


@pytest.fixture
def hub(district: DemoManifest, tmp_path: Path) -> Iterator[Hub]:
    (tmp_path / "mappings").mkdir()
    settings = HubSettings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'hub.db'}",
                           secret_key=new_key_text(), mappings_dir=tmp_path / "mappings", sources_dir=district.out_dir)
    hub = Hub.open(settings)
    yield hub
    hub.engine.dispose()


def test_suggest_edit_check_ingest(district: DemoManifest, hub: Hub) -> None:
    settings = hub.settings
    assert settings.sources_dir is not None
    # 1. suggest: the operator gives the file, the source id and the district; the rest is guessed
    ref = locate_file(settings.sources_dir / "canlian" / WORKBOOK, base_dir=settings.sources_dir)
    sample = ref.sample(500)
    draft = suggest_mapping(ref, sample, source_id="canlian_disabled", district_code="650102")
    path = settings.mappings_dir / "canlian_disabled.yaml"
    text = render(draft)
    path.write_text(text, encoding="utf-8")
    as_suggested = load_mapping(path)
    shipped = load_mapping(SHIPPED)
    before = compare(as_suggested, shipped, sample)
    assert before.share >= 0.9 and before.lines_changed <= 3, (before.wrong, before.lines_changed)
    assert as_suggested.department == "disabled_persons_federation" and as_suggested.dates.order == "dmy"
    assert as_suggested.record_id == ["序号"]      # 残疾人证号 is unique, but it carries the holder's ID number
    assert any(c == "残疾人证号" and "stored in clear" in why for c, why in draft.unplaced)
    # 2. the scripted small edit
    path.write_text(operator_edit(text), encoding="utf-8")
    # 3. check against the source: no error
    spec, lines = parse_mapping(path)
    findings = check_mapping(spec, lines, mapping_sample(spec, settings, 1000), file=str(path))
    assert not [f for f in findings if f.level == "error"], findings
    after = compare(spec, shipped, sample)
    assert (after.share, after.lines_changed) == (1.0, 0)            # the edited draft is the shipped mapping
    # 4. ingest, reconciled with the export and its truth
    [result] = ingest(hub)
    assert result.status == "succeeded", result.error
    truth = pd.read_csv(district.truth_dir / "records.csv", dtype=str, keep_default_na=False)
    truth = truth[truth["source"] == "canlian_disabled"]
    assert result.extracted == district.record_counts["canlian_disabled"] == truth["source_record_id"].nunique()
    assert result.reconciled and result.loaded + result.quarantined == result.extracted
    with hub.engine.connect() as conn:
        quarantine = conn.execute(select(tables.quarantine.c.source_record_id, tables.quarantine.c.field)).all()
        statements = stored_statements(conn, tables.statement.c.entity_ref == "person")
    people = [(r,) for r in statements.loc[statements["attribute"] == "name", "source_record_id"]]
    passports = set(truth.loc[truth["dirt"].str.contains("id_passport"), "source_record_id"])
    assert passports and not {r for r, f in quarantine if f == "证件号码"} & passports   # `when` kept them out
    broken_names = set(truth.loc[truth["dirt"].str.contains("broken_name"), "source_record_id"])
    assert {r for (r,) in people} == set(truth["source_record_id"]) - broken_names
