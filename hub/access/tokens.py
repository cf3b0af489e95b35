"""OAuth2 client credentials → short-lived signed tokens, and the one check every API request passes.

A token is a JWT signed HS256 under AccessKeys.jwt: iss, aud "community-hub-api", sub = consumer id,
kid (header) = the credential it was issued for, iat, nbf, exp (15 minutes at most), jti. `authenticate`
accepts HS256 only (so alg=none and an RSA public key passed off as an HMAC secret are refused), requires
every claim, then asks the store in one indexed query whether the consumer is still active and the
credential neither revoked nor expired, so a revocation takes effect at the next request, not at the
token's expiry. An API key (`hk_<credential id>_<secret>`) is checked against its keyed hash.

Every failure is one AuthError with a stable code and no hint of which part was wrong.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import jwt
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from hub.access.consumers import API_KEY_PREFIX, ConsumerRow, consumer_from_row, secret_matches
from hub.access.keys import AccessKeys
from hub.access.policy import Policy
from hub.errors import HubError
from hub.store import tables
from hub.store.runs import as_utc, now

AUDIENCE = "community-hub-api"
ISSUER = "community-hub"
ALGORITHM = "HS256"
MAX_LIFETIME = timedelta(minutes=15)
REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "nbf", "exp", "jti"]

AuthCode = Literal["invalid_client", "invalid_token", "expired_token"]
_MESSAGES: dict[AuthCode, str] = {
    "invalid_client": "the client id or secret is not valid",
    "invalid_token": "the access token is not valid",
    "expired_token": "the access token has expired: ask /token for a new one",
}


class AuthError(HubError):
    """Authentication failed (HTTP 401). `code`: invalid_client (token request), invalid_token, expired_token."""

    status = 401

    def __init__(self, code: AuthCode):
        self.code = code
        super().__init__(_MESSAGES[code])


@dataclass(frozen=True, repr=False)
class Token:
    access_token: str
    expires_at: datetime
    expires_in: int
    """Seconds, as RFC 6749 gives it."""
    consumer_id: str
    credential_id: str
    token_type: str = "Bearer"

    def __repr__(self) -> str:
        return (f"Token(consumer_id={self.consumer_id!r}, credential_id={self.credential_id!r}, "
                f"expires_at={self.expires_at})")


_C, _K = tables.consumer.c, tables.credential.c
_BY_CREDENTIAL = (sa.select(*tables.consumer.c, _K.id.label("credential_id"), _K.consumer_id, _K.kind, _K.secret_hash,
                            _K.expires_at.label("credential_expires_at"), _K.revoked_at.label("credential_revoked_at"))
                  .join(tables.credential, _K.consumer_id == _C.id))


def issue_token(engine: Engine | Connection, keys: AccessKeys, client_id: str, client_secret: str, *,
                lifetime: timedelta = MAX_LIFETIME, at: datetime | None = None) -> Token:
    """A token for a consumer's client id and secret (the client credentials grant); AuthError otherwise."""
    lifetime = min(lifetime, MAX_LIFETIME)
    at = at or now()
    with _connection(engine) as conn:
        rows = conn.execute(_BY_CREDENTIAL.where(_C.id == client_id, _K.kind == "client_secret")).mappings().all()
    matching = [r for r in rows if secret_matches(keys, client_secret, r["secret_hash"])]
    if not matching or not _usable(matching[0], at):
        raise AuthError("invalid_client")
    row = matching[0]
    expires = at + lifetime
    credential_id = str(row["credential_id"])
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": row["id"], "iat": at, "nbf": at, "exp": expires,
              "jti": secrets.token_urlsafe(12)}
    token = jwt.encode(claims, keys.jwt, algorithm=ALGORITHM, headers={"kid": credential_id})
    return Token(token, expires, int(lifetime.total_seconds()), row["id"], credential_id)


def _usable(row: Mapping[Any, Any], at: datetime) -> bool:
    expires = as_utc(row["credential_expires_at"])
    return row["state"] == "active" and row["credential_revoked_at"] is None and (expires is None or expires > at)


@dataclass(frozen=True, repr=False)
class Presented:
    """A bearer token or API key as far as it can be checked without the store: a token's signature, audience,
    issuer and lifetime, or an API key's shape. `admit` finishes the check against the credential's row, which
    the API reads in the request's first query (hub/api/gateway.py), so authentication costs no round trip."""

    credential_id: str
    kind: Literal["client_secret", "api_key"]
    consumer_id: str | None = None
    """A token's subject; an API key names only its credential."""
    secret: str | None = None
    """An API key's secret, compared with the stored keyed hash by `admit`."""


_VERIFIED: dict[tuple[bytes, str], tuple[Presented, int]] = {}
"""Tokens whose signature and claims were checked in this process, with their expiry: a client sends the
same token with every request for up to 15 minutes, and checking it again each time cost a fifth of a
profile's own work. Bounded (cleared when full); expiry is still checked at every use."""
VERIFIED_MAX = 10_000


def present(keys: AccessKeys, bearer: str) -> Presented:
    """The credential a bearer claims to be, its signature and claims checked; AuthError otherwise."""
    known = _VERIFIED.get((keys.jwt, bearer))
    if known is not None:
        if known[1] <= time.time():
            raise AuthError("expired_token")
        return known[0]
    presented, expires = _verify(keys, bearer)
    if expires is not None:
        if len(_VERIFIED) >= VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[(keys.jwt, bearer)] = (presented, expires)
    return presented


def _verify(keys: AccessKeys, bearer: str) -> tuple[Presented, int | None]:
    """`present` without the memo: the credential and, for a token, its expiry (epoch seconds)."""
    if bearer.startswith(API_KEY_PREFIX):
        credential_id, _, secret = bearer[len(API_KEY_PREFIX):].partition("_")
        if not credential_id or len(credential_id) > 32 or not secret:
            raise AuthError("invalid_token")
        return Presented(credential_id, "api_key", secret=secret), None
    try:
        decoded = jwt.decode_complete(bearer, keys.jwt, algorithms=[ALGORITHM], audience=AUDIENCE,
                                      issuer=ISSUER, options={"require": REQUIRED_CLAIMS})
    except jwt.ExpiredSignatureError:
        raise AuthError("expired_token") from None
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise AuthError("invalid_token") from None
    claims, credential_id = decoded["payload"], decoded["header"].get("kid")
    exp, iat = claims["exp"], claims["iat"]
    if not isinstance(exp, int) or not isinstance(iat, int) or exp - iat > MAX_LIFETIME.total_seconds():
        raise AuthError("invalid_token")
    if not isinstance(credential_id, str) or not credential_id or len(credential_id) > 32 \
            or not isinstance(claims["sub"], str):
        raise AuthError("invalid_token")
    return Presented(credential_id, "client_secret", consumer_id=claims["sub"]), exp


def admit(keys: AccessKeys, presented: Presented, row: Mapping[Any, Any] | None, *,
          at: datetime | None = None) -> ConsumerRow:
    """The consumer, if the credential's row (`credential_query`) confirms what was presented: the credential
    exists, is of the kind presented, belongs to the token's subject or matches the API key's secret, and it
    and its consumer are still valid now. AuthError otherwise."""
    if row is None or row["kind"] != presented.kind:
        raise AuthError("invalid_token")
    if presented.kind == "api_key":
        if presented.secret is None or not secret_matches(keys, presented.secret, row["secret_hash"]):
            raise AuthError("invalid_token")
    elif row["consumer_id"] != presented.consumer_id:
        raise AuthError("invalid_token")
    if not _usable(row, at or now()):
        raise AuthError("invalid_token")
    return consumer_from_row(row)


def credential_query(*columns: sa.ColumnElement[Any]) -> sa.Select[Any]:
    """The credential (by primary key, bound as `credential_id`) and its consumer, with `columns` more: the API
    adds the published version, so one query both admits the caller and pins what it reads."""
    return _BY_CREDENTIAL.add_columns(*columns).where(_K.id == sa.bindparam("credential_id"))


def authenticate(engine: Engine | Connection, keys: AccessKeys, bearer: str, *, at: datetime | None = None,
                 ) -> Policy:
    """The policy of the consumer a bearer token or API key belongs to; AuthError otherwise. Given a
    Connection, it runs its one query there."""
    return authenticate_consumer(engine, keys, bearer, at=at).policy()


def authenticate_consumer(engine: Engine | Connection, keys: AccessKeys, bearer: str, *, at: datetime | None = None,
                          ) -> ConsumerRow:
    presented = present(keys, bearer)
    return admit(keys, presented, _lookup(engine, presented.credential_id), at=at)


def _connection(bind: Engine | Connection) -> AbstractContextManager[Connection]:
    """The request's own connection when given one (no second checkout from the pool), else a fresh one."""
    return nullcontext(bind) if isinstance(bind, Connection) else bind.connect()


def _lookup(bind: Engine | Connection, credential_id: str) -> sa.RowMapping | None:
    """The one indexed query of a request: the credential (by primary key) and its consumer."""
    if not credential_id or len(credential_id) > 32:
        return None
    with _connection(bind) as conn:
        return conn.execute(_BY_CREDENTIAL.where(_K.id == credential_id)).mappings().first()
