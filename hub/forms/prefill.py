"""Prefill: a form for one person, each field filled from the published read model or marked to collect.

A core view like the profiles (hub.views): the person is gathered with its related ends in one query (type
and scope checked in the SQL, hub.views.gather), then the values of the entities the form needs are read with
their chosen claim (source, department, last seen: the field's freshness) in a second one. Every value goes
through the one masking function (hub.views.reader.show → hub.protect.present), and a relation whose mere
existence is above the caller's clearance (a situation's applies_to) is not looked at: its fields answer
`withheld` whether or not the hub holds them, so the answer tells nothing about the person's situations.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hub.access.policy import Policy
from hub.forms.model import FormField, FormTemplate
from hub.store import tables
from hub.store.steps import Query, Steps, run_steps
from hub.views.entity import view_of
from hub.views.gather import Gathered, gather_steps, visible_at
from hub.views.reader import Reader, relation_allowed, show, utc
from schemas.forms import FieldStatus, FormPrefill, PrefilledField
from schemas.views import Disclosure, EntityView, Moved

_V, _C = tables.pub_value, tables.pub_claim
_VALUES = (sa.select(_V.c.entity_id, _V.c.entity_type, _V.c.attribute, _V.c.value, _V.c.value_enc, _V.c.source,
                     _V.c.sources, _C.c.department, _C.c.last_seen)
           .select_from(_V.outerjoin(_C, (_C.c.entity_id == _V.c.entity_id) & (_C.c.attribute == _V.c.attribute)
                                     & _C.c.chosen & visible_at(_C)))
           .where(_V.c.entity_id.in_(sa.bindparam("ids", expanding=True)), visible_at(_V)))
"""The values of the entities a form reads, each with its chosen claim's department and last sighting."""


def prefill(reader: Reader, policy: Policy, form: FormTemplate, person_id: str) -> FormPrefill | Moved | None:
    """`prefill_steps` on the reader's connection (the CLI)."""
    return run_steps(reader.conn, prefill_steps(reader, policy, form, person_id))


def prefill_steps(reader: Reader, policy: Policy, form: FormTemplate, person_id: str,
                  ) -> Steps[FormPrefill | Moved | None]:
    """The form prefilled for the person as the policy may see it; a merged id: where it moved to; a person the
    policy may not see, or unknown: None."""
    gathered = yield from gather_steps(reader, policy, person_id, with_related=True)
    view = view_of(reader, policy, person_id, gathered)
    if not isinstance(view, EntityView) or view.entity_type != "person":
        return view if isinstance(view, Moved) else None
    ends = _ends(reader, policy, form.fields, gathered)
    read = sorted({person_id, *(end for end in ends.values() if end is not None and end != _UNSEEN)})
    rows = yield Query(_VALUES, {"version": reader.version, "ids": read})
    values = {(row.entity_id, row.attribute): row for row in rows}
    disclosed = Disclosure()
    disclosed.add(person_id)
    fields = [_field(reader, policy, item, person_id, ends, values, disclosed) for item in form.fields]
    return FormPrefill(form=form.id, title=form.title.zh, subject_id=person_id, version=reader.version,
                       fields=fields, to_collect=[f.key for f in fields if f.status == "to_collect"],
                       served=sum(f.status == "filled" for f in fields), disclosed=disclosed)


_UNSEEN = "unseen"
"""An end the caller may not learn about (the relation is above its clearance or the type outside its grant)."""


def _ends(reader: Reader, policy: Policy, fields: Iterable[FormField], gathered: Gathered) -> dict[str, str | None]:
    """Per related end a form reads (`_end_key`): the entity id, None when the person has none, `_UNSEEN` when
    the caller may not know."""
    now = datetime.now(UTC)
    current = [row for row in gathered.related
               if row.valid_to is None or utc(row.valid_to) > now]
    out: dict[str, str | None] = {}
    for item in fields:
        bind = item.bind
        if bind.kind == "attribute":
            continue
        predicate, direction = (bind.predicate, "out") if bind.kind == "relation" else ("applies_to", "in")
        key = _end_key(item)
        if key in out:
            continue
        if not (relation_allowed(policy, str(predicate)) and policy.allows_type(bind.entity_type)):
            out[key] = _UNSEEN
            continue
        found = sorted((row for row in current if row.name == predicate and row.state == direction
                        and row.entity_type == bind.entity_type),   # the newest relation first, undated last
                       key=lambda r: (utc(r.at).timestamp() if r.at else float("-inf"), r.entity_id), reverse=True)
        if bind.kind == "situation":
            found = [row for row in found if _situation_type(reader, gathered, row.entity_id) == bind.situation]
        out[key] = found[0].entity_id if found else None
    return out


def _end_key(item: FormField) -> str:
    bind = item.bind
    return f"relation:{bind.predicate}:{bind.entity_type}" if bind.kind == "relation" else f"situation:{bind.situation}"


def _situation_type(reader: Reader, gathered: Gathered, entity_id: str) -> str | None:
    for row in gathered.related_values:
        if row.entity_id == entity_id and row.name == "situation_type":
            return row.value if row.value is not None else reader.vault.decrypt_text(bytes(row.value_enc))
    return None


def _field(reader: Reader, policy: Policy, item: FormField, person_id: str, ends: dict[str, str | None],
           values: dict[tuple[str, str], Any], disclosed: Disclosure) -> PrefilledField:
    bind = item.bind

    def made(status: FieldStatus, **shown: Any) -> PrefilledField:
        return PrefilledField(key=item.key, label=item.label.zh, bind=bind.text, required=item.required,
                              status=status, **shown)

    entity_id = person_id if bind.kind == "attribute" else ends.get(_end_key(item))
    if entity_id == _UNSEEN or not policy.allows_field(bind.entity_type, bind.attribute):
        return made("withheld")
    row = values.get((entity_id, bind.attribute)) if entity_id is not None else None
    if row is None:
        return made("to_collect")
    shown = show(reader, policy, bind.entity_type, bind.attribute, row.value, row.value_enc, disclosed, row.source,
                 row.sources)
    if shown is None or shown.mode == "withheld":
        return made("withheld", mode="withheld" if shown is not None else None)
    disclosed.add(entity_id)
    return made("filled", value=shown.value, mode=shown.mode, source=shown.source, department=row.department,
                as_of=utc(row.last_seen) if row.last_seen else None, entity_id=entity_id)
