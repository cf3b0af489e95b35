"""How right a draft was: per column, did `suggest` map it as the mapping finally used does, and how
many lines did the operator change.

A column is right when it feeds the same canonical targets in both mappings (attributes, record id,
cursor, conditions) and, on the sampled rows, every one of them normalizes to the same values: a
value map written as a code table or inline, or a normalizer named or implied, count alike if they
give the same result. Lines changed are counted between the two mappings written in one canonical
form (the draft writer's, without comments, entities named and ordered as in the final mapping),
so renaming or reordering costs nothing and each edited, added or deleted line costs one.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from hub.mapping import FieldSpec, MappingSpec
from hub.onboard.draft import Draft, DraftEntity, DraftField, render
from hub.onboard.sample import Sample
from hub.statements.columns import normalize_field, normalizer_name


@dataclass
class Comparison:
    source: str
    columns: int
    right: int
    wrong: list[str] = field(default_factory=list)
    lines_changed: int = 0

    @property
    def share(self) -> float:
        return self.right / self.columns if self.columns else 1.0


def column_targets(spec: MappingSpec) -> dict[str, set[str]]:
    """Column → what it feeds: 'entity.attribute', 'record_id', 'cursor', 'when:entity.attribute'."""
    out: dict[str, set[str]] = defaultdict(set)
    for column in spec.record_id:
        out[column].add("record_id")
    settings = spec.connector.settings
    cursor = settings.get("cursor") or (settings.get("incremental") or {}).get("field")
    if cursor:
        out[str(cursor)].add("cursor")
    for entity in spec.entities.values():
        for condition in entity.when:
            out[condition.column].add(f"when:{entity.type}")
        for attribute, spec_field in entity.fields.items():
            for column in spec_field.source_columns:
                out[column].add(f"{entity.type}.{attribute}")
            for column in spec_field.condition_columns:
                out[column].add(f"when:{entity.type}.{attribute}")
        for spec_field in entity.local_ids.values():
            for column in spec_field.source_columns:
                out[column].add(f"{entity.type}.local_id")
    for relation in spec.relations:
        for condition in relation.when:
            out[condition.column].add(f"when:{relation.predicate}")
    return out


def _outputs(spec: MappingSpec, frame: pd.DataFrame, column: str) -> dict[str, list[tuple[Any, ...]]]:
    found: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for entity in spec.entities.values():
        for attribute, spec_field in entity.fields.items():
            if column in spec_field.source_columns:
                values = normalize_field(spec, frame, entity.type, attribute, spec_field)
                found[f"{entity.type}.{attribute}"].append(tuple(v.value for v in values))
    return {k: sorted(v) for k, v in found.items()}


def _canonical(spec: MappingSpec, names: dict[str, str] | None = None, order: list[str] | None = None,
               field_order: dict[str, list[str]] | None = None) -> str:
    names = names or {}
    entities = []
    for local, entity in spec.entities.items():
        name = names.get(local, local)
        fields = list(entity.fields.items())
        wanted = (field_order or {}).get(name, [])
        fields.sort(key=lambda kv: (wanted.index(kv[0]) if kv[0] in wanted else len(wanted)))
        draft_entity = DraftEntity(name, entity.type, required=list(entity.required),
                                   when=[c.describe() for c in entity.when],
                                   local_ids={k: v.model_dump(exclude_defaults=True, by_alias=True, mode="json")
                                              for k, v in sorted(entity.local_ids.items())})
        draft_entity.fields = [DraftField(a, f.model_dump(exclude_defaults=True, by_alias=True, mode="json"))
                               for a, f in fields]
        for f in draft_entity.fields:
            if "when" in f.spec:
                f.spec["when"] = [c.describe() for c in spec.entities[local].fields[f.attribute].when]
        entities.append(draft_entity)
    rank = {n: i for i, n in enumerate(order or [])}
    entities.sort(key=lambda e: rank.get(e.name, len(rank)))
    connector = spec.connector.model_dump(exclude_defaults=True)
    draft = Draft(spec.source, spec.department, connector, list(spec.record_id), spec.title, entities,
                  relations=sorted((names.get(r.subject, r.subject), r.predicate, names.get(r.object, r.object),
                                    " & ".join(c.describe() for c in r.when)) for r in spec.relations),
                  authority=sorted(spec.authority), dates=spec.dates.model_dump(exclude_defaults=True) or None)
    return render(draft, comments=False)


def _align(draft: MappingSpec, final: MappingSpec) -> dict[str, str]:
    """Draft entity name → the final mapping's name for the same entity (same type, most columns shared)."""
    names: dict[str, str] = {}
    free = dict(final.entities)

    def columns(entity: Any) -> set[str]:
        return {c for f in entity.fields.values() for c in f.source_columns}

    for local, entity in draft.entities.items():
        same = [(len(columns(entity) & columns(e)), n) for n, e in free.items() if e.type == entity.type]
        if same:
            _, name = max(same)
            names[local] = name
            del free[name]
    return names


def lines_changed(draft: MappingSpec, final: MappingSpec) -> int:
    """Lines edited, added or deleted to turn the draft into the final mapping (canonical form)."""
    names = _align(draft, final)
    order = list(final.entities)
    field_order = {n: list(e.fields) for n, e in final.entities.items()}
    a = _canonical(draft, names, order, field_order).splitlines()
    b = _canonical(final, None, order, field_order).splitlines()
    changed = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag != "equal":
            changed += max(i2 - i1, j2 - j1)
    return changed


def _same_beyond_sample(draft: MappingSpec, final: MappingSpec, entity_type: str, attribute: str,
                        mine: FieldSpec, theirs: FieldSpec) -> bool:
    """Two fields that agree on values the sample lacks too: same conditions and default, and every key of
    either inline map normalizes alike through both (a code table stands for its whole content)."""
    if [c.describe() for c in mine.when] != [c.describe() for c in theirs.when] or mine.default != theirs.default:
        return False
    if mine.map == theirs.map and mine.normalize == theirs.normalize:
        return True
    keys = [k for m in (mine.map, theirs.map) if isinstance(m, dict) for k in m]
    if not keys or mine.column is None or theirs.column is None:
        return mine.map == theirs.map and (normalizer_name(draft, entity_type, attribute, mine)
                                           == normalizer_name(final, entity_type, attribute, theirs))
    probe = pd.DataFrame({mine.column: keys, theirs.column: keys})
    ours = normalize_field(draft, probe, entity_type, attribute, mine.model_copy(update={"when": []}))
    other = normalize_field(final, probe, entity_type, attribute, theirs.model_copy(update={"when": []}))
    return [r.value for r in ours] == [r.value for r in other]


def _pairs(draft: MappingSpec, final: MappingSpec) -> list[tuple[str, str, FieldSpec | None, FieldSpec]]:
    """(entity type, attribute, the draft's field or None, the final field) for every final field."""
    names = {v: k for k, v in _align(draft, final).items()}
    out = []
    for local, entity in final.entities.items():
        ours = draft.entities.get(names.get(local, ""))
        for attribute, spec_field in entity.fields.items():
            out.append((entity.type, attribute, ours.fields.get(attribute) if ours else None, spec_field))
    return out


def _as_drafted(draft: MappingSpec, final: MappingSpec, right: set[str]) -> MappingSpec:
    """The final mapping with every field the draft already got right written as the draft wrote it
    (a code table instead of the same inline map is no edit the operator had to make)."""
    names = {v: k for k, v in _align(draft, final).items()}
    entities = {}
    for local, entity in final.entities.items():
        ours = draft.entities.get(names.get(local, ""))
        fields = dict(entity.fields)
        for attribute, spec_field in entity.fields.items():
            mine = ours.fields.get(attribute) if ours is not None else None
            if (mine is not None and mine.source_columns == spec_field.source_columns
                    and set(spec_field.source_columns + spec_field.condition_columns) <= right):
                fields[attribute] = mine
        entities[local] = entity.model_copy(update={"fields": fields})
    return final.model_copy(update={"entities": entities})


def compare(draft: MappingSpec, final: MappingSpec, sample: Sample) -> Comparison:
    """Columns `draft` maps as `final` does (targets and normalized values on the sample), and lines changed."""
    frame = pd.DataFrame.from_records(sample.rows) if sample.rows else pd.DataFrame(columns=sample.columns)
    for column in sample.columns:
        if column not in frame:
            frame[column] = None
    columns = [c for c in sample.columns if c != "_sheet"]
    ours, theirs = column_targets(draft), column_targets(final)
    result = Comparison(final.source, len(columns), 0)
    pairs = _pairs(draft, final)
    for column in columns:
        same = ours.get(column, set()) == theirs.get(column, set())
        if same and ours.get(column):
            same = _outputs(draft, frame, column) == _outputs(final, frame, column) and all(
                mine is not None and _same_beyond_sample(draft, final, entity_type, attribute, mine, theirs_field)
                for entity_type, attribute, mine, theirs_field in pairs
                if column in theirs_field.source_columns + theirs_field.condition_columns)
        if same:
            result.right += 1
        else:
            result.wrong.append(column)
    right = set(columns) - set(result.wrong)
    result.lines_changed = lines_changed(draft, _as_drafted(draft, final, right))
    return result
