"""Load form templates (forms/*.yaml) and report every problem at once, each with file, line and cause.

The same machinery as mapping and rule files (hub.mapping.yaml_lines, MappingProblem): the line of every
key is kept beside the data, pydantic's error locations become lines, and the names a form uses (attributes,
predicates, situation types) are checked against schemas/ with a suggestion for a near miss. A binding must
also be one a collected value can be written back to: a column of the grid collection source's mapping.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from hub.errors import FormError, MappingProblem
from hub.forms.model import SUBJECT, FormTemplate
from hub.mapping.nearest import suggest
from hub.mapping.yaml_lines import Path_, load_yaml_with_lines, nearest_line
from schemas.registry import attributes, entity_types
from schemas.relations import RelationPredicate, predicate_allows
from schemas.situation import SituationType

__all__ = ["FormFile", "FormSet", "load_form", "load_forms"]


@dataclass(frozen=True)
class FormFile:
    path: Path
    form: FormTemplate | None
    problems: tuple[MappingProblem, ...] = ()
    lines: dict[Path_, int] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class FormSet:
    files: list[FormFile]

    @property
    def forms(self) -> list[FormTemplate]:
        return [f.form for f in self.files if f.form is not None]

    @property
    def problems(self) -> list[MappingProblem]:
        return [p for f in self.files for p in f.problems]

    def require_ok(self) -> list[FormTemplate]:
        """Every form, or FormError listing each problem of each file."""
        if self.problems:
            raise FormError(self.problems)
        return self.forms

    def get(self, form_id: str) -> FormTemplate:
        """The form of that id, or FormError naming the known ones (and the problems of files that do not load)."""
        for form in self.forms:
            if form.id == form_id:
                return form
        known = [f.id for f in self.forms]
        raise FormError(self.problems or [MappingProblem("forms", None, "", f"no form {form_id!r}"
                                                         f"{suggest(form_id, known)}; known: {', '.join(known)}")])


class _Problems:
    def __init__(self, file: Path, lines: dict[Path_, int]):
        self.file, self.lines, self.items = file, lines, list[MappingProblem]()

    def add(self, loc: Sequence[str | int], message: str) -> None:
        self.items.append(MappingProblem(str(self.file), nearest_line(self.lines, tuple(loc)),
                                         ".".join(str(p) for p in loc), message))


def _check(form: FormTemplate, path: Path, columns: Collection[str] | None, problems: _Problems) -> None:
    if form.id != path.stem:
        problems.add(["id"], f"the form id {form.id!r} must be the file's name ({path.stem!r})")
    if form.applicants is not None and form.applicants.situation is not None \
            and form.applicants.situation not in [s.value for s in SituationType]:
        problems.add(["applicants", "situation"], f"unknown situation type {form.applicants.situation!r}"
                     + suggest(form.applicants.situation, [s.value for s in SituationType]))
    seen: dict[str, int] = {}
    situations = sorted({str(f.bind.situation) for f in form.fields if f.bind.kind == "situation"})
    if len(situations) > 1:
        problems.add(["fields"], f"a form is about one situation type at most, not {', '.join(situations)}: "
                     "a submission writes back one situation")
    for i, item in enumerate(form.fields):
        loc: list[str | int] = ["fields", i]
        if item.key in seen:
            problems.add([*loc, "key"], f"the key {item.key!r} is used by field {seen[item.key]} already")
        seen.setdefault(item.key, i)
        bind = item.bind
        if bind.kind == "relation":
            predicates = [p.value for p in RelationPredicate]
            if bind.predicate not in predicates:
                problems.add([*loc, "bind", "relation"], f"unknown predicate {bind.predicate!r}"
                             + suggest(str(bind.predicate), predicates))
                continue
            if bind.entity_type not in entity_types():
                problems.add([*loc, "bind", "attribute"], f"unknown entity type {bind.entity_type!r}"
                             + suggest(bind.entity_type, entity_types()))
                continue
            if not predicate_allows(RelationPredicate(bind.predicate), SUBJECT, bind.entity_type):
                problems.add([*loc, "bind", "relation"], f"no relation {SUBJECT} –{bind.predicate}→ {bind.entity_type}")
                continue
        elif bind.kind == "situation":
            kinds = [s.value for s in SituationType]
            if bind.situation not in kinds:
                problems.add([*loc, "bind", "situation"], f"unknown situation type {bind.situation!r}"
                             + suggest(str(bind.situation), kinds))
                continue
        elif bind.entity_type != SUBJECT:
            problems.add([*loc, "bind"], f"a plain binding is an attribute of the subject: {SUBJECT}.ATTRIBUTE, "
                         f"not {bind.entity_type}.{bind.attribute} (use relation or situation for another entity)")
            continue
        known = attributes(bind.entity_type)
        if bind.attribute not in known:
            problems.add([*loc, "bind"], f"{bind.entity_type} has no attribute {bind.attribute!r}"
                         + suggest(bind.attribute, known))
            continue
        if bind.kind == "situation" and bind.attribute == "situation_type":
            problems.add([*loc, "bind"], "the situation's type is the binding's `situation`, not a field")
        elif columns is not None and bind.column not in columns:
            problems.add([*loc, "bind"], f"{bind.text} cannot be written back: the grid collection mapping has "
                         f"no column {bind.column!r}")


def load_form(path: Path, columns: Collection[str] | None = None) -> FormFile:
    """Read, validate and check one form file; never raises for a wrong file (its problems say what is wrong).

    `columns`: the grid collection source's columns, to check that every binding can be written back
    (None: not checked)."""
    try:
        doc = load_yaml_with_lines(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return FormFile(path, None, (MappingProblem(str(path), mark.line + 1 if mark else None, "",
                                                    f"not valid YAML: {getattr(exc, 'problem', exc)}"),))
    except (OSError, UnicodeDecodeError) as exc:
        return FormFile(path, None, (MappingProblem(str(path), None, "", f"cannot read the file: {exc}"),))
    problems = _Problems(path, doc.lines)
    for dup in doc.duplicates:
        problems.items.append(MappingProblem(str(path), dup.line, ".".join(str(p) for p in dup.path),
                                             f"key {dup.path[-1]!r} is given twice: first at line {dup.first_line}, "
                                             f"again at line {dup.line}; keep one"))
    if not isinstance(doc.data, dict):
        problems.add((), "a form file must be a YAML mapping (key: value) at the top level")
        return FormFile(path, None, tuple(problems.items), doc.lines)
    try:
        form = FormTemplate.model_validate(doc.data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = f"unknown key {loc[-1]!r}" + suggest(str(loc[-1]), _keys(loc))
            problems.add(loc, message)
        return FormFile(path, None, tuple(problems.items), doc.lines)
    _check(form, path, columns, problems)
    if problems.items:
        return FormFile(path, None, tuple(problems.items), doc.lines)
    return FormFile(path, form, (), doc.lines)


def _keys(loc: Sequence[str | int]) -> list[str]:
    from hub.forms.model import FormField

    model = FormField if len(loc) > 2 and loc[0] == "fields" else FormTemplate
    return list(model.model_fields)


def load_forms(folder: Path, columns: Collection[str] | None = None) -> FormSet:
    """Every form file (*.yaml, *.yml) of a folder, in name order; two files with one id are a problem too."""
    paths = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else []
    out: list[FormFile] = []
    seen: dict[str, Path] = {}
    for f in (load_form(p, columns) for p in paths):
        if f.form is not None and f.form.id in seen:
            f = FormFile(f.path, None, (MappingProblem(str(f.path), f.lines.get(("id",)), "id",
                                                       f"the form id {f.form.id!r} is used by {seen[f.form.id]} too"),),
                         f.lines)
        elif f.form is not None:
            seen[f.form.id] = f.path
        out.append(f)
    return FormSet(out)
