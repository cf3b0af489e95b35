"""What `suggest` makes of who a row's organizations and houses are to the person, of dates, local numbers and
codes a table lacks: on exports the generator in unseen.py builds (never the demo's), one per department."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.mapping import load_mapping
from hub.mapping.loader import parse_mapping
from hub.onboard import Draft, check_mapping, locate_file, render, suggest_mapping
from tests.hub.onboard.unseen import DISTRICT_CODE, PLACEHOLDERS, Export, generate

CIVIL_AFFAIRS, SOCIAL_INSURANCE, PROPERTY, PUBLIC_SECURITY = 1, 2, 3, 0
"""Export numbers of the seeded series, by department (index % 4)."""


def _draft(tmp_path: Path, index: int, vocabulary: str = "tuned") -> tuple[Export, Draft, Path]:
    export = generate(tmp_path, index, seed=11, rows=80, vocabulary=vocabulary)
    ref = locate_file(export.path, base_dir=tmp_path)
    draft = suggest_mapping(ref, ref.sample(500), source_id=export.final.source, district_code=DISTRICT_CODE)
    path = export.path.with_suffix(".draft.yaml")
    path.write_text(render(draft), encoding="utf-8")
    return export, draft, path


def _entity(draft: Draft, entity_type: str, column: str) -> tuple[str, dict[str, object]]:
    """The local name and fields of the entity of a type that reads a column."""
    for entity in draft.entities:
        if entity.type == entity_type and any(column in f.columns for f in entity.fields):
            return entity.name, {f.attribute: f.spec for f in entity.fields}
    raise AssertionError(f"no {entity_type} reads {column}")


@pytest.mark.parametrize("vocabulary", ["tuned", "held_out_a"])
def test_a_welfare_rosters_organization_is_the_care_institution(tmp_path: Path, vocabulary: str) -> None:
    export, draft, _ = _draft(tmp_path, CIVIL_AFFAIRS, vocabulary)
    care = export.final.entities["care_home"]
    name_column, code_column = care.fields["name"].column, care.fields["credit_code"].column
    assert name_column is not None and code_column is not None
    local, fields = _entity(draft, "organization", name_column)
    assert fields["credit_code"] == {"column": code_column}              # one organization, named and coded
    assert ("person", "cared_for_by", local) in draft.triples and not any(p == "employed_by" for _, p, _ in
                                                                          draft.triples)
    entity = draft.entity(local)
    assert entity is not None and entity.when == [f"{name_column} is not blank"]


def test_placeholders_in_an_employer_column_become_a_written_condition(tmp_path: Path) -> None:
    export, draft, _ = _draft(tmp_path, SOCIAL_INSURANCE)
    column = export.final.entities["employer"].fields["name"].column
    local, _ = _entity(draft, "organization", str(column))
    entity = draft.entity(local)
    assert entity is not None and entity.when == [f"{column} is not blank",
                                                  f"{column} not in ({', '.join(PLACEHOLDERS)})"]
    assert "say there is no employer (not an organization)" in entity.note
    assert ("person", "employed_by", local) in draft.triples
    assert set(entity.local_ids) == {"employer_no"}                       # AAB001 / 单位编号: a local id


def test_a_code_the_table_lacks_is_proposed_and_check_passes_on_the_unchanged_draft(tmp_path: Path) -> None:
    export, draft, path = _draft(tmp_path, SOCIAL_INSURANCE)          # 金保 codes: AAC008 holds '4'
    assert export.style == "jb"
    _, fields = _entity(draft, "situation", "AAC008")
    assert fields["status"] == {"column": "AAC008", "map": {"1": "active", "2": "suspended", "3": "ended",
                                                            "4": "ended"}}
    assert fields["start_date"] == {"column": "AAC030"}                     # insured since: the situation's start
    insurance = next(e for e in draft.entities if e.type == "situation")
    assert "which jinbao_status lacks" in insurance.fields[1].evidence and "confirm it" in insurance.fields[1].evidence
    spec, lines = parse_mapping(path)
    findings = check_mapping(spec, lines, locate_file(export.path, base_dir=tmp_path).sample(500), file=path.name)
    assert not [f for f in findings if f.level == "error"], findings


def test_aae006_of_a_person_export_is_the_persons_address(tmp_path: Path) -> None:
    _, draft, _ = _draft(tmp_path, SOCIAL_INSURANCE)
    person = draft.entity("person")
    assert person is not None and person.field("residence_address") is not None
    assert _entity(draft, "house", "AAE006")[1]["address"] == {"column": "AAE006"}


def test_a_property_export_says_owns_or_rents_per_row_and_names_the_property_company(tmp_path: Path) -> None:
    export, draft, _ = _draft(tmp_path, PROPERTY)
    role = next(c.column for r in export.final.relations for c in r.when)
    whens = {(s, p, o): w for s, p, o, w in draft.relations}
    assert whens[("person", "owns", "house")] == f"{role} == 业主"
    assert whens[("person", "rents", "house")] == f"{role} == 租户"
    company = export.final.entities["property_company"].fields["name"].column
    local, fields = _entity(draft, "organization", str(company))
    assert ("person", "served_by", local) in draft.triples and "credit_code" in fields
    house = draft.entity("house")
    assert house is not None and set(house.local_ids) == {"flat_no"}        # the flat number: a local id
    move_in, event = _entity(draft, "event", str(export.final.entities["move_in"].fields["occurred_at"].column))
    assert event["event_type"] == {"const": "move_in"}
    assert {(move_in, "concerns", "person"), (move_in, "located_at", "house")} <= draft.triples
    assert "residence_address" not in {f.attribute for f in draft.entities[0].fields}   # owned is not lived in


def test_a_household_register_address_is_a_registered_at_house_and_registration_an_event(tmp_path: Path) -> None:
    export, draft, _ = _draft(tmp_path, PUBLIC_SECURITY)
    hukou = export.final.entities["person"].fields["hukou_address"].column
    local, fields = _entity(draft, "house", str(hukou))
    assert ("person", "registered_at", local) in draft.triples
    assert "district_code" not in fields                  # a 户籍 may lie anywhere: no district constant
    registration, event = _entity(draft, "event", str(export.final.entities["registration"].fields["occurred_at"]
                                                       .column))
    assert event["event_type"] == {"const": "registration"}
    assert (registration, "concerns", "person") in draft.triples
    assert not any(s == registration and p == "located_at" for s, p, _ in draft.triples)


def test_a_business_id_is_not_called_a_row_number_and_reasons_are_sentences(tmp_path: Path) -> None:
    export, draft, path = _draft(tmp_path, CIVIL_AFFAIRS)
    assert draft.record_id == export.final.record_id
    assert "row number" not in draft.notes["record_id"]
    text = path.read_text(encoding="utf-8")
    assert "None" not in text and "no None" not in text
    for _, why in draft.unplaced:
        assert why[0].isalpha() and " None " not in why
    load_mapping(path)


def test_an_organization_the_person_belongs_to_is_member_of(tmp_path: Path) -> None:
    rows = ["序号,居民姓名,联系方式,所在党支部",
            *(f"{i},张{'伟芳娜敏静'[i % 5]},1390000{i:04d},天山区幸福路社区第{i % 3 + 1}党支部" for i in range(1, 31))]
    path = tmp_path / "党员名册.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    ref = locate_file(path, base_dir=tmp_path)
    draft = suggest_mapping(ref, ref.sample(100))
    local, fields = _entity(draft, "organization", "所在党支部")
    assert fields["name"] == {"column": "所在党支部"} and ("person", "member_of", local) in draft.triples


def test_a_door_log_has_a_person_only_where_the_id_number_is_filled(tmp_path: Path) -> None:
    import random

    from stdnum.cn import ric

    rng = random.Random(5)
    lines = ["姓名,身份证号,刷卡时间,门禁编号"]
    for i in range(60):
        body = f"650102{1950 + i % 50}0{1 + i % 9}1{i % 10}{rng.randrange(100, 999)}"
        number = body + ric.calc_check_digit(body + "0") if i % 4 else ""      # a visitor gives a name only
        lines.append(f"{rng.choice('王李张刘')}{rng.choice('伟芳敏静')},{number},2026-03-0{1 + i % 9} 08:{i:02d}:00,"
                     f"MJ0{i % 3}")
    (tmp_path / "door.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ref = locate_file(tmp_path / "door.csv", base_dir=tmp_path)
    draft = suggest_mapping(ref, ref.sample(500), source_id="door", district_code=DISTRICT_CODE)
    person = next(e for e in draft.entities if e.type == "person")
    assert person.when == ["身份证号 is not blank"]
