"""The share of a form's fields the hub serves: over the form's applicants among the active persons of the
published read model (`applicants` in the template; every person when left out), how many of the form's
fields prefill would fill (the hub holds a value), per field and in all.

Set operations, one query per binding kind, whatever the number of persons: the persons holding each
attribute; those with a current relation to an entity holding the attribute; those with a situation of the
type holding the attribute (a situation's type is encrypted at rest: its values are decrypted once each to
be compared, as 核验 does). What `hub forms list`, `make run` and the closing figures of issue 23 report.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

import pandas as pd
import sqlalchemy as sa

from hub.forms.model import Applicants, FormTemplate
from hub.store import tables
from hub.views.reader import Reader, now_visible
from schemas.forms import FieldShare, FormShare

_E, _V, _R = tables.pub_entity, tables.pub_value, tables.pub_relation
SITUATION_TYPE = "situation_type"


def _persons(reader: Reader) -> set[str]:
    query = sa.select(_E.c.entity_id).where(_E.c.entity_type == "person", _E.c.state == "active",
                                            now_visible(reader, _E))
    return {row.entity_id for row in reader.conn.execute(query)}


def _person_values(reader: Reader, attributes: list[str]) -> pd.DataFrame:
    rows = reader.conn.execute(sa.select(_V.c.entity_id, _V.c.attribute, _V.c.value).where(
        _V.c.entity_type == "person", _V.c.attribute.in_(attributes), now_visible(reader, _V)))
    return pd.DataFrame(rows.all(), columns=["entity_id", "attribute", "value"])


def _situations(reader: Reader, attributes: set[str]) -> dict[str, set[str]]:
    """`situation[TYPE]` → persons with a current situation of the type; `situation[TYPE].ATTRIBUTE` → those
    whose situation of the type holds the attribute."""
    current = sa.or_(_R.c.valid_to.is_(None), _R.c.valid_to > datetime.now(UTC))
    rows = reader.conn.execute(sa.select(_R.c.object_id, _V.c.entity_id, _V.c.attribute, _V.c.value,
                                         _V.c.value_enc).join(_V, _V.c.entity_id == _R.c.subject_id).where(
        _R.c.predicate == "applies_to", current, now_visible(reader, _R),
        _V.c.attribute.in_(sorted(attributes | {SITUATION_TYPE})), now_visible(reader, _V)))
    kinds: dict[str, str | None] = {}
    held: list[tuple[str, str, str]] = []
    for row in rows:
        if row.attribute == SITUATION_TYPE:
            kinds[row.entity_id] = row.value if row.value is not None else \
                reader.vault.decrypt_text(bytes(row.value_enc))
        held.append((row.object_id, row.entity_id, row.attribute))
    out: dict[str, set[str]] = defaultdict(set)
    for person, entity_id, attribute in held:
        kind = kinds.get(entity_id)
        out[f"situation[{kind}]"].add(person)
        out[f"situation[{kind}].{attribute}"].add(person)
    return out


def _holders(reader: Reader, forms: list[FormTemplate]) -> dict[str, set[str]]:
    """bind.text → the person ids the hub serves that field for (and `situation[TYPE]` → its holders)."""
    binds = [item.bind for form in forms for item in form.fields]
    out: dict[str, set[str]] = defaultdict(set)
    plain = sorted({b.attribute for b in binds if b.kind == "attribute"})
    if plain:
        values = _person_values(reader, plain)
        for attribute, ids in values.groupby("attribute")["entity_id"]:
            out[f"person.{attribute}"] = set(ids)
    current = sa.or_(_R.c.valid_to.is_(None), _R.c.valid_to > datetime.now(UTC))
    for bind in {b.text: b for b in binds if b.kind == "relation"}.values():
        rows = reader.conn.execute(sa.select(_R.c.subject_id).join(_V, _V.c.entity_id == _R.c.object_id).where(
            _R.c.predicate == bind.predicate, _R.c.object_type == bind.entity_type, current,
            now_visible(reader, _R), _V.c.attribute == bind.attribute, now_visible(reader, _V)).distinct())
        out[bind.text] = {row.subject_id for row in rows}
    wanted = {b.attribute for b in binds if b.kind == "situation"}
    if wanted or any(f.applicants and f.applicants.situation for f in forms):
        out.update(_situations(reader, wanted))
    return out


def _applicants(reader: Reader, persons: set[str], given: Applicants | None,
                holders: dict[str, set[str]]) -> set[str]:
    if given is None:
        return persons
    chosen = set(persons)
    if given.situation is not None:
        chosen &= holders.get(f"situation[{given.situation}]", set())
    if given.population_type is not None:
        values = _person_values(reader, ["population_type"])
        chosen &= set(values.loc[values["value"] == given.population_type, "entity_id"])
    if given.min_age is not None:
        born = _person_values(reader, ["birth_date"])
        dates = pd.to_datetime(born["value"], errors="coerce", format="%Y-%m-%d")
        latest = pd.Timestamp(date.today()) - pd.DateOffset(years=given.min_age)
        chosen &= set(born.loc[dates <= latest, "entity_id"])
    return chosen


def served_shares(reader: Reader, forms: list[FormTemplate]) -> list[FormShare]:
    """Per form, the share of its fields the hub serves over its applicants (see the module's docstring)."""
    persons = _persons(reader)
    holders = _holders(reader, forms)
    out = []
    for form in forms:
        applicants = _applicants(reader, persons, form.applicants, holders)
        fields = [FieldShare(key=item.key, bind=item.bind.text, required=item.required,
                             filled=len(holders.get(item.bind.text, set()) & applicants)) for item in form.fields]
        required = [f for f in fields if f.required]
        denominator = max(len(applicants), 1)
        out.append(FormShare(form=form.id, title=form.title.zh, persons=len(applicants), fields=fields,
                             share=round(sum(f.filled for f in fields) / (denominator * len(fields)), 4),
                             required_share=round(sum(f.filled for f in required)
                                                  / (denominator * max(len(required), 1)), 4)))
    return out
