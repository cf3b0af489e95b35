"""A store's crypto profile (HUB_CRYPTO_PROFILE): a new store records the one it was made with and keys its
tokens and hashes by it; a store from before the profiles keeps its keyed BLAKE2b ids; another profile's
setting is refused like a wrong key, with nothing written.

The toy world of tests/hub/fuse (five small CSV sources) is ingested for real on each store. The digests
are recomputed here with the standard library and cryptography, not with hub.protect's own code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

from hub.errors import ConfigurationError
from hub.pipeline import Hub, ingest
from hub.protect import (
    GM,
    LEGACY_BLAKE2B,
    STANDARD,
    CryptoProfile,
    DataKeys,
    Vault,
    unwrap_key,
)
from hub.settings import HubSettings
from hub.statements.entries import stored_statements
from hub.store import tables
from tests.hub.fuse.world import ZHANG, build_world
from tests.hub.store.legacy_store import forget_watermarks, store_as_before_profiles


def _digest(profile: CryptoProfile, key: bytes, data: bytes) -> str:
    """The profile's keyed 128-bit digest, computed without hub.protect."""
    if profile.digest == "blake2b":
        return hashlib.blake2b(data, key=key, digest_size=16).hexdigest()
    if profile.digest == "hmac-sha256":
        return hmac.new(key, data, hashlib.sha256).digest()[:16].hex()
    mac = crypto_hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()[:16].hex()


def _meta(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(tables.store_key.c.name, tables.store_key.c.value)).all())


def _counts(engine: sa.Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        counts: dict[str, Any] = {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                                  for t in tables.metadata.sorted_tables}
    counts["store_key rows"] = sorted(_meta(engine).items())
    return counts


def _data(counts: dict[str, Any]) -> dict[str, Any]:
    """The counts a re-ingest must leave alone: all but its own run rows and their quality results (a full read
    that lands nothing still has its row count checked, hub.quality)."""
    return {name: n for name, n in counts.items() if name not in ("run", "quality_result")}


def _master(settings: HubSettings) -> bytes:
    assert settings.secret_key is not None
    return base64.b64decode(settings.secret_key.get_secret_value())


def _check_store_keys_by(hub: Hub, profile: CryptoProfile) -> int:
    """Every resident-ID token and raw content hash of the store is `profile`'s digest under the store's
    token and hash keys; returns how many were checked."""
    meta, master = _meta(hub.engine), _master(hub.settings)
    token_key, hash_key = unwrap_key(master, meta["token_key"]), unwrap_key(master, meta["hash_key"])
    checked = 0
    with hub.engine.connect() as conn:
        statements = stored_statements(conn)
        ids = statements[statements["attribute"] == "resident_id"]
        for token, blob in zip(ids["token"], ids["value_enc"], strict=True):
            assert token == _digest(profile, token_key, hub.vault.decrypt(bytes(blob)))
            checked += 1
        for row in conn.execute(sa.select(tables.raw_record)):
            assert row.content_hash == _digest(profile, hash_key, hub.vault.decrypt(bytes(row.payload)))
            checked += 1
    assert _digest(profile, token_key, ZHANG.encode()) in set(ids["token"])
    return checked


@pytest.mark.reliability("F4")
@pytest.mark.parametrize("profile", [STANDARD, GM], ids=lambda p: p.name)
def test_a_new_store_records_its_profile_and_refuses_the_other(
        settings: HubSettings, tmp_path: Path, profile: CryptoProfile, record_property: Any) -> None:
    hub = build_world(settings.model_copy(update={"crypto_profile": profile.name}), tmp_path)
    assert _meta(hub.engine)["crypto_profile"] == profile.name and hub.vault.profile is profile
    assert _check_store_keys_by(hub, profile) > 10
    with hub.engine.connect() as conn:
        payload = bytes(conn.execute(sa.select(tables.raw_record.c.payload).limit(1)).scalar_one())
    other = GM if profile is STANDARD else STANDARD   # the same master key, the other algorithms: no way in
    with pytest.raises(InvalidTag):
        Vault(_master(settings), other).decrypt(payload)

    before = _counts(hub.engine)
    accepted = 0
    for create in (True, False):
        with pytest.raises(ConfigurationError) as refused:
            Hub.open(hub.settings.model_copy(update={"crypto_profile": other.name}), create=create)
            accepted += 1
        message = str(refused.value)
        assert f"HUB_CRYPTO_PROFILE={other.name}" in message and profile.label in message
        assert "Nothing was read or written" in message
    assert _counts(hub.engine) == before
    again = Hub.open(hub.settings)
    forget_watermarks(again.engine)
    results = ingest(again)
    assert sum(r.extracted for r in results) >= 10 and all(r.loaded == 0 for r in results)
    assert _data(_counts(hub.engine)) == _data(before)
    record_property("other-profile opens accepted", accepted)


@pytest.mark.reliability("F4")
def test_a_store_from_before_profiles_keeps_its_keyed_blake2b_ids(
        settings: HubSettings, tmp_path: Path, record_property: Any) -> None:
    store_as_before_profiles(settings)
    hub = build_world(settings, tmp_path)             # HUB_CRYPTO_PROFILE unset: standard
    assert hub.vault.profile is LEGACY_BLAKE2B
    assert _meta(hub.engine)["crypto_profile"] == "legacy-blake2b"   # recorded on its first write
    checked = _check_store_keys_by(hub, LEGACY_BLAKE2B)
    master = _master(settings)
    # the keys and digests of before: BLAKE2b keyed by the HKDF-SHA256 subkeys, what every id is made of
    assert hub.vault.token(ZHANG) == hashlib.blake2b(ZHANG.encode(), key=DataKeys.derive(master).token,
                                                     digest_size=16).hexdigest()
    before = _counts(hub.engine)
    reopened = Hub.open(hub.settings)
    forget_watermarks(reopened.engine)
    results = ingest(reopened)
    assert sum(r.extracted for r in results) >= 10
    assert all(r.status == "succeeded" and r.loaded == 0 for r in results)
    after = _counts(hub.engine)
    assert _data(after) == _data(before)             # re-ingest adds nothing: every id found again
    with pytest.raises(ConfigurationError, match="HUB_CRYPTO_PROFILE=gm"):
        Hub.open(hub.settings.model_copy(update={"crypto_profile": "gm"}))
    assert _counts(hub.engine) == after
    record_property("digests checked against keyed BLAKE2b", checked)


def test_a_reader_of_a_store_from_before_profiles_writes_nothing(settings: HubSettings, tmp_path: Path) -> None:
    store_as_before_profiles(settings)
    reader = Hub.open(settings, create=False)
    assert reader.vault.profile is LEGACY_BLAKE2B and "crypto_profile" not in _meta(reader.engine)
    reader.engine.dispose()


def test_an_empty_store_takes_the_setting(store_url: str, tmp_path: Path) -> None:
    settings = HubSettings(home=tmp_path / "home", database_url=store_url, crypto_profile="gm")
    hub = Hub.open(settings)
    assert hub.vault.profile is GM and _meta(hub.engine)["crypto_profile"] == "gm"
    assert Hub.open(settings, create=False).vault.token(ZHANG) == hub.vault.token(ZHANG)


def test_the_setting_takes_only_standard_or_gm(tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="crypto_profile"):
        HubSettings(home=tmp_path, crypto_profile="legacy-blake2b")
    assert HubSettings(home=tmp_path).crypto_profile == "standard"
