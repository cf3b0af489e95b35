from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from hub.errors import ConfigurationError
from hub.protect import DataKeys, Vault, encryption_key, key_check_value, new_key_text, read_key, write_key_file
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


def test_key_file_written_private_never_overwritten_and_read_back(tmp_path: Path) -> None:
    settings = HubSettings(home=tmp_path)
    assert settings.key_file is not None
    assert read_key(settings) is None                  # reading never creates a key
    assert not settings.key_file.exists()
    written = write_key_file(settings.key_file)
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    read = read_key(settings)
    assert read is not None and read.material == written.material
    with pytest.raises(ConfigurationError, match="never overwritten"):
        write_key_file(settings.key_file)
    assert read_key(settings) == read                  # the refused write left the key as it was


def test_secret_key_from_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = new_key_text()
    monkeypatch.setenv("HUB_SECRET_KEY", text)
    key = read_key(HubSettings(home=tmp_path))
    assert key is not None and key.material == base64.b64decode(text) and key.origin == "HUB_SECRET_KEY"
    assert text not in repr(key)
    monkeypatch.setenv("HUB_SECRET_KEY", "not base64!!")
    with pytest.raises(ConfigurationError, match="HUB_SECRET_KEY"):
        read_key(HubSettings(home=tmp_path))


def test_check_value_tells_keys_apart_and_is_not_the_key_or_a_subkey() -> None:
    key = os.urandom(32)
    check = key_check_value(key)
    assert check == key_check_value(key) and check != key_check_value(os.urandom(32))
    vault_keys = DataKeys.derive(key)
    for secret in (key, vault_keys.encrypt, vault_keys.token, vault_keys.hash):
        assert secret.hex() not in check


def test_during_a_rotation_both_encryption_keys_open_and_the_new_one_seals() -> None:
    old_key, new_key = os.urandom(32), os.urandom(32)
    old = Vault(old_key)
    stable = DataKeys.derive(old_key)
    rotating = Vault(DataKeys(encryption_key(new_key), stable.token, stable.hash, also_decrypt=(stable.encrypt,)))
    sealed_before = old.encrypt_text("650102198503071237")
    assert rotating.decrypt_text(sealed_before) == "650102198503071237"
    resealed = rotating.reencrypt(sealed_before)
    assert resealed is not None and rotating.reencrypt(resealed) is None   # already under the new key
    assert Vault(DataKeys(encryption_key(new_key), stable.token, stable.hash)).decrypt_text(resealed) \
        == "650102198503071237"
    assert rotating.token("13800138000") == old.token("13800138000")       # names never change
    assert rotating.keyed_hash(b"x") == old.keyed_hash(b"x")
