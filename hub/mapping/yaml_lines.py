"""YAML loading that remembers where every key and value stood.

Operators edit mapping files by hand; an error must point at the line to fix. PyYAML's composer
keeps marks on nodes, so we build plain Python data and, beside it, a table from the path of each
key ("entities.person.fields.name") to its 1-based line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


def _construct(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else str(yaml.safe_load(
                yaml.serialize(key_node)))
            lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, (*path, key), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), lines) for i, item in enumerate(node.value)]
    # Scalars: let the safe loader resolve types (ints, bools, dates stay as YAML means them).
    return yaml.safe_load(yaml.serialize(node))


def load_yaml_with_lines(path: Path) -> tuple[Any, dict[Path_, int]]:
    """Parse a YAML file into (data, line table). Raises yaml.YAMLError with its own mark on bad syntax."""
    text = path.read_text(encoding="utf-8")
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: dict[Path_, int] = {}
    if node is None:
        return None, lines
    return _construct(node, (), lines), lines


def nearest_line(lines: dict[Path_, int], loc: Path_) -> int | None:
    """The line of the deepest known prefix of a location (pydantic locations may go past the YAML)."""
    for end in range(len(loc), -1, -1):
        key = tuple(loc[:end])
        if key in lines:
            return lines[key]
    return None
