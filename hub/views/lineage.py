"""Lineage: for each value the caller may see, which departments stated what, and when (pub_claim)."""

from __future__ import annotations

import sqlalchemy as sa

from hub.access.policy import Policy
from hub.store import tables
from hub.store.steps import Query, Steps, run_steps
from hub.views.entity import entity_view_steps
from hub.views.reader import Reader, now_visible, show
from hub.views.reader import utc as _utc
from schemas.views import Claim, EntityView, LineageView, Moved


def lineage(reader: Reader, policy: Policy, entity_id: str, attribute: str | None = None
            ) -> LineageView | Moved | None:
    """`lineage_steps` on the reader's connection."""
    return run_steps(reader.conn, lineage_steps(reader, policy, entity_id, attribute))


def lineage_steps(reader: Reader, policy: Policy, entity_id: str, attribute: str | None = None
                  ) -> Steps[LineageView | Moved | None]:
    """Every current source statement behind the entity's values (of one attribute, when given), for the
    attributes the policy allows, values shown through `present`; the chosen one marked."""
    view = yield from entity_view_steps(reader, policy, entity_id)
    if not isinstance(view, EntityView):
        return view
    c = tables.pub_claim
    query = (sa.select(c.c.attribute, c.c.source, c.c.department, c.c.record_key, c.c.value, c.c.value_enc,
                       c.c.first_seen, c.c.last_seen, c.c.chosen)
             .where(c.c.entity_id == entity_id, now_visible(reader, c))
             .order_by(c.c.attribute, c.c.chosen.desc(), c.c.last_seen.desc(), c.c.record_key))
    if attribute is not None:
        query = query.where(c.c.attribute == attribute)
    disclosed = view.disclosed.model_copy(deep=True)
    disclosed.fields.clear()
    claims = []
    for row in (yield Query(query, reused=False)):
        shown = show(reader, policy, view.entity_type, row.attribute, row.value, row.value_enc, disclosed)
        if shown is None:
            continue
        claims.append(Claim(attribute=row.attribute, source=row.source, department=row.department,
                            record_key=row.record_key, value=shown.value, mode=shown.mode,
                            first_seen=_utc(row.first_seen), last_seen=_utc(row.last_seen),
                            chosen=bool(row.chosen)))
    return LineageView(entity_id=entity_id, entity_type=view.entity_type, claims=claims, disclosed=disclosed)
