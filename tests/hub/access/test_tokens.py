"""G9: forged, expired, wrong-audience, alg=none tokens, tokens signed with another key, and credentials
revoked or rotated away are all refused (AuthError, HTTP 401); a valid token gives its consumer's policy."""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from pydantic import SecretStr

from hub.access import AccessKeys, Policy
from hub.access.consumers import add_consumer, issue_api_key, revoke, rotate
from hub.access.tokens import AUDIENCE, ISSUER, MAX_LIFETIME, AuthError, authenticate, issue_token
from hub.audit import record, verify
from hub.keys import rotate_key
from hub.pipeline import Hub
from hub.store.runs import now


def _claims(sub: str, **change: Any) -> dict[str, Any]:
    at = now()
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": at, "nbf": at, "exp": at + timedelta(minutes=5),
              "jti": secrets.token_urlsafe(8)}
    claims.update(change)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _refused(hub: Hub, keys: AccessKeys, bearer: str) -> str | None:
    """The AuthError code, or None when the token was (wrongly) accepted."""
    try:
        authenticate(hub.engine, keys, bearer)
    except AuthError as exc:
        assert exc.status == 401 and str(exc) in ("the access token is not valid",
                                                  "the access token has expired: ask /token for a new one")
        return exc.code
    return None


@pytest.mark.reliability("G9")
@pytest.mark.filterwarnings("ignore:The HMAC key is 32 bytes long")   # the HS512 attack's key, on purpose
def test_every_bad_token_is_refused_and_a_good_one_gives_the_policy(
        hub: Hub, keys: AccessKeys, record_property: Callable[[str, object], None]) -> None:
    app, secret = add_consumer(hub.engine, keys, "app", "核查", "internal", ["person"])
    other, other_secret = add_consumer(hub.engine, keys, "other", "统计", "highly_sensitive", ["person", "house"])
    good = issue_token(hub.engine, keys, app.id, secret.value)
    assert good.expires_in == MAX_LIFETIME.total_seconds() and good.token_type == "Bearer"
    assert authenticate(hub.engine, keys, good.access_token) == app.policy()
    with hub.engine.connect() as conn:      # on the request's own connection, as the API calls it
        assert authenticate(conn, keys, good.access_token) == app.policy()
    kid = {"kid": secret.credential_id}
    header, payload, signature = good.access_token.split(".")
    forged_payload = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged_payload["sub"] = other.id
    another_key = os.urandom(32)

    attacks: dict[str, str] = {
        "payload changed, signature kept": f"{header}.{_b64(json.dumps(forged_payload).encode())}.{signature}",
        "signature cut": f"{header}.{payload}.",
        "signature of another token": f"{header}.{payload}." + issue_token(
            hub.engine, keys, other.id, other_secret.value).access_token.split(".")[2],
        "expired": issue_token(hub.engine, keys, app.id, secret.value, at=now() - timedelta(minutes=16)).access_token,
        "not yet valid": jwt.encode(_claims(app.id, nbf=now() + timedelta(minutes=5)), keys.jwt, headers=kid),
        "wrong audience": jwt.encode(_claims(app.id, aud="another-api"), keys.jwt, headers=kid),
        "no audience": jwt.encode(_claims(app.id, aud=None), keys.jwt, headers=kid),
        "wrong issuer": jwt.encode(_claims(app.id, iss="someone-else"), keys.jwt, headers=kid),
        "no expiry": jwt.encode(_claims(app.id, exp=None), keys.jwt, headers=kid),
        "no jti": jwt.encode(_claims(app.id, jti=None), keys.jwt, headers=kid),
        "no kid": jwt.encode(_claims(app.id), keys.jwt),
        "unknown kid": jwt.encode(_claims(app.id), keys.jwt, headers={"kid": "cred-0000000000000000"}),
        "kid of another consumer": jwt.encode(_claims(app.id), keys.jwt,
                                              headers={"kid": other_secret.credential_id}),
        "lifetime over 15 minutes": jwt.encode(_claims(app.id, exp=now() + timedelta(hours=12)), keys.jwt,
                                               headers=kid),
        "alg none": jwt.encode(_claims(app.id), None, algorithm="none", headers=kid),
        "alg none, hand made": f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT', **kid}).encode())}.{payload}.",
        "HS256 under another key": jwt.encode(_claims(app.id), another_key, headers=kid),
        "HS512 under the right key": jwt.encode(_claims(app.id), keys.jwt, algorithm="HS512", headers=kid),
        "HS256 under the credential key": jwt.encode(_claims(app.id), keys.credential, headers=kid),
        "HS256 under the client secret": jwt.encode(_claims(app.id), secret.value, headers=kid),
        "garbage": "not.a.token",
        "empty": "",
        "api key guessed": f"hk_{secret.credential_id}_{secrets.token_urlsafe(32)}",
        "client secret as api key": f"hk_{secret.credential_id}_{secret.value}",
        "api key of nobody": "hk__",
    }
    codes = {name: _refused(hub, keys, bearer) for name, bearer in attacks.items()}
    accepted = [name for name, code in codes.items() if code is None]
    record_property("token attacks tried", len(attacks))
    record_property("token attacks accepted", len(accepted))
    assert accepted == []
    assert codes["expired"] == "expired_token"
    assert {c for n, c in codes.items() if n != "expired"} == {"invalid_token"}


@pytest.mark.reliability("G9")
def test_revoked_and_rotated_credentials_stop_at_the_next_request(
        hub: Hub, keys: AccessKeys, record_property: Callable[[str, object], None]) -> None:
    app, secret = add_consumer(hub.engine, keys, "app", "核查", "internal", ["person"])
    before_rotation = issue_token(hub.engine, keys, app.id, secret.value).access_token
    fresh = rotate(hub.engine, keys, app.id)
    after_rotation = issue_token(hub.engine, keys, app.id, fresh.value).access_token
    refused = [
        _refused(hub, keys, before_rotation),                       # its credential was rotated away
    ]
    with pytest.raises(AuthError) as old_secret:
        issue_token(hub.engine, keys, app.id, secret.value)
    assert old_secret.value.code == "invalid_client"
    assert authenticate(hub.engine, keys, after_rotation).actor == app.id

    graced = rotate(hub.engine, keys, app.id, keep_old=timedelta(minutes=30))
    assert authenticate(hub.engine, keys, after_rotation).actor == app.id           # still inside the grace
    refused.append(_refused_at(hub, keys, after_rotation, timedelta(minutes=31)))   # after it
    assert authenticate(hub.engine, keys, issue_token(hub.engine, keys, app.id, graced.value).access_token)

    first_key = issue_api_key(hub.engine, keys, app.id)
    api_key = rotate(hub.engine, keys, app.id, kind="api_key")
    refused.append(_refused(hub, keys, first_key.value))                            # an API key rotated away
    assert authenticate(hub.engine, keys, api_key.value).actor == app.id
    revoke(hub.engine, app.id)
    refused += [_refused(hub, keys, after_rotation), _refused(hub, keys, api_key.value)]
    with pytest.raises(AuthError) as revoked:
        issue_token(hub.engine, keys, app.id, graced.value)
    assert revoked.value.code == "invalid_client"
    record_property("revoked or rotated credentials accepted", sum(code is None for code in refused))
    assert refused == ["invalid_token"] * 5


def _refused_at(hub: Hub, keys: AccessKeys, bearer: str, later: timedelta) -> str | None:
    try:
        authenticate(hub.engine, keys, bearer, at=now() + later)
    except AuthError as exc:
        return exc.code
    return None


def test_a_token_request_with_a_wrong_secret_or_client_is_refused(hub: Hub, keys: AccessKeys) -> None:
    app, secret = add_consumer(hub.engine, keys, "app", "核查", "internal", ["person"])
    for client_id, client_secret in [(app.id, secret.value[:-1] + "x"), ("app-unknown", secret.value),
                                     (app.id, ""), (secret.credential_id, secret.value)]:
        with pytest.raises(AuthError) as refused:
            issue_token(hub.engine, keys, client_id, client_secret)
        assert refused.value.code == "invalid_client" and str(refused.value) == "the client id or secret is not valid"


def test_a_master_key_rotation_keeps_tokens_secrets_and_the_audit_chain(hub: Hub, keys: AccessKeys,
                                                                         tmp_path: Path) -> None:
    app, secret = add_consumer(hub.engine, keys, "app", "核查", "internal", ["person"])
    token = issue_token(hub.engine, keys, app.id, secret.value).access_token
    record(hub.engine, keys, Policy.operator("tester"), "hub find", entity_ids=["P-0123456789abcdef"])
    rotate_key(hub.engine, hub.settings, tmp_path / "new.key")
    rotated = Hub.open(hub.settings.model_copy(update={
        "secret_key": SecretStr((tmp_path / "new.key").read_text().strip())}), create=False)
    try:
        after = AccessKeys.from_vault(rotated.vault)
        assert after == keys
        assert authenticate(rotated.engine, after, token).actor == app.id
        assert issue_token(rotated.engine, after, app.id, secret.value)
        assert verify(rotated.engine, after).ok and verify(rotated.engine, after).rows_checked == 1
    finally:
        rotated.engine.dispose()


def test_a_token_remembered_as_verified_still_expires(hub: Hub, keys: AccessKeys) -> None:
    """The process remembers a token it verified (hub.access.tokens.present), but not past its expiry."""
    app, secret = add_consumer(hub.engine, keys, "brief", "核查", "internal", ["person"])
    token = issue_token(hub.engine, keys, app.id, secret.value, lifetime=timedelta(seconds=2)).access_token
    assert authenticate(hub.engine, keys, token).actor == app.id
    assert authenticate(hub.engine, keys, token).actor == app.id        # remembered
    time.sleep(2.2)
    assert _refused(hub, keys, token) == "expired_token"
