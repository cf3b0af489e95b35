"""docs/data-model.md is generated from the models and must equal what the generator writes."""

import subprocess
import sys
from pathlib import Path

from schemas import Department, RelationPredicate, Sensitivity, attributes, entity_types
from schemas.docs import render_data_model_markdown

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


def test_table_rows_have_as_many_cells_as_their_header() -> None:
    widths: list[int] = []
    for line in render_data_model_markdown().splitlines():
        if not line.startswith("|"):
            widths = []
            continue
        cells = line.replace("\\|", "").count("|") - 1
        widths.append(cells)
        assert cells == widths[0], line
