"""A draft mapping and its YAML text, every line carrying its confidence and evidence as a comment.

The text loads as an ordinary mapping file (the comments are YAML comments), so the operator edits
it in place. It says `status: draft`, so `hub ingest` leaves it alone until the operator, after review,
changes that to `status: ready`: a draft saved in mappings/ never becomes a source by accident. Any
source text (header names, values, titles) is written so that the file stays valid YAML: values by
PyYAML's emitter, comments on their line with their line breaks escaped. `render(draft, comments=False)`
gives the bare form used to count the lines an operator changed between a draft and the mapping
finally used.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any

import yaml

SCHEMA_LINE = "# yaml-language-server: $schema={schema}"
_FIELD_KEYS = ("column", "columns", "join", "parts", "const", "map", "when", "normalize", "default")
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
    when: list[str] = field(default_factory=list)
    note: str = ""
    local_ids: dict[str, dict[str, Any]] = field(default_factory=dict)   # name → FieldSpec content
    local_notes: dict[str, str] = field(default_factory=dict)

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
    relations: list[tuple[str, str, str, str]] = field(default_factory=list)   # subject, predicate, object, when
    authority: list[str] = field(default_factory=list)
    dates: dict[str, Any] | None = None
    notes: dict[str, str] = field(default_factory=dict)        # top-level key → comment
    unplaced: list[tuple[str, str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    origin: str = ""
    status: str = "draft"       # `hub ingest` leaves a draft alone until the operator marks it ready
    relation_notes: list[str] = field(default_factory=list)    # a comment per relation

    @property
    def triples(self) -> set[tuple[str, str, str]]:
        """(subject, predicate, object) of every relation, whatever its condition."""
        return {r[:3] for r in self.relations}

    def entity(self, name: str) -> DraftEntity | None:
        return next((e for e in self.entities if e.name == name), None)

    def data(self) -> dict[str, Any]:
        """The mapping as plain data (what the YAML text loads to)."""
        out: dict[str, Any] = {"status": self.status, "source": self.source, "department": self.department}
        if self.title:
            out["title"] = self.title
        out["connector"] = self.connector
        out["record_id"] = self.record_id
        if self.dates:
            out["dates"] = self.dates
        out["entities"] = {
            e.name: {"type": e.type, **({"required": e.required} if e.required else {}),
                     **({"when": _when_value(e.when)} if e.when else {}),
                     "fields": {f.attribute: _field_value(f.spec) for f in e.fields},
                     **({"local_ids": {k: _field_value(v) for k, v in e.local_ids.items()}} if e.local_ids else {})}
            for e in self.entities
        }
        if self.relations:
            out["relations"] = [_relation(*r) for r in self.relations]
        if self.authority:
            out["authority"] = self.authority
        return out


def _when_value(when: list[str]) -> str | list[str]:
    return when[0] if len(when) == 1 else when


def _relation(subject: str, predicate: str, obj: str, when: str) -> dict[str, Any]:
    out: dict[str, Any] = {"subject": subject, "predicate": predicate, "object": obj}
    if when:
        out["when"] = when
    return out


def _field_value(spec: dict[str, Any]) -> Any:
    if set(spec) == {"column"}:
        return spec["column"]
    return {k: spec[k] for k in _FIELD_KEYS if k in spec}


class _OneLineDumper(yaml.SafeDumper):
    """PyYAML's emitter, told to keep every scalar on one line: any scalar that cannot stay plain is
    double-quoted, the one style that escapes line breaks, tabs, NUL and every other character YAML
    does not allow raw. (Single quotes and block styles would break the value over lines.)"""

    def choose_scalar_style(self) -> str:
        style: str = super().choose_scalar_style()
        return style if style == "" else '"'


def flow(value: Any) -> str:
    """Any value as one line of YAML flow style that loads back as the same value, whatever its text holds
    (line breaks, quotes, colons, `#`, NUL, emoji): PyYAML's emitter decides quoting and escapes, never a
    hand-written rule. Keys too long for an implicit key get YAML's explicit `? key : value` form."""
    text = yaml.dump([value], Dumper=_OneLineDumper, default_flow_style=True, allow_unicode=True,
                     width=sys.maxsize, sort_keys=False)
    return text[1:-2]   # the value alone, without the list "[…]\n" that carried it



_NOT_IN_A_COMMENT = re.compile(r"[^\t\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""What a comment line cannot hold raw: YAML's non-printable characters (yaml.reader.Reader.NON_PRINTABLE)
and its line breaks (\\r, \\n, NEL, LS, PS), after which the text would be read as YAML content."""


def comment_text(text: str) -> str:
    """Text for a YAML comment, kept on its line: each character a comment cannot hold (a line break in a
    column name, NUL, a lone surrogate) is written as its escape (\\n, \\x00, \\ud800), the rest as it is."""
    return _NOT_IN_A_COMMENT.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class _Lines:
    def __init__(self, comments: bool):
        self.comments, self.out = comments, list[str]()

    def add(self, text: str, note: str = "") -> None:
        if note and self.comments:
            note = comment_text(note)
            text = f"{text.ljust(COMMENT_AT - 2)}  # {note}" if len(text) < COMMENT_AT - 2 else f"{text}  # {note}"
        self.out.append(text)

    def comment(self, text: str) -> None:
        if self.comments:
            self.out.append(f"# {comment_text(text)}" if text else "#")


def render(draft: Draft, *, comments: bool = True, schema: str = "../schemas/mapping.schema.json") -> str:
    """The YAML text of a draft; without comments it is the canonical form used to count edits, which leaves
    out the `status` line (marking a draft ready is review, not a correction of the guess)."""
    lines = _Lines(comments)
    data = draft.data()
    notes = draft.notes
    if comments:
        lines.out.append(SCHEMA_LINE.format(schema=comment_text(schema)))
    lines.comment(f"Draft written by `hub mappings suggest` from {draft.origin}." if draft.origin else "")
    lines.comment("Each line's comment gives the confidence (0-1) of the guess and its evidence. Review, then run")
    lines.comment("`hub mappings check FILE` and `hub mappings preview FILE`; `hub ingest` skips this file while")
    lines.comment("its status says draft.")
    if comments:
        lines.add(f"status: {flow(draft.status)}", "after review change it to `status: ready`, then `hub ingest "
                  f"{draft.source}`" if draft.status == "draft" else "")
    for key in ("source", "department", "title"):
        if key in data:
            lines.add(f"{key}: {flow(data[key])}", notes.get(key, ""))
    lines.add("connector:")
    lines.add(f"  kind: {flow(draft.connector['kind'])}")
    if draft.connector.get("connection"):
        lines.add(f"  connection: {flow(draft.connector['connection'])}", notes.get("connection", ""))
    lines.add(f"  settings: {flow(draft.connector.get('settings', {}))}", notes.get("settings", ""))
    lines.add(f"record_id: {flow(draft.record_id)}", notes.get("record_id", ""))
    if draft.dates:
        lines.add(f"dates: {flow(draft.dates)}", notes.get("dates", ""))
    lines.add("entities:" if draft.entities else "entities: {}", "" if draft.entities else
              "no column was placed: add the entities by hand")
    for entity in draft.entities:
        lines.add(f"  {flow(entity.name)}:")
        lines.add(f"    type: {flow(entity.type)}")
        if entity.required:
            lines.add(f"    required: {flow(entity.required)}")
        if entity.when:
            lines.add(f"    when: {flow(_when_value(entity.when))}", entity.note)
        lines.add("    fields:")
        for f in entity.fields:
            value = _field_value(f.spec)
            text = f"      {flow(f.attribute)}: {flow(value)}"
            lines.add(text, f"{f.confidence:.2f} {f.evidence}".strip() if f.evidence else "")
        if entity.local_ids:
            lines.add("    local_ids:")
            for name, spec in entity.local_ids.items():
                lines.add(f"      {flow(name)}: {flow(_field_value(spec))}", entity.local_notes.get(name, ""))
    if draft.relations:
        lines.add("relations:")
        for i, relation in enumerate(draft.relations):
            note = draft.relation_notes[i] if i < len(draft.relation_notes) else ""
            lines.add(f"  - {flow(_relation(*relation))}", note)
    if draft.authority:
        lines.add(f"authority: {flow(draft.authority)}", notes.get("authority", ""))
    if draft.unplaced and comments:
        lines.comment("")
        lines.comment("Columns not placed (map them by hand, or leave them out):")
        for column, why in draft.unplaced:
            lines.comment(f"  {flow(column)}: {why}")   # quoted as the mapping would need it
    return "\n".join(lines.out) + "\n"
