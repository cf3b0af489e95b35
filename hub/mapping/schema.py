"""The JSON Schema of mapping files, generated from `MappingSpec`, for editors.

With the YAML language server (VS Code's YAML extension, and others), a first line
`# yaml-language-server: $schema=../schemas/mapping.schema.json` in a mapping file gives completion
of keys, the shipped code-table names and the descriptions of every key while typing. The file is
generated, never edited: `python -m hub.mapping.schema > schemas/mapping.schema.json` (a test
checks it is current).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from hub.mapping.code_tables import CODE_TABLE_NAMES
from hub.mapping.model import MappingSpec

SCHEMA_PATH = "schemas/mapping.schema.json"


def mapping_json_schema() -> dict[str, Any]:
    """The schema of a mapping file, with the code-table names as an enumeration for completion."""
    schema = MappingSpec.model_json_schema(mode="validation")
    field = schema["$defs"]["FieldSpec"]["properties"]["map"]
    for option in field["anyOf"]:
        if option.get("type") == "string":
            option["enum"] = list(CODE_TABLE_NAMES)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "Mapping file of the community data hub (mappings/*.yaml)",
    }


def render() -> str:
    return json.dumps(mapping_json_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
