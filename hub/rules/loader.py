"""Load rule files (rules/*.yaml) and report every problem at once, each with file, line and cause.

The same machinery as mapping files (hub.mapping.yaml_lines): the line of every key is kept beside the data,
pydantic's error locations are turned into lines, and the names a rule uses (entity types, attributes,
predicates, sources) are checked against schemas/ and the mappings, with a suggestion for a near miss.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from hub.errors import MappingProblem, RuleError
from hub.mapping.nearest import suggest
from hub.mapping.yaml_lines import Path_, load_yaml_with_lines, nearest_line
from hub.rules.model import Clause, RelatedClause, Rule
from hub.rules.shares import shared_objects
from hub.rules.windows import check_names
from schemas.registry import attributes, entity_types
from schemas.relations import RelationPredicate, predicate_allows

__all__ = ["RuleFile", "RuleSet", "load_rule", "load_rules"]


@dataclass(frozen=True)
class RuleFile:
    path: Path
    rule: Rule | None
    problems: tuple[MappingProblem, ...] = ()
    lines: dict[Path_, int] = field(default_factory=dict, repr=False)
    warnings: tuple[MappingProblem, ...] = ()
    """A source no mapping defines (a typo, or a department this district lacks): the rule runs all the same."""


@dataclass(frozen=True)
class RuleSet:
    files: list[RuleFile]

    @property
    def rules(self) -> list[Rule]:
        return [f.rule for f in self.files if f.rule is not None]

    @property
    def problems(self) -> list[MappingProblem]:
        return [p for f in self.files for p in f.problems]

    @property
    def warnings(self) -> list[MappingProblem]:
        return [w for f in self.files for w in f.warnings]

    def require_ok(self) -> list[Rule]:
        """Every rule, or RuleError listing each problem of each file."""
        if self.problems:
            raise RuleError(self.problems)
        return self.rules


class _Problems:
    def __init__(self, file: Path, lines: dict[Path_, int]):
        self.file, self.lines = file, lines
        self.items, self.warnings = list[MappingProblem](), list[MappingProblem]()

    def _located(self, loc: Sequence[str | int], message: str) -> MappingProblem:
        return MappingProblem(str(self.file), nearest_line(self.lines, tuple(loc)), ".".join(str(p) for p in loc),
                              message)

    def add(self, loc: Sequence[str | int], message: str) -> None:
        self.items.append(self._located(loc, message))

    def warn(self, loc: Sequence[str | int], message: str) -> None:
        self.warnings.append(self._located(loc, message))


def _check_attribute(entity_type: str, name: str, loc: Sequence[str | int], problems: _Problems) -> None:
    known = attributes(entity_type)
    if name not in known:
        problems.add(loc, f"{entity_type} has no attribute {name!r}" + suggest(name, known))


def _check_related(entity_type: str, clause: RelatedClause, loc: list[str | int], sources: set[str] | None,
                   problems: _Problems) -> None:
    predicates = [p.value for p in RelationPredicate]
    if clause.entity_type not in entity_types():
        problems.add([*loc, "entity_type"], f"unknown entity type {clause.entity_type!r}"
                     + suggest(clause.entity_type, entity_types()))
        return
    if clause.predicate not in predicates:
        problems.add([*loc, "predicate"], f"unknown predicate {clause.predicate!r}"
                     + suggest(clause.predicate, predicates))
        return
    subject, obj = ((entity_type, clause.entity_type) if clause.direction == "out"
                    else (clause.entity_type, entity_type))
    if not predicate_allows(RelationPredicate(clause.predicate), subject, obj):
        problems.add([*loc, "predicate"], f"no relation {subject} –{clause.predicate}→ {obj} exists "
                     "(check `direction`: out when the rule's entity is the subject, in when it is the object)")
    for name in clause.where:
        _check_attribute(clause.entity_type, name, [*loc, "where", name], problems)
    _check_sources(clause.sources, [*loc, "sources"], sources, problems)


def _check_sources(given: list[str] | None, loc: list[str | int], sources: set[str] | None,
                   problems: _Problems) -> None:
    if given is None or sources is None:
        return
    for i, source in enumerate(given):
        if source not in sources:
            problems.warn([*loc, i], f"no mapping has source {source!r}" + suggest(source, sources))


def _check_clause(entity_type: str, clause: Clause, loc: list[str | int], sources: set[str] | None,
                  problems: _Problems) -> None:
    if clause.value is not None:
        _check_attribute(entity_type, clause.value.attribute, [*loc, "value", "attribute"], problems)
    elif clause.related is not None:
        _check_related(entity_type, clause.related, [*loc, "related"], sources, problems)
    elif clause.record is not None:
        _check_sources(clause.record.sources, [*loc, "record", "sources"], sources, problems)
    elif clause.any_ is not None:
        for i, inner in enumerate(clause.any_):
            _check_clause(entity_type, inner, [*loc, "any", i], sources, problems)
    elif clause.not_ is not None:
        _check_clause(entity_type, clause.not_, [*loc, "not"], sources, problems)
    elif clause.shares is not None:
        known = [*attributes(entity_type),
                 *(p.value for p in RelationPredicate if shared_objects(entity_type, p.value))]
        for i, key in enumerate(clause.shares.on):
            if key not in known:
                problems.add([*loc, "shares", "on", i], f"{key!r} is neither an attribute of {entity_type} nor a "
                             f"relation from it" + suggest(key, known))
        for i, inner in enumerate(clause.shares.with_):
            _check_clause(entity_type, inner, [*loc, "shares", "with", i], sources, problems)
    for kind in ("count", "age", "ratio"):
        if (inner := getattr(clause, kind)) is not None:
            check_names(entity_type, inner, [*loc, kind], problems.add)


def _check(rule: Rule, path: Path, sources: set[str] | None, problems: _Problems) -> None:
    if rule.id != path.stem:
        problems.add(["id"], f"the rule id {rule.id!r} must be the file's name ({path.stem!r})")
    if rule.entity_type not in entity_types():
        problems.add(["entity_type"], f"unknown entity type {rule.entity_type!r}"
                     + suggest(rule.entity_type, entity_types()))
        return
    names: dict[str, int] = {}
    for i, clause in enumerate(rule.condition):
        _check_clause(rule.entity_type, clause, ["condition", i], sources, problems)
        if clause.as_:
            if clause.as_ in names:
                problems.add(["condition", i, "as"], f"the name {clause.as_!r} is given to clause {names[clause.as_]}"
                             " already")
            names[clause.as_] = i
    if rule.evidence is not None:
        citable = [n for n, i in names.items() if rule.condition[i].not_ is None]
        for i, name in enumerate(rule.evidence):
            if name not in citable:
                problems.add(["evidence", i], f"no positive clause is named {name!r} (`as:`); evidence names one"
                             + suggest(name, citable))


def load_rule(path: Path, sources: Iterable[str] | None = None) -> RuleFile:
    """Read, validate and check one rule file; never raises for a wrong file (its problems say what is wrong).

    `sources`: the sources the mappings define, to check the ones a rule names (None: not checked)."""
    known = set(sources) if sources is not None else None
    try:
        doc = load_yaml_with_lines(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return RuleFile(path, None, (MappingProblem(str(path), mark.line + 1 if mark else None, "",
                                                    f"not valid YAML: {getattr(exc, 'problem', exc)}"),))
    except (OSError, UnicodeDecodeError) as exc:
        return RuleFile(path, None, (MappingProblem(str(path), None, "", f"cannot read the file: {exc}"),))
    problems = _Problems(path, doc.lines)
    for dup in doc.duplicates:
        problems.add(dup.path, f"key {dup.path[-1]!r} is given twice: first at line {dup.first_line}, again at "
                     f"line {dup.line}")
    if not isinstance(doc.data, dict):
        problems.add((), "a rule file must be a YAML mapping (key: value) at the top level")
        return RuleFile(path, None, tuple(problems.items), doc.lines)
    try:
        rule = Rule.model_validate(doc.data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = [p for p in err["loc"] if not (isinstance(p, str) and (p.startswith("function-") or p in
                                                                           ("Clause", "ValueTest")))]
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = f"unknown key {loc[-1]!r}"
            problems.add(loc, message)
        return RuleFile(path, None, tuple(problems.items), doc.lines)
    _check(rule, path, known, problems)
    if problems.items:
        return RuleFile(path, None, tuple(problems.items), doc.lines, tuple(problems.warnings))
    return RuleFile(path, rule, (), doc.lines, tuple(problems.warnings))


def load_rules(folder: Path, sources: Iterable[str] | None = None) -> RuleSet:
    """Every rule file (*.yaml, *.yml) of a folder, in name order; two files with one id are a problem too."""
    known = list(sources) if sources is not None else None
    paths = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else []
    files = [load_rule(p, known) for p in paths]
    seen: dict[str, Path] = {}
    out = []
    for f in files:
        if f.rule is not None and f.rule.id in seen:
            f = RuleFile(f.path, None, (MappingProblem(str(f.path), f.lines.get(("id",)), "id",
                                                       f"the rule id {f.rule.id!r} is used by {seen[f.rule.id]} too"),),
                         f.lines)
        elif f.rule is not None:
            seen[f.rule.id] = f.path
        out.append(f)
    return RuleSet(out)
