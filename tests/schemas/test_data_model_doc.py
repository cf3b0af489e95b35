"""docs/data-model.md is generated from the models and must equal what the generator writes."""

import subprocess
import sys
from pathlib import Path

import pytest

from schemas import (
    ENTITY_MODELS,
    DataGrade,
    Department,
    PersonalInfo,
    RelationPredicate,
    Sensitivity,
    attr,
    attribute_spec,
    attributes,
    entity_types,
)
from schemas.common import GRADE_KEY, PERSONAL_INFO_KEY, default_grade, default_personal_info
from schemas.docs import MASK_EXAMPLES, masking_kind, render_data_model_markdown

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "data-model.md"


def test_committed_document_matches_the_models() -> None:
    assert DOC.read_text(encoding="utf-8") == render_data_model_markdown(), (
        "docs/data-model.md is stale: run `python -m schemas.docs > docs/data-model.md`"
    )


def test_generator_runs_as_a_module() -> None:
    out = subprocess.run([sys.executable, "-m", "schemas.docs"], cwd=ROOT, capture_output=True, check=True)
    assert out.stdout.decode("utf-8") == render_data_model_markdown()


def test_document_names_every_attribute_predicate_department_and_level() -> None:
    text = render_data_model_markdown()
    for entity_type in entity_types():
        assert f"(`{entity_type}`)" in text
        for name in attributes(entity_type):
            assert f"| `{name}` |" in text
    for predicate in RelationPredicate:
        assert f"| `{predicate.value}` |" in text
    for department in Department:
        assert f"{department.name_zh} {department.value}" in text
    for level in Sensitivity:
        assert f"| `{level.value}` |" in text
    assert "## Sensitivity levels" in text
    for grade in DataGrade:
        assert f"| `{grade.value}` | {grade.name_zh} |" in text
    assert "## Data grades (GB/T 43697-2024) and personal information" in text


def test_table_rows_have_as_many_cells_as_their_header() -> None:
    widths: list[int] = []
    for line in render_data_model_markdown().splitlines():
        if not line.startswith("|"):
            widths = []
            continue
        cells = line.replace("\\|", "").count("|") - 1
        widths.append(cells)
        assert cells == widths[0], line


def test_every_field_declares_a_grade_and_a_personal_information_category() -> None:
    for entity_type in entity_types():
        for name, field in ENTITY_MODELS[entity_type].model_fields.items():
            if name == "id":
                continue
            extra = field.json_schema_extra
            assert isinstance(extra, dict)
            assert DataGrade(str(extra[GRADE_KEY])) and PersonalInfo(str(extra[PERSONAL_INFO_KEY])), name
        for spec in attributes(entity_type).values():
            assert f"{spec.grade.name_zh} {spec.grade.value}" in render_data_model_markdown()
            if spec.grade is not DataGrade.general or spec.personal_info is PersonalInfo.sensitive:
                assert spec.encrypted, f"{entity_type}.{spec.name}"
    resident_id, phone = attribute_spec("person", "resident_id"), attribute_spec("person", "phone")
    assert resident_id is not None and phone is not None
    assert resident_id.grade is DataGrade.important and resident_id.personal_info is PersonalInfo.sensitive
    assert phone.grade is DataGrade.general and phone.personal_info is PersonalInfo.personal


def test_grades_default_from_sensitivity_and_wrong_declarations_are_refused() -> None:
    assert default_grade(Sensitivity.highly_sensitive) is DataGrade.important
    assert default_grade(Sensitivity.sensitive) is DataGrade.general
    assert default_personal_info(Sensitivity.sensitive) is PersonalInfo.sensitive
    assert default_personal_info(Sensitivity.public) is PersonalInfo.none
    departments = (Department.grid,)
    with pytest.raises(ValueError, match="重要数据 but internal values are not encrypted"):
        attr("x", sensitivity=Sensitivity.internal, authority=departments, normalizer="text",
             grade=DataGrade.important)
    with pytest.raises(ValueError, match="敏感个人信息 but public values are not encrypted"):
        attr("x", sensitivity=Sensitivity.public, authority=departments, normalizer="text",
             personal_info=PersonalInfo.sensitive)


def test_the_masking_column_is_what_present_does_below_clearance() -> None:
    """The document's "below clearance" column against hub.protect.present at the lowest clearance."""
    from hub.protect import present

    samples = {"resident_id": "650102199001011234", "phone": "13812345678", "name": "张伟明"}
    for entity_type in entity_types():
        for spec in attributes(entity_type).values():
            kind = masking_kind(spec)
            shown, mode = present(entity_type, spec.name, samples.get(kind, "some value"), Sensitivity.public)
            if kind == "clear":
                assert mode == "clear", spec.name
            elif kind == "withheld":
                assert (shown, mode) == (None, "withheld"), spec.name
            else:
                assert (shown, mode) == (MASK_EXAMPLES[kind], "masked"), spec.name
