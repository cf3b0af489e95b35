"""Measuring a draft against the mapping finally used: columns right with no edit, lines changed."""

from __future__ import annotations

from hub.mapping import MappingSpec
from hub.onboard import Sample, compare
from hub.onboard.measure import column_targets, lines_changed

FINAL = {
    "source": "t", "department": "civil_affairs", "title": "final",
    "connector": {"kind": "file", "settings": {"path": "x.csv"}}, "record_id": ["编号"],
    "entities": {
        "person": {"type": "person", "required": ["name"],
                   "fields": {"name": "姓名", "resident_id": {"column": "证件号码", "when": "证件类型 == 1"}}},
        "help": {"type": "situation", "fields": {"situation_type": {"const": "dibao"},
                                                 "status": {"column": "状态",
                                                            "map": {"1": "active", "2": "suspended", "3": "ended"}}}},
    },
    "relations": [{"subject": "help", "predicate": "applies_to", "object": "person"}],
}
SAMPLE = Sample(["编号", "姓名", "证件类型", "证件号码", "状态", "备注"],
                [{"编号": "1", "姓名": "张伟", "证件类型": "1", "证件号码": "650102198503071237", "状态": "1",
                  "备注": ""}],
                ["row 1"])


def _spec(**changes: object) -> MappingSpec:
    return MappingSpec.model_validate({**FINAL, **changes})


def test_a_draft_equal_to_the_final_mapping_needs_no_edit() -> None:
    final = _spec()
    renamed = _spec(entities={"p": FINAL["entities"]["person"], "s": FINAL["entities"]["help"]},   # type: ignore
                    relations=[{"subject": "s", "predicate": "applies_to", "object": "p"}])
    result = compare(renamed, final, SAMPLE)
    assert (result.columns, result.right, result.lines_changed) == (6, 6, 0)     # names are no edit
    assert column_targets(final)["证件类型"] == {"when:person.resident_id"}


def test_an_equivalent_code_table_is_right_and_a_missing_code_is_not() -> None:
    entities = FINAL["entities"]
    table = {**entities["help"], "fields": {**entities["help"]["fields"],   # type: ignore[index]
                                           "status": {"column": "状态", "map": "jinbao_status"}}}
    assert compare(_spec(entities={**entities, "help": table}), _spec(), SAMPLE).right == 6
    short = {**entities["help"], "fields": {**entities["help"]["fields"],   # type: ignore[index]
                                           "status": {"column": "状态", "map": {"1": "active"}}}}
    result = compare(_spec(entities={**entities, "help": short}), _spec(), SAMPLE)
    assert result.wrong == ["状态"] and result.lines_changed == 1           # right on the sample, not beyond it


def test_wrong_and_missing_columns_cost_lines() -> None:
    person = FINAL["entities"]["person"]
    draft = _spec(title="draft", entities={"person": {**person, "fields": {"name": "姓名", "phone": "证件号码"}}})
    result = compare(draft, _spec(), SAMPLE)
    assert set(result.wrong) == {"证件类型", "证件号码", "状态"} and result.share == 0.5
    assert lines_changed(draft, _spec()) == result.lines_changed >= 5
