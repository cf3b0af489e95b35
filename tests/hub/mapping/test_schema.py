"""The published JSON Schema of mapping files: current, and in agreement with the loader."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from hub.mapping.code_tables import CODE_TABLE_NAMES
from hub.mapping.schema import SCHEMA_PATH, mapping_json_schema, render

ROOT = Path(__file__).resolve().parents[3]


def test_published_schema_is_current() -> None:
    published = (ROOT / SCHEMA_PATH).read_text(encoding="utf-8")
    assert published == render(), "regenerate: python -m hub.mapping.schema > schemas/mapping.schema.json"


def test_shipped_mappings_validate_against_the_schema_editors_use() -> None:
    validator = jsonschema.Draft202012Validator(json.loads((ROOT / SCHEMA_PATH).read_text(encoding="utf-8")))
    for path in sorted((ROOT / "mappings").glob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/mapping.schema.json", path.name
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8"))))
        assert not errors, (path.name, [e.message for e in errors])


def test_schema_completes_code_tables_and_flags_unknown_keys() -> None:
    schema = mapping_json_schema()
    table = next(o for o in schema["$defs"]["FieldSpec"]["properties"]["map"]["anyOf"] if o.get("type") == "string")
    assert table["enum"] == list(CODE_TABLE_NAMES)
    validator = jsonschema.Draft202012Validator(schema)
    bad = {"source": "t", "department": "grid", "connector": {"kind": "file"}, "record_id": "id",
           "entities": {"p": {"type": "person", "fields": {"name": {"colum": "姓名"}}}}}
    assert any("colum" in e.message for e in validator.iter_errors(bad))
