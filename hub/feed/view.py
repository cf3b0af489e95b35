"""A consumer's page of the change feed: events after a cursor, of its types and scope, in id order.

Type and scope are conditions of the SQL (an event's places are those its entity had before or after the
change, hub.feed.outbox), events beyond the reader's pinned version are not read (none exist: they commit with
their version's switch), and everything shown passes through the views' `show` like any read: attribute names
the caller may not receive are dropped, values are masked or withheld by clearance, the other entity of a merge
or split is named only when the caller may see it. One query for the events, one for their values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from hub.access.policy import Policy
from hub.store import tables
from hub.store.runs import as_utc
from hub.store.steps import Query, Steps, run_steps
from hub.views.gather import constants, visible_at
from hub.views.reader import QueryError, Reader, decode_cursor, encode_cursor, label_shown, show
from schemas.feed import FeedEvent, FeedPage
from schemas.views import Disclosure, FieldValue

MAX_LIMIT = 1000
_E, _P = tables.change_event, tables.change_event_place
_ENT, _VAL, _S = tables.pub_entity, tables.pub_value, tables.pub_scope
_AFTER: sa.BindParameter[int] = sa.bindparam("after")
_LIMIT: sa.BindParameter[int] = sa.bindparam("limit")
_SCOPE: sa.BindParameter[list[str]] = sa.bindparam("scope", expanding=True)


def _events_statement(types: tuple[str, ...], scoped: bool, by_id: bool = False) -> sa.Select[Any]:
    query = (sa.select(_E.c.id, _E.c.version, _E.c.published_at, _E.c.entity_id, _E.c.entity_type, _E.c.change,
                       _E.c.other_id, _E.c.parts, _E.c.attributes)
             .where(_E.c.version <= sa.bindparam("version"), _E.c.entity_type.in_(constants(types)))
             .order_by(_E.c.id))
    query = (query.where(_E.c.id.in_(sa.bindparam("ids", expanding=True))) if by_id
             else query.where(_E.c.id > _AFTER).limit(_LIMIT))
    if scoped:
        query = query.where(sa.exists(sa.select(1).select_from(_P).where(_P.c.event_id == _E.c.id,
                                                                            _P.c.place_id.in_(_SCOPE))))
    return query


_STATE = (sa.select(_ENT.c.entity_id, _ENT.c.entity_type, _ENT.c.state, _ENT.c.label,
                    sa.literal("", sa.String()).label("attribute"), sa.cast(sa.null(), sa.Text()).label("value"),
                    sa.cast(sa.null(), sa.LargeBinary()).label("value_enc"),
                    sa.cast(sa.null(), sa.String()).label("source"), sa.cast(sa.null(), sa.Integer()).label("sources"))
          .where(_ENT.c.entity_id.in_(sa.bindparam("ids", expanding=True)), visible_at(_ENT)))
_VALUES = (sa.select(_VAL.c.entity_id, _VAL.c.entity_type, sa.literal("active", sa.String()).label("state"),
                     sa.cast(sa.null(), sa.Text()).label("label"), _VAL.c.attribute, _VAL.c.value, _VAL.c.value_enc,
                     _VAL.c.source, _VAL.c.sources)
           .where(_VAL.c.entity_id.in_(sa.bindparam("ids", expanding=True)), visible_at(_VAL)))
_WITH_VALUES, _LABELS_ONLY = sa.union_all(_STATE, _VALUES), _STATE
_VISIBLE_OTHERS = (sa.select(_S.c.entity_id).where(_S.c.entity_id.in_(sa.bindparam("ids", expanding=True)),
                                                    _S.c.place_id.in_(_SCOPE), visible_at(_S)).distinct())


def feed_cursor(after: int) -> str:
    return encode_cursor({"k": "feed", "a": int(after)})


def cursor_position(cursor: str | None) -> int:
    data = decode_cursor(cursor, "feed") or {}
    after = data.get("a", 0)
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after < 2 ** 62:
        raise QueryError("cursor is not one this service gave out for this query")
    return after


def feed(reader: Reader, policy: Policy, *, cursor: str | None = None, limit: int = 100,
         values: bool = False) -> FeedPage:
    """`feed_steps` on the reader's connection."""
    return run_steps(reader.conn, feed_steps(reader, policy, cursor=cursor, limit=limit, values=values))


def feed_steps(reader: Reader, policy: Policy, *, cursor: str | None = None, limit: int = 100,
               values: bool = False, types: Sequence[str] | None = None) -> Steps[FeedPage]:
    """The events after `cursor` (None: from the first) that the policy may see, at most `limit`; `values`: each
    with the entity's values as served at the reader's version; `types`: only these of the allowed types."""
    limit = max(1, min(limit, MAX_LIMIT))
    after = cursor_position(cursor)
    disclosed = Disclosure()
    allowed = tuple(sorted(t for t in policy.entity_types if types is None or t in types))
    if not allowed:
        return FeedPage(next_cursor=feed_cursor(after), more=False, version=reader.version, disclosed=disclosed)
    params: dict[str, Any] = {"after": after, "version": reader.version, "limit": limit + 1}
    if policy.scope is not None:
        params["scope"] = sorted(policy.scope)
    rows = yield Query(_statement(allowed, policy.scope is not None), params)
    more = len(rows) > limit
    rows = rows[:limit]
    if not rows:
        return FeedPage(next_cursor=feed_cursor(after), more=False, version=reader.version, disclosed=disclosed)
    items = yield from _shown_events(reader, policy, rows, values, disclosed)
    return FeedPage(items=items, next_cursor=feed_cursor(rows[-1].id), more=more, version=reader.version,
                    disclosed=disclosed)


def events_steps(reader: Reader, policy: Policy, event_ids: Sequence[int], *, values: bool = True,
                 ) -> Steps[tuple[list[FeedEvent], Disclosure]]:
    """The events of `event_ids` that the policy may see now (a webhook's deliveries), in id order."""
    disclosed = Disclosure()
    allowed = tuple(sorted(policy.entity_types))
    if not allowed or not event_ids:
        return [], disclosed
    params: dict[str, Any] = {"ids": sorted(event_ids), "version": reader.version}
    if policy.scope is not None:
        params["scope"] = sorted(policy.scope)
    rows = yield Query(_statement(allowed, policy.scope is not None, by_id=True), params)
    if not rows:
        return [], disclosed
    items = yield from _shown_events(reader, policy, rows, values, disclosed)
    return items, disclosed


def _shown_events(reader: Reader, policy: Policy, rows: list[Any], values: bool,
                  disclosed: Disclosure) -> Steps[list[FeedEvent]]:
    ids = sorted({row.entity_id for row in rows})
    state_rows = yield Query(_WITH_VALUES if values else _LABELS_ONLY, {"version": reader.version, "ids": ids})
    others = sorted({row.other_id for row in rows if row.other_id})
    seen_others = set(others)
    if others and policy.scope is not None:
        seen_others = {r.entity_id for r in (yield Query(_VISIBLE_OTHERS, {"version": reader.version, "ids": others,
                                                                          "scope": sorted(policy.scope)}))}
    return _items(reader, policy, rows, state_rows, seen_others, values, disclosed)


_STATEMENTS: dict[tuple[tuple[str, ...], bool, bool], sa.Select[Any]] = {}


def _statement(types: tuple[str, ...], scoped: bool, by_id: bool = False) -> sa.Select[Any]:
    """Built once per shape, so a driver may keep its compiled SQL."""
    key = (types, scoped, by_id)
    if key not in _STATEMENTS:
        _STATEMENTS[key] = _events_statement(types, scoped, by_id)
    return _STATEMENTS[key]


def _split(text: str | None) -> list[str]:
    return sorted(set(text.split(","))) if text else []


def _items(reader: Reader, policy: Policy, rows: list[Any], state_rows: list[Any], seen_others: set[str],
           values: bool, disclosed: Disclosure) -> list[FeedEvent]:
    labels: dict[str, str | None] = {}
    active: set[str] = set()
    shown: dict[str, dict[str, FieldValue]] = {}
    for row in sorted(state_rows, key=lambda r: (r.entity_id, r.attribute)):
        if row.attribute == "":
            labels[row.entity_id] = label_shown(policy, row.entity_type, row.label)
            if row.state == "active":
                active.add(row.entity_id)
            continue
        value = show(reader, policy, row.entity_type, row.attribute, row.value, row.value_enc, disclosed, row.source,
                     row.sources)
        if value is not None:
            shown.setdefault(row.entity_id, {})[row.attribute] = value
    items = []
    for row in rows:
        disclosed.add(row.entity_id)
        other = row.other_id if row.other_id in seen_others else None
        if other:
            disclosed.add(other)
        published_at = as_utc(row.published_at)
        assert published_at is not None
        items.append(FeedEvent(
            id=row.id, version=row.version, published_at=published_at, entity_id=row.entity_id,
            entity_type=row.entity_type, change=row.change, other_id=other, parts=_split(row.parts),
            attributes=[a for a in _split(row.attributes) if policy.allows_field(row.entity_type, a)],
            label=labels.get(row.entity_id),
            values=(shown.get(row.entity_id, {}) if values and row.entity_id in active else None)))
    return items


def latest_event(conn: sa.Connection) -> int:
    """The id of the newest event (0: none): where a follower that wants only what comes next starts."""
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(_E.c.id), 0))).scalar_one())
