"""A draft mapping and its YAML text, every line carrying its confidence and evidence as a comment.

The text loads as an ordinary mapping file (the comments are YAML comments), so the operator edits
it in place; `render(draft, comments=False)` gives the bare form used to count the lines an operator
changed between a draft and the mapping finally used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

SCHEMA_LINE = "# yaml-language-server: $schema={schema}"
_FIELD_KEYS = ("column", "columns", "join", "parts", "const", "map", "when", "normalize", "default")
_UNSAFE = set(",[]{}:#&*!|>'\"%@`?") | {"\t"}
COMMENT_AT = 60


@dataclass
class DraftField:
    attribute: str
    spec: dict[str, Any]                 # the FieldSpec content, as the YAML holds it
    confidence: float = 1.0
    evidence: str = ""

    @property
    def columns(self) -> list[str]:
        if "column" in self.spec:
            return [self.spec["column"]]
        if "parts" in self.spec:
            return list(self.spec["parts"].values())
        return list(self.spec.get("columns", []))


@dataclass
class DraftEntity:
    name: str
    type: str
    role: str = ""
    fields: list[DraftField] = field(default_factory=list)
    required: list[str] = field(default_factory=list)
    when: str = ""
    note: str = ""

    def field(self, attribute: str) -> DraftField | None:
        return next((f for f in self.fields if f.attribute == attribute), None)


@dataclass
class Draft:
    source: str
    department: str
    connector: dict[str, Any]
    record_id: list[str]
    title: str = ""
    entities: list[DraftEntity] = field(default_factory=list)
    relations: list[tuple[str, str, str]] = field(default_factory=list)
    authority: list[str] = field(default_factory=list)
    dates: dict[str, Any] | None = None
    notes: dict[str, str] = field(default_factory=dict)        # top-level key → comment
    unplaced: list[tuple[str, str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    origin: str = ""

    def entity(self, name: str) -> DraftEntity | None:
        return next((e for e in self.entities if e.name == name), None)

    def data(self) -> dict[str, Any]:
        """The mapping as plain data (what the YAML text loads to)."""
        out: dict[str, Any] = {"source": self.source, "department": self.department}
        if self.title:
            out["title"] = self.title
        out["connector"] = self.connector
        out["record_id"] = self.record_id
        if self.dates:
            out["dates"] = self.dates
        out["entities"] = {
            e.name: {"type": e.type, **({"required": e.required} if e.required else {}),
                     **({"when": e.when} if e.when else {}),
                     "fields": {f.attribute: _field_value(f.spec) for f in e.fields}}
            for e in self.entities
        }
        if self.relations:
            out["relations"] = [{"subject": s, "predicate": p, "object": o} for s, p, o in self.relations]
        if self.authority:
            out["authority"] = self.authority
        return out


def _field_value(spec: dict[str, Any]) -> Any:
    if set(spec) == {"column"}:
        return spec["column"]
    return {k: spec[k] for k in _FIELD_KEYS if k in spec}


def scalar(value: Any) -> str:
    """A YAML flow scalar: plain where YAML reads it back as the same string, JSON-quoted otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    plain = (text and text == text.strip() and not (_UNSAFE & set(text)) and not text.startswith(("-", "~"))
             and yaml.safe_load(f"k: {text}") == {"k": text})
    if plain:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def flow(value: Any) -> str:
    """Any value as one line of YAML flow style."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


class _Lines:
    def __init__(self, comments: bool):
        self.comments, self.out = comments, list[str]()

    def add(self, text: str, note: str = "") -> None:
        if note and self.comments:
            note = " ".join(note.split())
            text = f"{text.ljust(COMMENT_AT - 2)}  # {note}" if len(text) < COMMENT_AT - 2 else f"{text}  # {note}"
        self.out.append(text)

    def comment(self, text: str) -> None:
        if self.comments:
            self.out.append(f"# {text}" if text else "#")


def render(draft: Draft, *, comments: bool = True, schema: str = "../schemas/mapping.schema.json") -> str:
    """The YAML text of a draft; without comments it is the canonical form used to count edits."""
    lines = _Lines(comments)
    data = draft.data()
    notes = draft.notes
    if comments:
        lines.out.append(SCHEMA_LINE.format(schema=schema))
    lines.comment(f"Draft written by `hub mappings suggest` from {draft.origin}." if draft.origin else "")
    lines.comment("Each line's comment gives the confidence (0-1) of the guess and its evidence. Review, then run")
    lines.comment("`hub mappings check FILE` and `hub mappings preview FILE` before `hub ingest`.")
    for key in ("source", "department", "title"):
        if key in data:
            lines.add(f"{key}: {scalar(data[key])}", notes.get(key, ""))
    lines.add("connector:")
    lines.add(f"  kind: {scalar(draft.connector['kind'])}")
    if draft.connector.get("connection"):
        lines.add(f"  connection: {scalar(draft.connector['connection'])}", notes.get("connection", ""))
    lines.add(f"  settings: {flow(draft.connector.get('settings', {}))}", notes.get("settings", ""))
    lines.add(f"record_id: {flow(draft.record_id)}", notes.get("record_id", ""))
    if draft.dates:
        lines.add(f"dates: {flow(draft.dates)}", notes.get("dates", ""))
    lines.add("entities:")
    for entity in draft.entities:
        lines.add(f"  {entity.name}:")
        lines.add(f"    type: {entity.type}")
        if entity.required:
            lines.add(f"    required: {flow(entity.required)}")
        if entity.when:
            lines.add(f"    when: {scalar(entity.when)}", entity.note)
        lines.add("    fields:")
        for f in entity.fields:
            value = _field_value(f.spec)
            text = f"      {f.attribute}: {flow(value)}"
            lines.add(text, f"{f.confidence:.2f} {f.evidence}".strip() if f.evidence else "")
    if draft.relations:
        lines.add("relations:")
        for subject, predicate, obj in draft.relations:
            lines.add(f"  - {flow({'subject': subject, 'predicate': predicate, 'object': obj})}")
    if draft.authority:
        lines.add(f"authority: {flow(draft.authority)}", notes.get("authority", ""))
    if draft.unplaced and comments:
        lines.comment("")
        lines.comment("Columns not placed (map them by hand, or leave them out):")
        for column, why in draft.unplaced:
            lines.comment(f"  {column}: {why}")
    return "\n".join(lines.out) + "\n"
