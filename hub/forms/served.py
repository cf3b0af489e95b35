"""The share of a form's fields the hub serves: over every active person of the published read model, how many
of the form's fields prefill would fill (the hub holds a value), per field and in all.

Set operations, one query per binding kind, whatever the number of persons: the persons holding each
attribute; those with a current relation to an entity holding the attribute; those with a situation of the
type holding the attribute (a situation's type is encrypted at rest: its values are decrypted once each to
be compared, as 核验 does). What `hub forms list`, `make run` and the closing figures of issue 23 report.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa

from hub.forms.model import FormTemplate
from hub.store import tables
from hub.views.reader import Reader, now_visible
from schemas.forms import FieldShare, FormShare

_E, _V, _R = tables.pub_entity, tables.pub_value, tables.pub_relation


def _persons(reader: Reader) -> set[str]:
    query = sa.select(_E.c.entity_id).where(_E.c.entity_type == "person", _E.c.state == "active",
                                            now_visible(reader, _E))
    return {row.entity_id for row in reader.conn.execute(query)}


def _holders(reader: Reader, forms: list[FormTemplate]) -> dict[str, set[str]]:
    """bind.text → the person ids the hub serves that field for."""
    binds = [item.bind for form in forms for item in form.fields]
    out: dict[str, set[str]] = defaultdict(set)
    plain = sorted({b.attribute for b in binds if b.kind == "attribute"})
    if plain:
        rows = reader.conn.execute(sa.select(_V.c.entity_id, _V.c.attribute).where(
            _V.c.entity_type == "person", _V.c.attribute.in_(plain), now_visible(reader, _V)))
        for row in rows:
            out[f"person.{row.attribute}"].add(row.entity_id)
    now = datetime.now(UTC)
    current = sa.or_(_R.c.valid_to.is_(None), _R.c.valid_to > now)
    for bind in {b.text: b for b in binds if b.kind == "relation"}.values():
        rows = reader.conn.execute(sa.select(_R.c.subject_id).join(_V, _V.c.entity_id == _R.c.object_id).where(
            _R.c.predicate == bind.predicate, _R.c.object_type == bind.entity_type, current,
            now_visible(reader, _R), _V.c.attribute == bind.attribute, now_visible(reader, _V)).distinct())
        out[bind.text] = {row.subject_id for row in rows}
    situation = [b for b in binds if b.kind == "situation"]
    if situation:
        wanted = sorted({b.attribute for b in situation} | {"situation_type"})
        rows = reader.conn.execute(sa.select(_R.c.object_id, _V.c.entity_id, _V.c.attribute, _V.c.value,
                                             _V.c.value_enc).join(_V, _V.c.entity_id == _R.c.subject_id).where(
            _R.c.predicate == "applies_to", current, now_visible(reader, _R), _V.c.attribute.in_(wanted),
            now_visible(reader, _V)))
        kinds: dict[str, str | None] = {}
        held: list[tuple[str, str, str]] = []
        for row in rows:
            if row.attribute == "situation_type":
                kinds[row.entity_id] = row.value if row.value is not None else \
                    reader.vault.decrypt_text(bytes(row.value_enc))
            held.append((row.object_id, row.entity_id, row.attribute))
        for person, entity_id, attribute in held:
            out[f"situation[{kinds.get(entity_id)}].{attribute}"].add(person)
    return out


def served_shares(reader: Reader, forms: list[FormTemplate]) -> list[FormShare]:
    """Per form, the share of its fields the hub serves over every active person (see the module's docstring)."""
    persons = _persons(reader)
    holders = _holders(reader, forms)
    out = []
    for form in forms:
        fields = [FieldShare(key=item.key, bind=item.bind.text, required=item.required,
                             filled=len(holders.get(item.bind.text, set()) & persons)) for item in form.fields]
        required = [f for f in fields if f.required]
        denominator = max(len(persons), 1)
        out.append(FormShare(form=form.id, title=form.title.zh, persons=len(persons), fields=fields,
                             share=round(sum(f.filled for f in fields) / (denominator * len(fields)), 4),
                             required_share=round(sum(f.filled for f in required)
                                                  / (denominator * max(len(required), 1)), 4)))
    return out
