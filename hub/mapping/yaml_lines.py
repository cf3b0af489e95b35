"""YAML loading that remembers where every key and value stood.

Operators edit mapping files by hand; an error must point at the line to fix. PyYAML's composer
keeps marks on nodes, so we build plain Python data and, beside it, a table from the path of each
key ("entities.person.fields.name") to its 1-based line. A key given twice in one mapping is kept
as a finding with both lines: YAML loaders let the last one win silently, and a mapping whose
second `name:` quietly replaces the first loads the wrong column without anyone noticing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class DuplicateKey:
    """A key repeated in one YAML mapping: where it stands (`path` ends with the key) and both lines."""

    path: Path_
    first_line: int
    line: int


@dataclass
class YamlDocument:
    """Plain data of a YAML file, the line of every key path, and the keys given twice."""

    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    duplicates: list[DuplicateKey] = field(default_factory=list)


def _construct(node: yaml.Node, path: Path_, doc: YamlDocument) -> Any:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else str(yaml.safe_load(
                yaml.serialize(key_node)))
            line = key_node.start_mark.line + 1
            if key in out:   # the first stays: its line is the one every later finding points at
                doc.duplicates.append(DuplicateKey((*path, key), doc.lines[(*path, key)], line))
                continue
            doc.lines[(*path, key)] = line
            out[key] = _construct(value_node, (*path, key), doc)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), doc) for i, item in enumerate(node.value)]
    # Scalars: let the safe loader resolve types (ints, bools, dates stay as YAML means them).
    return yaml.safe_load(yaml.serialize(node))


def load_yaml_with_lines(path: Path) -> YamlDocument:
    """Parse a YAML file into data, line table and repeated keys. Raises yaml.YAMLError with its own mark on bad
    syntax."""
    text = path.read_text(encoding="utf-8")
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    doc = YamlDocument(None)
    if node is not None:
        doc.data = _construct(node, (), doc)
    return doc


def nearest_line(lines: dict[Path_, int], loc: Path_) -> int | None:
    """The line of the deepest known prefix of a location (pydantic locations may go past the YAML)."""
    for end in range(len(loc), -1, -1):
        key = tuple(loc[:end])
        if key in lines:
            return lines[key]
    return None
