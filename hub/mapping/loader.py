"""Load mapping files and report every problem at once, each with file, line and a suggestion.

Parsing happens in two steps, as in followthemoney's mappings: the YAML is validated into
`MappingSpec` (shape), then cross-references are bound against the canonical model in schemas/,
the normalizer registry, the shipped code tables and the connector registry with its settings
model (meaning). Both steps collect problems instead of stopping at the first, because an operator
fixing a file wants the whole list; a key given twice is one of them, with both lines.

A folder is loaded file by file (`load_mappings`): a file that does not load fails its own source and
no other, so one typo in one department's mapping never stops the other departments' ingest.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

import schemas
from hub.errors import ConfigurationError, MappingError, MappingProblem
from hub.mapping.code_tables import code_table
from hub.mapping.conditions import Condition
from hub.mapping.model import (
    IDENT,
    SOURCE_ID_MAX,
    ConnectorSpec,
    DateHints,
    EntitySpec,
    FieldSpec,
    MappingSpec,
    RelationSpec,
)
from hub.mapping.nearest import suggest
from hub.mapping.yaml_lines import Path_, load_yaml_with_lines, nearest_line

__all__ = ["MappingFile", "MappingSet", "load_mapping", "load_mappings", "parse_mapping", "read_mapping", "suggest"]


def _where(loc: Sequence[str | int]) -> str:
    """A key path as the operator reads it; keys are text from the file, so a NUL or a line break in a quoted
    key is shown escaped (the message goes to terminals and to the store's run table, which holds no NUL)."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in ".".join(str(p) for p in loc))


class _Problems:
    def __init__(self, file: Path, lines: dict[Path_, int]):
        self.file, self.lines, self.items = file, lines, list[MappingProblem]()

    def add(self, loc: Sequence[str | int], message: str) -> None:
        self.items.append(MappingProblem(str(self.file), nearest_line(self.lines, tuple(loc)), _where(loc), message))


def _check_connector(spec: MappingSpec, problems: _Problems) -> None:
    from connectors.registry import available_kinds, get_connector_class

    kinds = available_kinds()
    if spec.connector.kind not in kinds:
        problems.add(("connector", "kind"), f"unknown connector kind {spec.connector.kind!r}"
                     f"{suggest(spec.connector.kind, kinds)}; known: {', '.join(sorted(kinds))}")
        return
    try:
        model = getattr(get_connector_class(spec.connector.kind), "settings_model", None)
    except ConfigurationError as exc:
        problems.add(("connector", "kind"), str(exc))
        return
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return
    try:
        model.model_validate(spec.connector.settings)
    except ValidationError as exc:
        known = [f.alias or name for name, f in model.model_fields.items()]
        for err in exc.errors(include_url=False, include_input=False):
            loc = ("connector", "settings", *err["loc"])
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = f"unknown {spec.connector.kind} setting {err['loc'][-1]!r}" + suggest(str(err["loc"][-1]),
                                                                                               known)
            problems.add(loc, message)


def _check_values(entity_type: str, attr: str, field: FieldSpec, loc: tuple[str, ...], problems: _Problems) -> None:
    """Constants and value-map results of closed attributes (status, situation_type…) must be allowed values."""
    meta = schemas.attribute_spec(entity_type, attr)
    allowed = meta.allowed_values if meta is not None else None
    if not allowed:
        return
    if field.const is not None and field.const not in allowed:
        problems.add((*loc, "const"), f"{entity_type}.{attr} cannot be {field.const!r}{suggest(field.const, allowed)}; "
                     f"allowed: {', '.join(allowed)}")
    if isinstance(field.map, dict):
        for key, value in field.map.items():
            if value not in allowed:
                problems.add((*loc, "map", key), f"{entity_type}.{attr} cannot be {value!r}{suggest(value, allowed)};"
                             f" allowed: {', '.join(allowed)}")
    elif isinstance(field.map, str):
        outside = sorted(set(code_table(field.map).values) - set(allowed))
        if outside:
            problems.add((*loc, "map"), f"code table {field.map} gives {', '.join(outside[:5])}, not allowed for "
                         f"{entity_type}.{attr} (allowed: {', '.join(allowed)})")


def _check_entities(spec: MappingSpec, problems: _Problems) -> None:
    from hub.normalize import NORMALIZERS

    types = schemas.entity_types()
    for local, entity in spec.entities.items():
        base = ("entities", local)
        if entity.type not in types:
            problems.add((*base, "type"), f"unknown entity type {entity.type!r}{suggest(entity.type, types)}")
            continue
        known = schemas.attributes(entity.type)
        for attr, field in entity.fields.items():
            loc = (*base, "fields", attr)
            if attr not in known:
                problems.add(loc, f"{entity.type} has no attribute {attr!r}{suggest(attr, known)}")
                continue
            if field.normalize is not None and field.normalize not in NORMALIZERS:
                problems.add((*loc, "normalize"),
                             f"unknown normalizer {field.normalize!r}{suggest(field.normalize, NORMALIZERS)}")
            _check_values(entity.type, attr, field, loc, problems)
        for name, field in entity.local_ids.items():
            if field.normalize is not None and field.normalize not in NORMALIZERS:
                problems.add((*base, "local_ids", name, "normalize"),
                             f"unknown normalizer {field.normalize!r}{suggest(field.normalize, NORMALIZERS)}")
        for attr in entity.required:
            if attr not in entity.fields:
                problems.add((*base, "required"), f"required attribute {attr!r} is not among the fields"
                             f"{suggest(attr, entity.fields)}")


def _check_references(spec: MappingSpec, problems: _Problems) -> None:
    _check_connector(spec, problems)
    departments = [d.value for d in schemas.Department]
    if spec.department not in departments:
        problems.add(("department",), f"unknown department {spec.department!r}{suggest(spec.department, departments)}")
    _check_entities(spec, problems)
    types = schemas.entity_types()
    predicates = {p.value: rule for p, rule in schemas.PREDICATES.items()}
    for i, rel in enumerate(spec.relations):
        loc = ("relations", i)
        for end in ("subject", "object"):
            name = getattr(rel, end)
            if name not in spec.entities:
                problems.add((*loc, end), f"no entity named {name!r} in this mapping{suggest(name, spec.entities)}")
        if rel.predicate not in predicates:
            hint = suggest(rel.predicate, predicates)
            problems.add((*loc, "predicate"), f"unknown predicate {rel.predicate!r}{hint}")
            continue
        for end, allowed in zip(("subject", "object"), predicates[rel.predicate], strict=True):
            local = getattr(rel, end)
            if local in spec.entities and spec.entities[local].type not in allowed:
                problems.add((*loc, end), f"{rel.predicate} needs {end} of type {'/'.join(sorted(allowed))}")
    for i, item in enumerate(spec.authority):
        entity_type, _, attr = item.partition(".")
        if entity_type not in types:
            problems.add(("authority", i), f"unknown entity type {entity_type!r}{suggest(entity_type, types)}")
        elif attr != "*" and attr not in schemas.attributes(entity_type):
            problems.add(("authority", i), f"{entity_type} has no attribute {attr!r}"
                         f"{suggest(attr, schemas.attributes(entity_type))}")


def _known_keys(loc: Sequence[str | int]) -> list[str]:
    """Keys valid at the place of an unknown key, for the suggestion."""
    model: type[BaseModel] = MappingSpec
    if len(loc) > 1:
        head = str(loc[0])
        nested: dict[str, type[BaseModel]] = {"connector": ConnectorSpec, "relations": RelationSpec,
                                              "dates": DateHints}
        if head == "entities":
            model = EntitySpec
            if len(loc) > 3 and loc[2] == "when":
                model = Condition
            elif len(loc) >= 5 and loc[2] in ("fields", "local_ids"):
                model = Condition if len(loc) >= 7 and loc[4] == "when" else FieldSpec
        elif head == "relations" and len(loc) > 3 and loc[2] == "when":
            model = Condition
        elif head in nested:
            model = nested[head]
        else:
            return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _source_of(data: Any, path: Path) -> str:
    """The source id a file means: its `source:` value when that is a valid id, else the file's stem (what the
    run table and the ingest results name a file that does not load by)."""
    value = data.get("source") if isinstance(data, dict) else None
    if isinstance(value, str) and re.fullmatch(IDENT, value) and len(value) <= SOURCE_ID_MAX:
        return value
    return path.stem[:SOURCE_ID_MAX]


_TOP_LEVEL_LINE = re.compile(
    r"""^(source|status)[ \t]*:[ \t]*(?:'([^'\n]*)'|"([^"\n]*)"|([^\s'"]+))(?:[ \t]+#[^\n]*)?[ \t]*\r?$""", re.M)


def _declared_in_lines(path: Path) -> tuple[str, bool]:
    """Source id and draft flag of a file whose YAML does not parse, from its top-level `source:` and
    `status:` lines alone: its failure is then reported under the source an operator names it by, and a
    draft that is still being written is skipped, not failed. A value that is not one plain valid id, or
    given twice differently, is not guessed at: the file's stem, and not a draft."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""
    found: dict[str, set[str]] = {"source": set(), "status": set()}
    for match in _TOP_LEVEL_LINE.finditer(text):
        found[match[1]].add(next(v for v in match.groups()[1:] if v is not None))
    sources = found["source"]
    source = _source_of({"source": sources.pop()} if len(sources) == 1 else {}, path)
    return source, found["status"] == {"draft"}


@dataclass(frozen=True)
class MappingFile:
    """One mapping file as loaded: its spec, or every problem that keeps it from loading.

    `source` is the spec's id, or for a file that does not load its `source:` value when that can be read
    (from the top-level `source:` line when the YAML does not even parse), else the file's stem. `draft`
    follows `status: draft`, read the same way from a file that does not load, so that a draft under review
    is skipped, not failed.
    """

    path: Path
    source: str
    draft: bool
    spec: MappingSpec | None = None
    lines: dict[Path_, int] = dataclasses.field(default_factory=dict, repr=False)
    problems: tuple[MappingProblem, ...] = ()

    @property
    def error(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def read_mapping(path: Path) -> MappingFile:
    """Read, validate and bind one mapping file, keeping the line of every key; never raises MappingError."""
    def unreadable(message: str, line: int | None = None, declared: tuple[str, bool] | None = None) -> MappingFile:
        source, draft = declared or (path.stem[:SOURCE_ID_MAX], False)
        return MappingFile(path, source, draft, problems=(MappingProblem(str(path), line, "", message),))

    try:
        doc = load_yaml_with_lines(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return unreadable(f"not valid YAML: {getattr(exc, 'problem', exc)}", mark.line + 1 if mark else None,
                          _declared_in_lines(path))
    except OSError as exc:
        return unreadable(f"cannot read file: {exc.strerror}")
    except UnicodeDecodeError:
        return unreadable("not UTF-8 text")
    data, lines = doc.data, doc.lines
    source = _source_of(data, path)
    draft = isinstance(data, dict) and data.get("status") == "draft"
    problems = _Problems(path, lines)
    for dup in doc.duplicates:
        problems.items.append(MappingProblem(
            str(path), dup.line, _where(dup.path),
            f"key {dup.path[-1]!r} is given twice: first at {path}:{dup.first_line}, again at {path}:{dup.line}; "
            "keep one"))
    if not isinstance(data, dict):
        problems.add((), "a mapping file must be a YAML mapping (key: value) at the top level")
        return MappingFile(path, source, False, lines=lines, problems=tuple(problems.items))
    try:
        spec = MappingSpec.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = f"unknown key {loc[-1]!r}" + suggest(str(loc[-1]), _known_keys(loc))
            problems.add(loc, message)
        return MappingFile(path, source, draft, lines=lines, problems=tuple(problems.items))
    _check_references(spec, problems)
    if problems.items:
        return MappingFile(path, source, draft, lines=lines, problems=tuple(problems.items))
    return MappingFile(path, spec.source, spec.status == "draft", spec, lines)


def parse_mapping(path: Path) -> tuple[MappingSpec, dict[Path_, int]]:
    """Read, validate and bind one mapping file, keeping the line of every key (for later checks); raise
    MappingError listing every problem."""
    loaded = read_mapping(path)
    if loaded.spec is None:
        raise MappingError(list(loaded.problems))
    return loaded.spec, loaded.lines


def load_mapping(path: Path) -> MappingSpec:
    """Read, validate and bind one mapping file; raise MappingError listing every problem."""
    return parse_mapping(path)[0]


@dataclass(frozen=True)
class MappingSet:
    """The files of a mappings folder, each loaded on its own: one broken file fails its own source only."""

    files: list[MappingFile]

    @property
    def ready(self) -> list[MappingSpec]:
        """The specs to ingest: loaded, and not drafts."""
        return [f.spec for f in self.files if f.spec is not None and not f.draft]

    @property
    def drafts(self) -> list[MappingFile]:
        """Files marked `status: draft` (loaded or not): never ingested until marked ready."""
        return [f for f in self.files if f.draft]

    @property
    def failed(self) -> list[MappingFile]:
        """Files that are not drafts and do not load: their sources fail, the others go on."""
        return [f for f in self.files if f.spec is None and not f.draft]

    def require_ready(self) -> list[MappingSpec]:
        """The ready specs, or MappingError with every problem of every failed file: for what needs every
        source's mapping at once (fusion ranks all sources by their mappings' authority)."""
        problems = [p for f in self.failed for p in f.problems]
        if problems:
            raise MappingError(problems)
        return self.ready


def load_mappings(directory: Path) -> MappingSet:
    """Every *.yaml in a folder, each file on its own. Source ids must be unique among the files that are not
    drafts: files sharing one all fail (each naming the others), the rest of the folder is unaffected."""
    files = [read_mapping(path) for path in sorted(directory.glob("*.yaml"))]
    by_source: dict[str, list[MappingFile]] = {}
    for f in files:
        if not f.draft:
            by_source.setdefault(f.source, []).append(f)
    for same in by_source.values():
        if len(same) < 2:
            continue
        for f in same:
            others = ", ".join(f"{o.path}:{o.lines.get(('source',), 1)}" for o in same if o is not f)
            problem = MappingProblem(str(f.path), f.lines.get(("source",)), "source",
                                     f"source id {f.source!r} is also used by {others}; give each file its own")
            files[files.index(f)] = replace(f, spec=None, problems=(*f.problems, problem))
    return MappingSet(files)
