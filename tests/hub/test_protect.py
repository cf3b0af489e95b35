from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

from hub.errors import ConfigurationError
from hub.protect import (
    _IPAD,
    _OPAD,
    GM,
    LEGACY_BLAKE2B,
    STANDARD,
    CryptoProfile,
    DataKeys,
    KeyedDigest,
    Sm4Gcm,
    Vault,
    _CryptographyHash,
    crypto_profile,
    encryption_key,
    key_check_value,
    new_key_text,
    read_key,
    write_key_file,
)
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


# --- crypto profiles ---------------------------------------------------------------------------------------------

PROFILE_PARAMS = pytest.mark.parametrize("profile", [STANDARD, GM, LEGACY_BLAKE2B], ids=lambda p: p.name)


def _reference_digest(profile: CryptoProfile, key: bytes, data: bytes) -> str:
    """The profile's keyed digest from cryptography's HMAC or hashlib's BLAKE2b, not from hub.protect."""
    if profile.digest == "blake2b":
        return hashlib.blake2b(data, key=key, digest_size=16).hexdigest()
    mac = crypto_hmac.HMAC(key, hashes.SHA256() if profile.digest == "hmac-sha256" else hashes.SM3())
    mac.update(data)
    return mac.finalize()[:16].hex()


@PROFILE_PARAMS
def test_each_profile_seals_opens_and_keys_a_column_like_one_value(profile: CryptoProfile) -> None:
    key = os.urandom(32)
    vault = Vault(key, profile)
    values = ["650102198503071237", "13800138000", "", "张伟", "x" * 300]
    sealed = vault.encrypt_many(values)
    assert [vault.decrypt_text(blob) for blob in sealed] == values
    assert all(v.encode() not in blob for v, blob in zip(values[:2], sealed[:2], strict=True))
    bound = vault.encrypt(b"payload", associated="raw_record")
    assert vault.decrypt(bound, associated="raw_record") == b"payload"
    with pytest.raises(InvalidTag):
        vault.decrypt(bound, associated="statement")
    tampered = bytearray(sealed[0])
    tampered[14] ^= 1
    with pytest.raises(InvalidTag):
        vault.decrypt(bytes(tampered))
    keys = DataKeys.derive(key, profile)
    assert len(keys.encrypt) == profile.encrypt_key_bytes
    assert vault.tokens(values) == [vault.token(v) for v in values]
    assert vault.keyed_hashes(values) == [vault.keyed_hash(v.encode()) for v in values]
    assert vault.tokens(values) == [_reference_digest(profile, keys.token, v.encode()) for v in values]
    assert vault.keyed_hash(b"x") == _reference_digest(profile, keys.hash, b"x")
    assert all(len(t) == 32 for t in vault.tokens(values))   # the width of the store's id and token columns


def test_profiles_name_the_same_value_differently_except_the_legacy_keys() -> None:
    key = os.urandom(32)
    tokens = {p.name: Vault(key, p).token("13800138000") for p in (STANDARD, GM, LEGACY_BLAKE2B)}
    assert len(set(tokens.values())) == 3
    # standard and legacy-blake2b derive the same keys (the stores before profiles keep theirs); gm its own
    assert DataKeys.derive(key, STANDARD).token == DataKeys.derive(key, LEGACY_BLAKE2B).token
    assert DataKeys.derive(key, GM).token != DataKeys.derive(key, STANDARD).token
    # what stores held before profiles: keyed BLAKE2b-128 under the HKDF-SHA256 token subkey
    assert tokens["legacy-blake2b"] == hashlib.blake2b(b"13800138000", key=DataKeys.derive(key).token,
                                                       digest_size=16).hexdigest()
    with pytest.raises(InvalidTag):
        Vault(key, STANDARD).decrypt(Vault(key, GM).encrypt(b"x"))
    with pytest.raises(InvalidTag):
        Vault(key, GM).decrypt(Vault(key, STANDARD).encrypt(b"x"))


def test_sm4_gcm_gives_the_rfc_8998_test_vector() -> None:
    """RFC 8998 appendix A.1 (SM4-GCM), and SM3("abc") of GB/T 32905: the gm profile's primitives are the
    standard ones, so another 国密 implementation opens what the hub seals."""
    key, nonce = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210"), bytes.fromhex("00001234567800000000ABCD")
    associated = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = bytes.fromhex("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
                              "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA")
    expected = bytes.fromhex("17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
                             "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
                             "83DE3541E4C2B58177E065A9BF7B62EC")
    assert Sm4Gcm(key).encrypt(nonce, plaintext, associated) == expected
    assert Sm4Gcm(key).decrypt(nonce, expected, associated) == plaintext
    with pytest.raises(InvalidTag):
        Sm4Gcm(key).decrypt(nonce, expected[:10], associated)
    sm3 = hashes.Hash(hashes.SM3())
    sm3.update(b"abc")
    assert sm3.finalize().hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


@pytest.mark.parametrize("digest", ["hmac-sha256", "hmac-sm3"])
def test_keyed_digest_is_hmac_for_any_key_length(digest: str) -> None:
    name = digest.removeprefix("hmac-")
    for key in (b"", b"k", os.urandom(32), os.urandom(64), os.urandom(100)):   # long keys are hashed first
        assert KeyedDigest(key, digest).hexdigest(b"abc") == hmac.new(key, b"abc", name).digest()[:16].hex()


def test_cryptographys_sm3_stands_in_where_hashlib_has_none() -> None:
    """OpenSSL builds without SM3 in hashlib: the same HMAC from cryptography's SM3 objects."""
    key = os.urandom(32).ljust(64, b"\0")
    inner, outer = _CryptographyHash(hashes.SM3(), key.translate(_IPAD)), _CryptographyHash(hashes.SM3(),
                                                                                             key.translate(_OPAD))
    step = inner.copy()
    step.update(b"abc")
    final = outer.copy()
    final.update(step.digest())
    assert final.digest()[:16].hex() == KeyedDigest(key[:32], "hmac-sm3").hexdigest(b"abc")
    assert inner.copy().digest() == inner.copy().digest()   # a copy leaves the primed state as it was


def test_a_rotation_under_gm_reseals_with_a_new_sm4_key_and_keeps_tokens() -> None:
    old_key, new_key = os.urandom(32), os.urandom(32)
    old = Vault(old_key, GM)
    stable = DataKeys.derive(old_key, GM)
    rotating = Vault(DataKeys(encryption_key(new_key, GM), stable.token, stable.hash,
                              also_decrypt=(stable.encrypt,)), GM)
    blob = old.encrypt_text("13800138000")
    resealed = rotating.reencrypt(blob)
    assert resealed is not None and rotating.reencrypt(resealed) is None
    assert Vault(DataKeys(encryption_key(new_key, GM), stable.token, stable.hash), GM).decrypt_text(resealed) \
        == "13800138000"
    assert rotating.token("13800138000") == old.token("13800138000")


def test_an_unknown_profile_is_a_configuration_error() -> None:
    assert crypto_profile("gm") is GM and crypto_profile(GM) is GM
    with pytest.raises(ConfigurationError, match="HUB_CRYPTO_PROFILE takes standard or gm"):
        crypto_profile("sm9")



def test_service_keys_differ_by_purpose_and_survive_a_rotation_under_gm() -> None:
    key = os.urandom(32)
    stable = DataKeys.derive(key, GM)
    vault = Vault(key, GM)
    rotated = Vault(DataKeys(encryption_key(os.urandom(32), GM), stable.token, stable.hash), GM)
    assert vault.service_key("jwt") == rotated.service_key("jwt") and len(vault.service_key("jwt")) == 32
    assert vault.service_key("jwt") != vault.service_key("credential")
    assert vault.service_key("jwt") != Vault(key, STANDARD).service_key("jwt")   # gm's hash key is its own
    assert vault.service_key("jwt") not in (stable.encrypt, stable.token, stable.hash)
