"""Turn a batch of landed raw records into statements and quarantine rows.

Work is column-wise: each mapped field is normalized once per distinct value over the whole
batch, then statements are emitted per attribute. A value that fails its normalizer is kept as a
quarantine row (source, record id, field, reason); an entity missing a required attribute is
rejected as a whole; a record none of whose entities survives counts as quarantined. Sensitive
values are encrypted and, where the model says so, tokenized before they leave this module. The
output is one statement row per record entity, its values a list of entries (hub.statements.entries).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

import schemas
from hub.mapping import EntitySpec, MappingSpec
from hub.mapping.conditions import conditions_hold
from hub.normalize.base import Normalized
from hub.protect import Vault
from hub.statements.columns import normalize_entity, normalize_local_id
from hub.statements.entries import ciphertext_text, encode, row_id

QUARANTINE_COLUMNS = (
    "source", "source_record_id", "run_id", "raw_record_id", "position", "entity_ref", "field", "kind",
    "reason", "raw_enc", "created_at",
)


@dataclass(frozen=True)
class RecordRefs:
    """The landed records of a batch, aligned with the rows of its frame."""

    record_ids: Sequence[str]
    raw_ids: Sequence[str]
    positions: Sequence[str | None]
    stamps: Sequence[datetime | str] | None = None   # first/last seen per record, when not all the batch's time


@dataclass
class StatementBatch:
    rows: list[tuple[Any, ...]] = field(default_factory=list)   # statement rows, in STATEMENT_COLUMNS order
    quarantine: list[tuple[Any, ...]] = field(default_factory=list)
    values: int = 0          # statements (entries) over all rows: attribute values and relations
    loaded: int = 0
    quarantined: int = 0
    quarantined_values: int = 0


class _Emitter:
    """Encodes values by their sensitivity and collects them, a column at a time, into one entry list per
    record entity; `rows` then turns each non-empty list into a statement row.

    One call per attribute of an entity adds that attribute's entries for every row of the batch, so
    the per-value work is an append of a tuple (and an encryption for sensitive values), nothing more.
    """

    def __init__(self, spec: MappingSpec, refs: RecordRefs, run_id: str, now: datetime | str, vault: Vault,
                 out: StatementBatch):
        self.spec, self.refs, self.run_id, self.now, self.vault, self.out = spec, refs, run_id, now, vault, out
        self._protection: dict[tuple[str, str], tuple[bool, bool]] = {}
        self._cells: dict[str, tuple[str, list[list[tuple[Any, ...]]]]] = {}   # entity_ref → (type, per row)

    def protection(self, entity_type: str, attribute: str) -> tuple[bool, bool]:
        """(encrypt, tokenize) for an attribute, from its sensitivity in schemas/."""
        key = (entity_type, attribute)
        if key not in self._protection:
            meta = schemas.attribute_spec(entity_type, attribute)
            self._protection[key] = (meta is not None and meta.sensitivity.encrypted,
                                     meta is not None and meta.tokenized)
        return self._protection[key]

    def statements(self, rows: Sequence[int], entity_type: str, entity_ref: str, attribute: str,
                   values: Sequence[str], method: str, source_field: str | None,
                   flags: Sequence[str | None] | None = None) -> None:
        """Entries of one attribute for the given rows; `values` (and `flags`) align with `rows`."""
        if not rows:
            return
        if entity_ref not in self._cells:
            self._cells[entity_ref] = (entity_type, [[] for _ in self.refs.raw_ids])
        cells = self._cells[entity_ref][1]
        encrypt, tokenize = self.protection(entity_type, attribute)
        clear: Iterable[str | None] = repeat(None) if encrypt else values
        encrypted: Iterable[str | None] = (map(ciphertext_text, self.vault.encrypt_many(values)) if encrypt
                                           else repeat(None))
        tokens: Iterable[str | None] = self.vault.tokens(values) if tokenize else repeat(None)
        # zip stops with `rows`; repeat() pads what an attribute does not have
        for i, value, enc, token, flag in zip(rows, clear, encrypted, tokens,  # noqa: B905
                                              repeat(None) if flags is None else flags):
            cells[i].append((attribute, value, enc, token, method, source_field, flag))
        self.out.values += len(rows)

    def rows(self) -> None:
        """One statement row per record entity that states anything (its id: `row_id`)."""
        raw_ids, record_ids, source, run_id, now = (self.refs.raw_ids, self.refs.record_ids, self.spec.source,
                                                    self.run_id, self.now)
        stamps = self.refs.stamps
        for entity_ref, (entity_type, cells) in self._cells.items():
            stating = [i for i, entries in enumerate(cells) if entries]
            ids = [row_id(raw_ids[i], entity_ref) for i in stating]
            # first and last seen: the batch's time, or each record's own (a change log's versions)
            times: Iterable[datetime | str] = repeat(now) if stamps is None else [stamps[i] for i in stating]
            self.out.rows.extend(zip(ids, repeat(source), [record_ids[i] for i in stating], repeat(entity_type),
                                     repeat(entity_ref), [encode(cells[i]) for i in stating],
                                     [raw_ids[i] for i in stating], repeat(run_id), times, times))

    def problem(self, i: int, entity_ref: str | None, fld: str | None, kind: str, reason: str) -> None:
        self.out.quarantine.append((
            self.spec.source, self.refs.record_ids[i], self.run_id, self.refs.raw_ids[i], self.refs.positions[i],
            entity_ref, fld, kind, reason, None, self.now,
        ))


def _emit_entity(em: _Emitter, local: str, entity: EntitySpec, results: dict[str, list[Normalized]],
                 accepted: list[bool]) -> None:
    """Statements for one entity of every accepted row: mapped values, then derived ones.

    A derived value (birth date from an ID, building from an address) becomes a statement only where
    the row has no valid value of its own for that attribute; where both exist and disagree, the
    mapped value stands and the disagreement is flagged in quarantine.
    """
    known = schemas.attributes(entity.type)
    for attribute, column in results.items():
        spec = entity.fields[attribute]
        source_field = "+".join(spec.source_columns) or None
        method = "const" if spec.const is not None else "mapped"
        for i, res in enumerate(column):
            if res.value is None and res.reason is not None:
                em.out.quarantined_values += 1
                em.problem(i, local, source_field or attribute, "value", res.reason)
        rows = [i for i, res in enumerate(column) if res.value is not None and accepted[i]]
        em.statements(rows, entity.type, local, attribute, [column[i].value for i in rows],  # type: ignore[misc]
                      method, source_field, [",".join(column[i].flags) or None for i in rows])
        deriving = [i for i, res in enumerate(column) if res.derived and accepted[i]]
        if not deriving:
            continue
        implied = {name for i in deriving for name in column[i].derived}
        for derived_attr in (a for a in known if a != attribute and a in implied):
            own = results.get(derived_attr)
            emit_rows: list[int] = []
            emit_values: list[str] = []
            for i in deriving:
                derived_value = column[i].derived.get(derived_attr)
                if derived_value is None:
                    continue
                own_value = own[i].value if own is not None else None
                if own_value is None:
                    emit_rows.append(i)
                    emit_values.append(derived_value)
                elif own_value != derived_value:
                    em.problem(i, local, source_field, "flag",
                               f"{derived_attr}: differs from the {derived_attr} implied by {attribute}")
            em.statements(emit_rows, entity.type, local, derived_attr, emit_values, "derived", source_field)


def _emit_local_ids(em: _Emitter, local: str, entity: EntitySpec, frame: pd.DataFrame, accepted: list[bool]) -> None:
    """Statements of the entity's department-local identifiers (`local_id:<name>`, method local_id)."""
    rows = np.asarray(accepted, dtype=bool)
    for name, spec_field in entity.local_ids.items():
        column = normalize_local_id(em.spec, frame, spec_field, rows)
        source_field = "+".join(spec_field.source_columns) or None
        for i, res in enumerate(column):
            if res.value is None and res.reason is not None and accepted[i]:
                em.out.quarantined_values += 1
                em.problem(i, local, source_field or name, "value", res.reason)
        emit = [i for i, res in enumerate(column) if res.value is not None and accepted[i]]
        em.statements(emit, entity.type, local, schemas.local_id_attribute(name),
                      [column[i].value for i in emit], schemas.LOCAL_ID_METHOD, source_field)  # type: ignore[misc]


def build_statements(spec: MappingSpec, frame: pd.DataFrame, refs: RecordRefs, *, run_id: str,
                     now: datetime | str, vault: Vault) -> StatementBatch:
    """Statements and quarantine rows for the new records of one batch (frame rows align with refs)."""
    out = StatementBatch()
    em = _Emitter(spec, refs, run_id, now, vault, out)
    n = len(frame)
    accepted_by_entity: dict[str, list[bool]] = {}
    for local, entity in spec.entities.items():
        # absent where its `when` does not hold or none of its own columns is filled (a const alone is no entity)
        results, accepted = normalize_entity(spec, frame, entity)
        for attribute in entity.required:
            for i, res in enumerate(results[attribute]):
                if accepted[i] and res.value is None:
                    accepted[i] = False
                    why = "is missing" if res.reason is None else f"is invalid ({res.reason})"
                    em.problem(i, local, attribute, "entity", f"{entity.type} rejected: required {attribute} {why}")
        _emit_entity(em, local, entity, results, accepted)
        _emit_local_ids(em, local, entity, frame, accepted)
        accepted_by_entity[local] = accepted
    for rel in spec.relations:
        subject_ok, object_ok = accepted_by_entity[rel.subject], accepted_by_entity[rel.object]
        holds = conditions_hold(frame, rel.when).tolist() if rel.when else [True] * n
        both = [i for i in range(n) if subject_ok[i] and object_ok[i] and holds[i]]
        em.statements(both, spec.entities[rel.subject].type, rel.subject, rel.predicate, [rel.object] * len(both),
                      "relation", None)
    for i in range(n):
        if any(accepted[i] for accepted in accepted_by_entity.values()):
            out.loaded += 1
        else:
            out.quarantined += 1
            em.problem(i, None, None, "record", "no entity of this record could be loaded")
    em.rows()
    return out
