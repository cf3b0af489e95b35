from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from hub.errors import ConfigurationError
from hub.protect import Vault, load_or_create_key, new_key_text
from hub.settings import HubSettings


def test_encrypt_round_trip_and_no_clear_text() -> None:
    vault = Vault(os.urandom(32))
    blob = vault.encrypt_text("650102198503071237")
    assert b"650102198503071237" not in blob
    assert vault.decrypt_text(blob) == "650102198503071237"
    assert vault.encrypt_text("x") != vault.encrypt_text("x")   # random nonce: no equality leak


def test_tokens_are_keyed_and_stable() -> None:
    key = os.urandom(32)
    a, b = Vault(key), Vault(key)
    assert a.token("13800138000") == b.token("13800138000")
    assert a.token("13800138000") != Vault(os.urandom(32)).token("13800138000")
    assert a.token("13800138000") != a.keyed_hash(b"13800138000")   # separate subkeys


def test_key_file_created_private_and_reused(tmp_path: Path) -> None:
    settings = HubSettings(home=tmp_path)
    key = load_or_create_key(settings)
    assert settings.key_file is not None
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    assert load_or_create_key(settings) == key


def test_secret_key_from_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = new_key_text()
    monkeypatch.setenv("HUB_SECRET_KEY", text)
    assert load_or_create_key(HubSettings(home=tmp_path)) == base64.b64decode(text)
    monkeypatch.setenv("HUB_SECRET_KEY", "not base64!!")
    with pytest.raises(ConfigurationError, match="HUB_SECRET_KEY"):
        load_or_create_key(HubSettings(home=tmp_path))
