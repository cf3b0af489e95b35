"""核验: a claim about a person or an organization checked against the read model, answered yes or no.

A claim names its subject by an identifier (a resident ID number, a credit code) that is looked up the way a
search looks it up (hub.views.search): normalized, then by its vault token for ID numbers (pub_key, kind
`resident_id`) and by its normalized form for credit codes; names by their search key (`name_key`,
`org_name_key`). Nothing is decrypted to compare an identifier, and no value of the subject leaves this module:
a check returns a bool.

Every check runs exactly one query of a shape fixed by the claim's kind (and which optional parts it gives),
whatever the answer will be: an ID number that fails its checksum, a name with no letters or a credit code that
is not one are looked up as a key no row holds (`NO_KEY`), so a malformed try costs the store the same round trip
as a well-formed one and answers the same "no". The one data-dependent cost: a situation's type and status are
encrypted at rest, so the rows of a person's situations are decrypted to compare (microseconds each, below the
noise of the round trip).

Scope: a consumer limited to communities or grids learns only about subjects inside its scope; a claim about
anyone else is answered "no" like a false one (scope is a filter of the query, as in every view). A 403 or 404
would tell the caller that the subject exists somewhere else. `match: false` therefore means "not confirmed
for you", never "confirmed false".
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa

from hub.access.policy import CLAIM_KINDS, Policy
from hub.normalize import normalize_credit_code, normalize_resident_id
from hub.protect import Vault
from hub.publish.keys import address_key, name_key, org_name_key
from hub.store import tables
from hub.store.steps import Query, Steps, run_steps
from hub.views.gather import constants, scoped_by, visible_at
from hub.views.profiles import RESIDENT_LINKS
from hub.views.reader import Reader

ClaimKind = Literal["resident", "situation", "tenure", "organization"]
Tenure = Literal["owns", "rents"]
assert set(CLAIM_KINDS) == {"resident", "situation", "tenure", "organization"}

NO_KEY = "-"
"""A lookup key no pub_key row holds (tokens are hex, names and codes have no bare dash): what a malformed part
of a claim is looked up as, so that it costs the same query and answers "no"."""

SUBJECT_SERVICE = "verify subject"
"""The vault service key the subject hashes of audit rows and rate limits are made with (hub.protect)."""

HOLDING_STATUSES = ("active", None)
"""A situation's status under which it holds: active, or no status stated (a register lists current cases)."""


@dataclass(frozen=True)
class Claim:
    """What a caller asserts. `resident`: resident_id and name belong to a resident (lives, is registered or
    rents there) of `community` (place id or name); `situation`: the person of resident_id (and name, when
    given) has the situation (低保 `dibao` …) now; `tenure`: that person owns or rents (`tenure`; None: either)
    the house `house_id` or at `address`; `organization`: credit_code is valid and registered (to `name`, when
    given)."""

    kind: ClaimKind
    resident_id: str | None = None
    name: str | None = None
    community: str | None = None
    situation: str | None = None
    house_id: str | None = None
    address: str | None = None
    tenure: Tenure | None = None
    credit_code: str | None = None


@dataclass(frozen=True)
class Verdict:
    """A check's result: the answer and the subject's keyed hash (for the audit row and the rate limit)."""

    kind: ClaimKind
    match: bool
    subject: str


def subject_hash(vault: Vault, claim: Claim) -> str:
    """The subject of a claim as a keyed hash (32 hex characters): the normalized identifier, or the text as
    given when it is malformed. Never the lookup token itself: a row of the audit log or the limits table
    cannot be joined to the read model without the key."""
    if claim.kind == "organization":
        given, normalized = claim.credit_code or "", normalize_credit_code(claim.credit_code)
        kind = "organization"
    else:
        given, normalized = claim.resident_id or "", normalize_resident_id(claim.resident_id)
        kind = "person"
    text = f"{kind}:{normalized.value if normalized.ok else given.strip()}"
    return hmac.new(vault.service_key(SUBJECT_SERVICE), text.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


# ---------------------------------------------------------------------------------------------------------------
# The statements, one per claim shape, built once (a request binds its keys)
# ---------------------------------------------------------------------------------------------------------------

_K, _E, _R, _S, _V = tables.pub_key, tables.pub_entity, tables.pub_relation, tables.pub_scope, tables.pub_value
_AT: sa.BindParameter[datetime] = sa.bindparam("at", type_=sa.DateTime(timezone=True))


def _active(entity_id: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    e = _E.alias("active")
    return sa.exists(sa.select(1).select_from(e).where(
        e.c.entity_id == entity_id, e.c.state == constants(["active"])[0], visible_at(e)))


def _has_key(entity_id: sa.ColumnElement[Any], kind: str, param: str) -> sa.ColumnElement[bool]:
    k = _K.alias(f"k_{param}")
    return sa.exists(sa.select(1).select_from(k).where(k.c.entity_id == entity_id, k.c.kind == constants([kind])[0],
                                                        k.c.key == sa.bindparam(param), visible_at(k)))


def _current(relation: sa.FromClause) -> sa.ColumnElement[bool]:
    return sa.and_(visible_at(relation), sa.or_(relation.c.valid_to.is_(None), relation.c.valid_to > _AT))


def _person(scoped: bool, named: bool) -> tuple[sa.FromClause, list[sa.ColumnElement[bool]]]:
    """The person whose resident ID token is bound as `token` (and whose name key is `name`), active, in scope."""
    idk = _K.alias("idk")
    where = [idk.c.kind == constants(["resident_id"])[0], idk.c.key == sa.bindparam("token"),
             idk.c.entity_type == constants(["person"])[0], visible_at(idk), _active(idk.c.entity_id),
             scoped_by(idk.c.entity_id, scoped)]
    if named:
        where.append(_has_key(idk.c.entity_id, "name", "name"))
    return idk, where


@functools.lru_cache(maxsize=64)
def _statement(kind: ClaimKind, scoped: bool, named: bool, tenure: Tenure | None = None) -> sa.Select[Any]:
    if kind == "organization":
        code = _K.alias("code")
        where = [code.c.kind == constants(["credit_code"])[0], code.c.key == sa.bindparam("code"),
                 code.c.entity_type == constants(["organization"])[0], visible_at(code), _active(code.c.entity_id),
                 scoped_by(code.c.entity_id, scoped)]
        if named:
            where.append(_has_key(code.c.entity_id, "org_name", "name"))
        return sa.select(sa.func.count()).select_from(code).where(*where)
    idk, where = _person(scoped, named)
    if kind == "resident":
        r, s = _R.alias("lives"), _S.alias("place")
        in_place = sa.exists(sa.select(1).select_from(s).where(
            s.c.entity_id == r.c.object_id, visible_at(s),
            sa.or_(s.c.place_id == sa.bindparam("place"), s.c.name == sa.bindparam("place"))))
        return (sa.select(sa.func.count()).select_from(idk)
                .join(r, (r.c.subject_id == idk.c.entity_id) & r.c.predicate.in_(constants(RESIDENT_LINKS)))
                .where(*where, _current(r), in_place))
    if kind == "tenure":
        r = _R.alias("tenure")
        predicates = constants([tenure] if tenure else ["owns", "rents"])
        return (sa.select(sa.func.count()).select_from(idk)
                .join(r, (r.c.subject_id == idk.c.entity_id) & r.c.predicate.in_(predicates))
                .where(*where, _current(r), sa.or_(r.c.object_id == sa.bindparam("house"),
                                                   _has_key(r.c.object_id, "address", "address"))))
    r = _R.alias("applies")
    values = _V.alias("situation")
    return (sa.select(values.c.entity_id, values.c.attribute, values.c.value, values.c.value_enc)
            .select_from(idk)
            .join(r, (r.c.object_id == idk.c.entity_id) & (r.c.predicate == constants(["applies_to"])[0]))
            .join(values, (values.c.entity_id == r.c.subject_id)
                  & values.c.attribute.in_(constants(["situation_type", "status"])))
            .where(*where, _current(r), visible_at(values), _active(r.c.subject_id)))


def _key(value: str | None) -> str:
    return value if value else NO_KEY


def _params(reader: Reader, policy: Policy, claim: Claim) -> dict[str, Any]:
    params: dict[str, Any] = {"version": reader.version, "at": datetime.now(UTC)}
    if policy.scope is not None:
        params["scope"] = sorted(policy.scope)
    if claim.kind == "organization":
        normalized = normalize_credit_code(claim.credit_code)
        params["code"] = _key(normalized.value if normalized.ok and len(normalized.value or "") == 18 else None)
        if claim.name is not None:
            params["name"] = _key(org_name_key(claim.name))
        return params
    normalized = normalize_resident_id(claim.resident_id)
    params["token"] = reader.vault.token(normalized.value) if normalized.ok and normalized.value else NO_KEY
    if claim.name is not None:
        params["name"] = _key(name_key(claim.name))
    if claim.kind == "resident":
        params["place"] = _key((claim.community or "").strip())
    elif claim.kind == "tenure":
        params["house"] = _key((claim.house_id or "").strip())
        params["address"] = _key(address_key(claim.address) if claim.address else None)
    return params


def _named(claim: Claim) -> bool:
    return claim.kind == "resident" or claim.name is not None


def check_steps(reader: Reader, policy: Policy, claim: Claim) -> Steps[Verdict]:
    """The claim checked on the reader's published version, within the policy's scope: one query, one bool.
    Whether the policy may check this kind at all is the caller's decision (hub.verify.service)."""
    statement = _statement(claim.kind, policy.scope is not None, _named(claim), claim.tenure)
    rows = yield Query(statement, _params(reader, policy, claim))
    subject = subject_hash(reader.vault, claim)
    if claim.kind != "situation":
        return Verdict(claim.kind, bool(rows and rows[0][0]), subject)
    return Verdict(claim.kind, _holds(reader.vault, rows, claim.situation), subject)


def _holds(vault: Vault, rows: Sequence[Any], wanted: str | None) -> bool:
    """Whether one of the person's situations is of the wanted type and holds (decrypting type and status)."""
    found: dict[str, dict[str, str | None]] = {}
    for row in rows:
        value = row.value
        if value is None and row.value_enc is not None:
            value = vault.decrypt_text(bytes(row.value_enc))
        found.setdefault(row.entity_id, {})[row.attribute] = value
    return any(values.get("situation_type") == wanted and values.get("status") in HOLDING_STATUSES
               for values in found.values()) and wanted is not None


def check(reader: Reader, policy: Policy, claim: Claim) -> Verdict:
    """`check_steps` on the reader's connection (the CLI, tests)."""
    return run_steps(reader.conn, check_steps(reader, policy, claim))
