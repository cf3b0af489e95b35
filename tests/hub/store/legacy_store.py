"""A store as the hub made it before crypto profiles existed (hub.keys at a569208), for the tests of both."""

from __future__ import annotations

import base64

import sqlalchemy as sa

from hub.protect import DataKeys, key_check_value, wrap_key
from hub.settings import HubSettings
from hub.store import open_store, tables


def store_as_before_profiles(settings: HubSettings) -> None:
    """An empty store whose key rows are what the first write recorded before profiles: the check value and
    the token and hash keys (HKDF-SHA256 subkeys) wrapped by the master key, and no crypto_profile row. What
    the hub writes into it afterwards is keyed BLAKE2b, as it always was (profile legacy-blake2b)."""
    assert settings.secret_key is not None
    master = base64.b64decode(settings.secret_key.get_secret_value())
    keys = DataKeys.derive(master)
    engine = open_store(settings.database_url, create=True)
    with engine.begin() as conn:
        conn.execute(tables.store_key.insert(), [
            {"name": "key_check", "value": key_check_value(master)},
            {"name": "token_key", "value": wrap_key(master, keys.token)},
            {"name": "hash_key", "value": wrap_key(master, keys.hash)},
        ])
    engine.dispose()


def forget_watermarks(engine: sa.Engine) -> None:
    """Every source read again from its first record at the next ingest, so that each record's id is
    computed again and looked up, not skipped as an unchanged file."""
    with engine.begin() as conn:
        conn.execute(tables.source_state.delete())
