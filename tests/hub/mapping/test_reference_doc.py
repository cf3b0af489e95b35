"""docs/mapping-reference.md documents what the language has, and its example loads."""

from __future__ import annotations

import re
from pathlib import Path

from hub.mapping import MappingSpec, load_mapping
from hub.mapping.code_tables import CODE_TABLE_NAMES
from hub.mapping.conditions import OPERATORS
from hub.mapping.model import DateHints, FieldSpec
from hub.mapping.parts import ROLES

DOC = (Path(__file__).resolve().parents[3] / "docs" / "mapping-reference.md").read_text(encoding="utf-8")


def test_every_key_table_role_and_operator_is_documented() -> None:
    names = [*MappingSpec.model_fields, *FieldSpec.model_fields, *DateHints.model_fields, *CODE_TABLE_NAMES,
             *ROLES, *OPERATORS]
    missing = [name for name in names if f"`{name}`" not in DOC and f"{name}:" not in DOC]
    assert not missing


def test_the_complete_example_loads(tmp_path: Path) -> None:
    example = re.search(r"## A complete example.*?```yaml\n(.*?)```", DOC, re.S)
    assert example is not None
    path = tmp_path / "example.yaml"
    path.write_text(example.group(1), encoding="utf-8")
    spec = load_mapping(path)
    assert spec.source == "canlian_disabled" and len(spec.entities) == 4
