"""Downstream apps (consumers) and their credentials: who may ask the hub, for what, about what and where.

A consumer declares its purpose (用途), a clearance, the entity types and fields it may receive and a scope
(communities and grids, given by name or code and kept as place ids). It authenticates with a client secret
(OAuth2 client credentials, hub.access.tokens) or an API key. Secrets are random (`secrets.token_urlsafe`),
shown once and stored only as keyed hashes (HMAC-SHA256 under AccessKeys.credential): a copy of the store
holds nothing that authenticates.

Write grants (what a consumer may write back through forms, hub.forms.writeback) are kept in the JSON list of
the `claims` column beside the 核验 claim kinds, each as `write:<form>` or `write:<form>.<field>`: both are
grants beyond reading, and the list needed no migration. `consumer_from_row` parses them apart.

Changes made on behalf of someone (`by`) are audited in the same transaction as the change.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

import schemas
from hub.access.keys import AccessKeys
from hub.access.policy import CLAIM_KINDS, WRITE_GRANT, Policy, Role
from hub.audit import AuditEntry, append, seal
from hub.errors import HubError
from hub.store import tables
from hub.store.runs import as_utc, now

ConsumerRole = Literal["consumer", "auditor"]
CredentialKind = Literal["client_secret", "api_key"]
API_KEY_PREFIX = "hk_"
"""An API key reads `hk_<credential id>_<secret>`: the id finds the one stored hash to compare with."""
SCOPE_PLACE_TYPES = (schemas.PlaceType.community.value, schemas.PlaceType.grid.value)
WRITE_PREFIX = "write:"
"""A write grant's entry in the `claims` column's list (the module's docstring)."""


class ConsumerError(HubError):
    """A consumer request names something that is not there (a type, field, place or consumer) or is malformed."""


@dataclass(frozen=True)
class Scope:
    """The place ids a consumer's entities must belong to."""

    communities: tuple[str, ...]
    grids: tuple[str, ...]

    @property
    def place_ids(self) -> frozenset[str]:
        return frozenset(self.communities) | frozenset(self.grids)


@dataclass(frozen=True)
class CredentialRow:
    id: str
    kind: CredentialKind
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def usable(self, at: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)


@dataclass(frozen=True)
class ConsumerRow:
    id: str
    """Its OAuth2 client id."""
    name: str
    purpose: str
    role: ConsumerRole
    clearance: schemas.Sensitivity
    entity_types: tuple[str, ...]
    fields: Mapping[str, tuple[str, ...]] | None
    scope: Scope | None
    state: Literal["active", "revoked"]
    created_at: datetime
    revoked_at: datetime | None
    credentials: tuple[CredentialRow, ...] = ()
    claims: tuple[str, ...] = ()
    """The 核验 claim kinds it may check (hub.verify)."""
    writes: tuple[str, ...] = ()
    """What it may write back: form ids (every field) and `form.field` entries (Policy.writes)."""

    def policy(self) -> Policy:
        """The policy every request of this consumer runs under."""
        return policy_of(self)


@dataclass(frozen=True, repr=False)
class Secret:
    """A credential's secret, as it is shown once: the store keeps only its keyed hash."""

    consumer_id: str
    credential_id: str
    kind: CredentialKind
    value: str
    expires_at: datetime | None = None

    def __repr__(self) -> str:   # never in a log or a traceback
        return f"Secret(consumer_id={self.consumer_id!r}, credential_id={self.credential_id!r}, kind={self.kind!r})"


def secret_hash(keys: AccessKeys, secret: str) -> str:
    return hmac.new(keys.credential, secret.encode("utf-8"), hashlib.sha256).hexdigest()


def secret_matches(keys: AccessKeys, secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(keys, secret), stored_hash)


def policy_of(row: ConsumerRow) -> Policy:
    """A consumer's policy. Fields restrict only the types they are given for: an allowed type without a
    field list gets every attribute (what `hub consumers add --field person.name` means)."""
    fields = None
    if row.fields is not None:
        fields = {t: frozenset(row.fields[t]) if t in row.fields else frozenset(schemas.attributes(t))
                  for t in row.entity_types}
    role: Role = row.role
    return Policy(actor=row.id, role=role, purpose=row.purpose, clearance=row.clearance,
                  entity_types=frozenset(row.entity_types), fields=fields,
                  scope=None if row.scope is None else row.scope.place_ids, consumer_id=row.id,
                  claims=frozenset(row.claims), writes=frozenset(row.writes))


# ---------------------------------------------------------------------------------------------------------------
# Reading rows
# ---------------------------------------------------------------------------------------------------------------

CONSUMER_COLUMNS = tuple(tables.consumer.c)


def consumer_from_row(row: Mapping[Any, Any], credentials: Iterable[CredentialRow] = ()) -> ConsumerRow:
    """A consumer row of the store as the hub uses it (JSON columns decoded, times in UTC)."""
    fields = json.loads(row["fields"]) if row["fields"] else None
    scope = json.loads(row["scope"]) if row["scope"] else None
    granted = json.loads(row["claims"]) if row.get("claims") else []
    claims = [c for c in granted if not c.startswith(WRITE_PREFIX)]
    writes = [c.removeprefix(WRITE_PREFIX) for c in granted if c.startswith(WRITE_PREFIX)]
    created_at = as_utc(row["created_at"])
    assert created_at is not None
    return ConsumerRow(
        id=row["id"], name=row["name"], purpose=row["purpose"], role=row["role"],
        clearance=schemas.Sensitivity(row["clearance"]), entity_types=tuple(json.loads(row["entity_types"])),
        fields=None if fields is None else {t: tuple(a) for t, a in fields.items()},
        scope=None if scope is None else Scope(tuple(scope.get("communities", ())), tuple(scope.get("grids", ()))),
        state=row["state"], created_at=created_at, revoked_at=as_utc(row["revoked_at"]),
        credentials=tuple(credentials), claims=tuple(claims), writes=tuple(writes))


def _credential(row: Mapping[Any, Any]) -> CredentialRow:
    created_at = as_utc(row["created_at"])
    assert created_at is not None
    return CredentialRow(row["id"], row["kind"], created_at, as_utc(row["expires_at"]), as_utc(row["revoked_at"]))


def list_consumers(engine: Engine) -> list[ConsumerRow]:
    """Every consumer, revoked ones too, by name, with their credentials (never their hashes)."""
    with engine.connect() as conn:
        consumers = conn.execute(sa.select(tables.consumer).order_by(tables.consumer.c.name)).mappings().all()
        k = tables.credential.c
        creds: dict[str, list[CredentialRow]] = {}
        for row in conn.execute(sa.select(k.id, k.consumer_id, k.kind, k.created_at, k.expires_at, k.revoked_at)
                                .order_by(k.created_at)).mappings():
            creds.setdefault(row["consumer_id"], []).append(_credential(row))
    return [consumer_from_row(row, creds.get(row["id"], ())) for row in consumers]


def _find(conn: Connection, consumer: str) -> ConsumerRow:
    """A consumer by id or name, or ConsumerError."""
    c = tables.consumer.c
    row = conn.execute(sa.select(tables.consumer).where(sa.or_(c.id == consumer, c.name == consumer))
                       ).mappings().first()
    if row is None:
        raise ConsumerError(f"no consumer {consumer!r}: `hub consumers list` shows their ids and names")
    k = tables.credential.c
    creds = conn.execute(sa.select(k.id, k.kind, k.created_at, k.expires_at, k.revoked_at)
                         .where(k.consumer_id == row["id"]).order_by(k.created_at)).mappings()
    return consumer_from_row(row, [_credential(r) for r in creds])


def get_consumer(engine: Engine, consumer: str) -> ConsumerRow:
    """A consumer by id or name."""
    with engine.connect() as conn:
        return _find(conn, consumer)


# ---------------------------------------------------------------------------------------------------------------
# Checking what is asked for
# ---------------------------------------------------------------------------------------------------------------


def _clearance(value: str | schemas.Sensitivity) -> schemas.Sensitivity:
    try:
        return schemas.Sensitivity(value)
    except ValueError:
        raise ConsumerError(f"clearance {value!r} is not one of "
                            f"{', '.join(s.value for s in schemas.Sensitivity)}") from None


def _entity_types(entity_types: Iterable[str]) -> tuple[str, ...]:
    known = list(schemas.entity_types())
    chosen = tuple(dict.fromkeys(entity_types))
    unknown = [t for t in chosen if t not in known]
    if unknown:
        raise ConsumerError(f"unknown entity type {', '.join(map(repr, unknown))}: the types are {', '.join(known)}")
    return chosen


def _claims(claims: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(claims))
    unknown = [c for c in chosen if c not in CLAIM_KINDS]
    if unknown:
        raise ConsumerError(f"unknown claim kind {', '.join(map(repr, unknown))}: the kinds are "
                            f"{', '.join(CLAIM_KINDS)}")
    return chosen


def _writes(writes: Iterable[str], forms: Mapping[str, Collection[str]] | None) -> tuple[str, ...]:
    """Write grants as given (`form` or `form.field`), each naming a form of `forms` (form id → field keys) and
    one of its fields; `forms` None: checked for shape only (the caller has no forms folder at hand)."""
    chosen = tuple(dict.fromkeys(w.strip() for w in writes))
    for grant in chosen:
        if not WRITE_GRANT.fullmatch(grant):
            raise ConsumerError(f"write grant {grant!r} must read FORM or FORM.FIELD (elderly_allowance.phone)")
        form, _, key = grant.partition(".")
        if forms is None:
            continue
        if form not in forms:
            raise ConsumerError(f"no form {form!r} to grant writing to: the forms are {', '.join(sorted(forms))}")
        if key and key not in forms[form]:
            raise ConsumerError(f"form {form} has no field {key!r} (`hub forms list` shows its fields)")
    return chosen


def _fields(fields: Mapping[str, Iterable[str]] | None, entity_types: tuple[str, ...]) -> dict[str, list[str]] | None:
    if fields is None:
        return None
    checked: dict[str, list[str]] = {}
    for entity_type, attributes in fields.items():
        if entity_type not in entity_types:
            raise ConsumerError(f"fields are given for {entity_type!r}, which is not among the consumer's entity "
                                f"types ({', '.join(entity_types) or 'none'})")
        attrs = list(dict.fromkeys(attributes))
        unknown = [a for a in attrs if schemas.attribute_spec(entity_type, a) is None]
        if unknown:
            raise ConsumerError(f"{entity_type} has no field {', '.join(map(repr, unknown))} (docs/data-model.md "
                                "lists the fields)")
        checked[entity_type] = attrs
    return checked


def resolve_scope(conn: Connection, places: Iterable[str]) -> Scope:
    """Communities and grids given by id, code or name, as place ids; an unknown or ambiguous one is an error."""
    p = tables.place.c
    communities: list[str] = []
    grids: list[str] = []
    for given in dict.fromkeys(places):
        found = conn.execute(sa.select(p.id, p.place_type, p.name, p.code).where(
            p.place_type.in_(SCOPE_PLACE_TYPES), sa.or_(p.id == given, p.code == given, p.name == given))).all()
        if not found:
            raise ConsumerError(f"no community or grid {given!r} among the hub's places (by id, code or name); "
                                "places exist once `hub resolve` has run")
        if len(found) > 1:
            options = ", ".join(f"{r.name} ({r.place_type}, code {r.code or '-'}, id {r.id})" for r in found)
            raise ConsumerError(f"{given!r} names more than one place: {options}; give its code or id")
        (communities if found[0].place_type == "community" else grids).append(found[0].id)
    return Scope(tuple(communities), tuple(grids))


def place_names(engine: Engine, place_ids: Iterable[str]) -> dict[str, str]:
    """Place id → its name, for showing a scope."""
    ids = list(place_ids)
    if not ids:
        return {}
    p = tables.place.c
    with engine.connect() as conn:
        return {r.id: r.name or r.id for r in conn.execute(sa.select(p.id, p.name).where(p.id.in_(ids)))}


# ---------------------------------------------------------------------------------------------------------------
# Changes
# ---------------------------------------------------------------------------------------------------------------


def _new_credential(conn: Connection, keys: AccessKeys, consumer_id: str, kind: CredentialKind,
                    expires_at: datetime | None = None) -> Secret:
    credential_id = "cred-" + secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    conn.execute(tables.credential.insert().values(
        id=credential_id, consumer_id=consumer_id, kind=kind, secret_hash=secret_hash(keys, secret),
        created_at=now(), expires_at=expires_at, revoked_at=None))
    value = f"{API_KEY_PREFIX}{credential_id}_{secret}" if kind == "api_key" else secret
    return Secret(consumer_id, credential_id, kind, value, expires_at)


def _audit(conn: Connection, by: Policy | None, action: str, detail: dict[str, Any]) -> None:
    """The change's audit row, in the change's transaction (`seal` chains it once committed)."""
    if by is not None:
        append(conn, AuditEntry.of(by, action, detail=detail))


def add_consumer(engine: Engine, keys: AccessKeys, name: str, purpose: str, clearance: str | schemas.Sensitivity,
                 entity_types: Iterable[str], fields: Mapping[str, Iterable[str]] | None = None,
                 scope: Iterable[str] | None = None, role: ConsumerRole = "consumer", *,
                 claims: Iterable[str] = (), writes: Iterable[str] = (),
                 forms: Mapping[str, Collection[str]] | None = None,
                 by: Policy | None = None) -> tuple[ConsumerRow, Secret]:
    """A new consumer and its first client secret (shown once).

    `fields`: entity type → attributes it may receive (None: every attribute of its types); `scope`: names,
    codes or ids of communities and grids (None: the whole district); `claims`: the 核验 claim kinds it may
    check (hub.verify), which need no entity type: a verifying app may read nothing at all; `writes`: the
    forms (`form`) or form fields (`form.field`) it may write back, checked against `forms` (form id → its
    field keys). Without a write grant an app that reads a form cannot submit it.
    """
    name, purpose = name.strip(), purpose.strip()
    if not name or len(name) > 100:
        raise ConsumerError("a consumer's name must be 1 to 100 characters")
    if not purpose:
        raise ConsumerError("a consumer must declare its purpose (用途): it is recorded with every request")
    if role not in ("consumer", "auditor"):
        raise ConsumerError(f"role {role!r} is not one of consumer, auditor")
    level = _clearance(clearance)
    types = _entity_types(entity_types)
    kinds = _claims(claims)
    grants = _writes(writes, forms)
    if grants and (role != "consumer" or "person" not in types):
        raise ConsumerError("only a consumer that reads person entities (-t person) may write back forms")
    if role == "consumer" and not types and not kinds:
        raise ConsumerError("a consumer needs at least one entity type to read (person, house, …) or claim kind "
                            "to verify (--claim resident, …)")
    checked_fields = _fields(fields, types)
    consumer_id = "app-" + secrets.token_hex(8)
    with engine.begin() as conn:
        if conn.execute(sa.select(tables.consumer.c.id).where(tables.consumer.c.name == name)).first():
            raise ConsumerError(f"a consumer named {name!r} exists already")
        places = None if scope is None else resolve_scope(conn, scope)
        conn.execute(tables.consumer.insert().values(
            id=consumer_id, name=name, purpose=purpose, role=role, clearance=level.value,
            entity_types=json.dumps(list(types)),
            fields=None if checked_fields is None else json.dumps(checked_fields, ensure_ascii=False, sort_keys=True),
            scope=None if places is None else json.dumps({"communities": list(places.communities),
                                                          "grids": list(places.grids)}),
            claims=json.dumps([*kinds, *(WRITE_PREFIX + g for g in grants)]) if kinds or grants else None,
            state="active", created_at=now(), revoked_at=None))
        secret = _new_credential(conn, keys, consumer_id, "client_secret")
        _audit(conn, by, "consumers add", {"consumer": consumer_id, "credential": secret.credential_id})
        row = _find(conn, consumer_id)
    if by is not None:
        seal(engine, keys)
    return row, secret


def _active(conn: Connection, consumer: str) -> ConsumerRow:
    row = _find(conn, consumer)
    if row.state != "active":
        raise ConsumerError(f"consumer {row.name!r} ({row.id}) is revoked: add a new consumer instead")
    return row


def issue_api_key(engine: Engine, keys: AccessKeys, consumer: str, *, expires_at: datetime | None = None,
                  by: Policy | None = None) -> Secret:
    """A new API key (`hk_<credential id>_<secret>`, shown once) for a consumer given by id or name."""
    with engine.begin() as conn:
        row = _active(conn, consumer)
        secret = _new_credential(conn, keys, row.id, "api_key", expires_at)
        _audit(conn, by, "consumers api-key", {"consumer": row.id, "credential": secret.credential_id})
    if by is not None:
        seal(engine, keys)
    return secret


def rotate(engine: Engine, keys: AccessKeys, consumer: str, *, keep_old: timedelta | None = None,
           kind: CredentialKind = "client_secret", by: Policy | None = None) -> Secret:
    """A new credential of `kind` for the consumer; its older ones of that kind are revoked now or, with
    `keep_old`, expire after that grace (so an app can switch without a moment of refusals)."""
    if keep_old is not None and keep_old <= timedelta(0):
        raise ConsumerError("--keep-old must be a positive duration")
    at = now()
    k = tables.credential.c
    with engine.begin() as conn:
        row = _active(conn, consumer)
        older = (k.consumer_id == row.id) & (k.kind == kind) & k.revoked_at.is_(None)
        if keep_old is None:
            conn.execute(tables.credential.update().where(older).values(revoked_at=at))
        else:
            until = at + keep_old
            conn.execute(tables.credential.update().where(older & (k.expires_at.is_(None) | (k.expires_at > until)))
                         .values(expires_at=until))
        secret = _new_credential(conn, keys, row.id, kind)
        _audit(conn, by, "consumers rotate", {"consumer": row.id, "credential": secret.credential_id,
                                                    "kind": kind, "keep_old_seconds": None if keep_old is None
                                                    else int(keep_old.total_seconds())})
    if by is not None:
        seal(engine, keys)
    return secret


def revoke(engine: Engine, consumer: str, *, keys: AccessKeys | None = None, by: Policy | None = None) -> ConsumerRow:
    """Revoke a consumer and every credential of it: its tokens stop working at their next request.
    `by`: audit the revocation (then `keys` seal the audit row into the chain)."""
    if by is not None and keys is None:
        raise ValueError("auditing a revocation needs the access keys")
    at = now()
    with engine.begin() as conn:
        row = _find(conn, consumer)
        conn.execute(tables.consumer.update().where(tables.consumer.c.id == row.id)
                     .values(state="revoked", revoked_at=row.revoked_at or at))
        k = tables.credential.c
        conn.execute(tables.credential.update().where((k.consumer_id == row.id) & k.revoked_at.is_(None))
                     .values(revoked_at=at))
        _audit(conn, by, "consumers revoke", {"consumer": row.id})
        revoked = _find(conn, row.id)
    if by is not None and keys is not None:
        seal(engine, keys)
    return revoked


def set_writes(engine: Engine, keys: AccessKeys, consumer: str, writes: Iterable[str], *,
               forms: Mapping[str, Collection[str]] | None, by: Policy | None = None) -> ConsumerRow:
    """Replace what an active consumer may write back (`form` or `form.field` entries; none: it may write
    nothing), keeping its 核验 claim kinds: how an app registered before write grants existed gets one."""
    grants = _writes(writes, forms)
    with engine.begin() as conn:
        row = _active(conn, consumer)
        if grants and (row.role != "consumer" or "person" not in row.entity_types):
            raise ConsumerError("only a consumer that reads person entities (-t person) may write back forms")
        listed = [*row.claims, *(WRITE_PREFIX + g for g in grants)]
        conn.execute(tables.consumer.update().where(tables.consumer.c.id == row.id)
                     .values(claims=json.dumps(listed) if listed else None))
        _audit(conn, by, "consumers writes", {"consumer": row.id, "writes": list(grants)})
        changed = _find(conn, row.id)
    if by is not None:
        seal(engine, keys)
    return changed
