"""The reader every view takes: one connection, one pinned publication version, the vault; and the pieces
all views share (row visibility, scope as SQL, values shown through `present`, cursors).

Pinning the version once per request is what makes a request see one publication whole (G13): every query
of the request adds `visible(table, version)`, whatever is published meanwhile.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Table

import schemas
from hub.access.policy import Policy
from hub.errors import HubError
from hub.protect import Vault, present
from hub.publish import current_version
from hub.publish.build import LABEL_ATTRIBUTES
from hub.publish.versioned import visible
from hub.store import tables
from schemas.views import Disclosure, FieldValue


def utc(moment: datetime) -> datetime:
    """A stored time as UTC: SQLite gives times back without their zone, and the hub writes UTC only."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class NothingPublished(HubError):
    """No publication yet: the read model is empty until `hub resolve` (which publishes) has run."""


class QueryError(HubError):
    """A query the caller must correct (a malformed ID number, a bad cursor): says what, never the value."""


@dataclass(frozen=True)
class Reader:
    bound: Connection | None
    """The connection the reader's queries run on; None: the view runs as steps (hub.store.steps) whose
    queries the caller executes, as the API does on its driver connection."""
    version: int
    vault: Vault
    tentative: bool = False
    """The version was the latest published one at an earlier request (the API's admission cache): the view's
    first query (hub.views.gather) checks it is still the latest, in the same snapshot as its rows, and
    raises StaleVersion otherwise."""

    @property
    def conn(self) -> Connection:
        if self.bound is None:
            raise RuntimeError("this reader has no connection: run the view as steps (hub.store.steps)")
        return self.bound


def open_reader(conn: Connection, vault: Vault) -> Reader:
    """A reader pinned to the latest published version."""
    return pinned_reader(conn, current_version(conn), vault)


def pinned_reader(conn: Connection | None, version: int | None, vault: Vault) -> Reader:
    """A reader pinned to `version`, the latest published one as the caller read it (None: nothing yet)."""
    if version is None:
        raise NothingPublished("nothing published yet: run `hub resolve`")
    return Reader(conn, int(version), vault)


def now_visible(reader: Reader, table: Table) -> sa.ColumnElement[bool]:
    return visible(table, reader.version)


def in_scope(reader: Reader, policy: Policy, entity_id: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """The policy's scope as a condition of the query: an entity belongs to one of its places, or no scope."""
    if policy.scope is None:
        return sa.true()
    s = tables.pub_scope
    return sa.exists(sa.select(1).select_from(s).where(
        s.c.entity_id == entity_id, s.c.place_id.in_(sorted(policy.scope)), now_visible(reader, s)))


def allowed_types(policy: Policy, wanted: Iterable[str] | None = None) -> list[str]:
    types = sorted(policy.entity_types)
    return types if wanted is None else [t for t in types if t in set(wanted)]


def shown_value(reader: Reader, policy: Policy, entity_type: str, attribute: str, value: object,
                value_enc: bytes | memoryview | None, disclosed: Disclosure, source: str | None = None,
                sources: int | None = None) -> dict[str, Any] | None:
    """A stored value as the policy may see it, as the JSON object of a FieldValue (None: the field is not the
    caller's to receive at all); `source`, `sources`: the fused value's source and how many state it. A plain
    dict: a profile shows a hundred values, and a validated model for each cost more than reading them."""
    if not policy.allows_field(entity_type, attribute):
        return None
    if value is None and value_enc is not None:
        value = reader.vault.decrypt_text(bytes(value_enc))
    shown, mode = present(entity_type, attribute, value, policy.clearance)
    disclosed.add(field=f"{entity_type}.{attribute}", mode=mode)
    return {"value": shown, "mode": mode, "source": source, "sources": sources}


def show(reader: Reader, policy: Policy, entity_type: str, attribute: str, value: object,
         value_enc: bytes | memoryview | None,
         disclosed: Disclosure, source: str | None = None, sources: int | None = None) -> FieldValue | None:
    """`shown_value` as a FieldValue."""
    shown = shown_value(reader, policy, entity_type, attribute, value, value_enc, disclosed, source, sources)
    return None if shown is None else FieldValue(**shown)


def label_shown(policy: Policy, entity_type: str, label: str | None) -> str | None:
    """An entity's display label (masked at publication, hub.publish.build) only for a caller who may receive
    every attribute it is made of: a grant without `name` gets no masked name through the label either."""
    if label is None or all(policy.allows_field(entity_type, a) for a in LABEL_ATTRIBUTES.get(entity_type, ())):
        return label
    return None


def relation_allowed(policy: Policy, predicate: str) -> bool:
    """Whether the caller may learn that a relation exists: its predicate's sensitivity against the clearance."""
    try:
        level = schemas.PREDICATE_SENSITIVITY[schemas.RelationPredicate(predicate)]
    except ValueError:
        level = schemas.Sensitivity.highly_sensitive
    return policy.clearance.covers(level)


def encode_cursor(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: str) -> dict[str, Any] | None:
    if cursor is None:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        raise QueryError("cursor is not one this service gave out") from None
    if not isinstance(data, dict) or data.get("k") != kind:
        raise QueryError("cursor is not one this service gave out for this query")
    return data
