"""Protection of personal data at rest: encryption of values and payloads, keyed lookup tokens.

One 32-byte master key (from HUB_SECRET_KEY or a key file kept outside the repository) is split
with HKDF into independent subkeys, so a token can never be used to decrypt and a leaked content
hash reveals nothing: every hash the store keeps is keyed, which defeats the dictionary attack an
unkeyed hash of an 18-digit ID number would invite.

The token and hash keys name things (raw record ids, statement ids, lookup tokens), so they must
outlive a key rotation: a store keeps them wrapped by the master key (hub.keys) and a Vault is built
from `DataKeys`, of which only the encryption key changes when the master key does. A store also
records the master key's check value, a MAC of a constant under a subkey of its own, which tells
two keys apart without revealing either.

The algorithms are a store's crypto profile (HUB_CRYPTO_PROFILE, recorded in the store by hub.keys):
`standard` seals values with AES-256-GCM and keys tokens and hashes with HMAC-SHA256; `gm` (国密) uses
SM4-GCM and HMAC-SM3, its data keys derived by HKDF-SM3; `legacy-blake2b` is what stores made before
the profiles had: AES-256-GCM and keyed BLAKE2b. Tokens and keyed hashes name things for good (ids,
lookup tokens), so a store keeps the profile it was created with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

import schemas
from hub.errors import ConfigurationError
from hub.private_files import make_private_dir
from hub.settings import HubSettings

NONCE_BYTES = 12


def _subkey(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"community-hub/" + purpose).derive(master)


ProfileName = Literal["standard", "gm", "legacy-blake2b"]


@dataclass(frozen=True)
class CryptoProfile:
    """The algorithms a store seals and keys its data with.

    `cipher` seals values and payloads (AEAD, 12-byte nonce, 16-byte tag); `digest` keys lookup tokens and
    content hashes (HMAC with it, truncated to 128 bits, or keyed BLAKE2b-128): every id and token of a
    store is such a digest, 32 hex characters whatever the profile; `kdf` derives the data keys from the
    master key (HKDF). The key check value and the wrapping of the stored keys (AES-KW) are the same for
    every profile: they are what tells a store which profile and key it has before either is known.
    """

    name: ProfileName
    cipher: Literal["aes-256-gcm", "sm4-gcm"]
    digest: Literal["hmac-sha256", "hmac-sm3", "blake2b"]
    kdf: Literal["sha256", "sm3"]

    @property
    def encrypt_key_bytes(self) -> int:
        return 16 if self.cipher == "sm4-gcm" else 32

    @property
    def label(self) -> str:
        """What an operator reads: the profile and its algorithms."""
        names = {"aes-256-gcm": "AES-256-GCM", "sm4-gcm": "SM4-GCM", "hmac-sha256": "HMAC-SHA256",
                 "hmac-sm3": "HMAC-SM3", "blake2b": "keyed BLAKE2b"}
        return f"{self.name} ({names[self.cipher]}, {names[self.digest]})"


PROFILES: dict[str, CryptoProfile] = {
    "standard": CryptoProfile("standard", "aes-256-gcm", "hmac-sha256", "sha256"),
    "gm": CryptoProfile("gm", "sm4-gcm", "hmac-sm3", "sm3"),
    "legacy-blake2b": CryptoProfile("legacy-blake2b", "aes-256-gcm", "blake2b", "sha256"),
}
STANDARD, GM, LEGACY_BLAKE2B = PROFILES["standard"], PROFILES["gm"], PROFILES["legacy-blake2b"]


def crypto_profile(name: str | CryptoProfile) -> CryptoProfile:
    """The profile called `name` (a profile passes through)."""
    if isinstance(name, CryptoProfile):
        return name
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigurationError(f"unknown crypto profile {name!r}: HUB_CRYPTO_PROFILE takes standard or gm") from None


def _derive(master: bytes, purpose: bytes, profile: CryptoProfile, length: int = 32) -> bytes:
    """A data key of `profile`: HKDF-SHA256 (the same as `_subkey`) or, for gm, HKDF-SM3."""
    algorithm = hashes.SM3() if profile.kdf == "sm3" else hashes.SHA256()
    return HKDF(algorithm=algorithm, length=length, salt=None, info=b"community-hub/" + purpose).derive(master)


DIGEST_HEX = 32
"""Hex characters of every token and keyed hash (128 bits): the width of the store's id and token columns."""

_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


class _Hasher(Protocol):
    def copy(self) -> _Hasher: ...
    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...


def _hash_object(name: str, data: bytes) -> _Hasher:
    """A hashlib object of `name` holding `data`; OpenSSL builds without SM3 get cryptography's SM3."""
    try:
        return hashlib.new(name, data)
    except ValueError:
        if name != "sm3":
            raise
        return _CryptographyHash(hashes.SM3(), data)


class _CryptographyHash:
    """cryptography's Hash behind hashlib's names (copy, update, digest), for SM3 where hashlib lacks it."""

    def __init__(self, algorithm: hashes.HashAlgorithm, data: bytes = b"", state: hashes.Hash | None = None):
        self._state = state if state is not None else hashes.Hash(algorithm)
        if data:
            self._state.update(data)

    def copy(self) -> _CryptographyHash:
        return _CryptographyHash(self._state.algorithm, state=self._state.copy())

    def update(self, data: bytes, /) -> None:
        self._state.update(data)

    def digest(self) -> bytes:
        """The digest; unlike hashlib's, it ends this object (KeyedDigest finalizes only copies)."""
        return self._state.finalize()


class KeyedDigest:
    """A keyed 128-bit digest primed once with its key: HMAC (RFC 2104) with SHA-256 or SM3, truncated to
    128 bits, or keyed BLAKE2b-128. Each value copies the primed state instead of processing the key again:
    for HMAC the inner and outer hashes already hold the padded key, which is what the million values of
    an ingest batch need (hmac.HMAC.copy does the same, at twice the cost per value)."""

    def __init__(self, key: bytes, digest: str):
        self.hexdigest = self._blake2b(key) if digest == "blake2b" else self._hmac(key, digest.removeprefix("hmac-"))

    @staticmethod
    def _blake2b(key: bytes) -> Callable[[bytes], str]:
        primed = hashlib.blake2b(key=key, digest_size=DIGEST_HEX // 2)

        def hexdigest(data: bytes) -> str:
            hasher = primed.copy()
            hasher.update(data)
            return hasher.hexdigest()

        return hexdigest

    @staticmethod
    def _hmac(key: bytes, name: str) -> Callable[[bytes], str]:
        block = 64   # SHA-256 and SM3 both hash 64-byte blocks
        if len(key) > block:
            key = hashlib.sha256(key).digest() if name == "sha256" else _sm3(key)
        padded = key.ljust(block, b"\0")
        inner, outer = _hash_object(name, padded.translate(_IPAD)), _hash_object(name, padded.translate(_OPAD))
        copy_inner, copy_outer = inner.copy, outer.copy

        def hexdigest(data: bytes) -> str:
            hasher = copy_inner()
            hasher.update(data)
            final = copy_outer()
            final.update(hasher.digest())
            return final.digest()[: DIGEST_HEX // 2].hex()

        return hexdigest

    def hexdigests(self, texts: Iterable[str]) -> list[str]:
        """Digests of UTF-8 texts, a column at a time."""
        hexdigest = self.hexdigest
        return [hexdigest(text.encode("utf-8")) for text in texts]


def _sm3(data: bytes) -> bytes:
    hasher = hashes.Hash(hashes.SM3())
    hasher.update(data)
    return hasher.finalize()


class _Aead(Protocol):
    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...
    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...


TAG_BYTES = 16


class Sm4Gcm:
    """SM4 in GCM mode (GB/T 32907 block cipher; GCM as for AES) with AESGCM's interface: the tag follows
    the ciphertext, a wrong key or a changed byte raises InvalidTag. cryptography has no SM4 AEAD class,
    so each value builds its own cipher context (about five times AESGCM's cost per value)."""

    def __init__(self, key: bytes):
        self._algorithm = algorithms.SM4(key)

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        encryptor = Cipher(self._algorithm, modes.GCM(nonce)).encryptor()
        if associated_data:
            encryptor.authenticate_additional_data(associated_data)
        return encryptor.update(data) + encryptor.finalize() + encryptor.tag

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        if len(data) < TAG_BYTES:
            raise InvalidTag
        decryptor = Cipher(self._algorithm, modes.GCM(nonce, data[-TAG_BYTES:])).decryptor()
        if associated_data:
            decryptor.authenticate_additional_data(associated_data)
        return decryptor.update(data[:-TAG_BYTES]) + decryptor.finalize()


def _aead(profile: CryptoProfile, key: bytes) -> _Aead:
    return Sm4Gcm(key) if profile.cipher == "sm4-gcm" else AESGCM(key)


CHECK_CONSTANT = b"community-hub key check v1"
FINGERPRINT_CHARS = 12


def _require_32(key: bytes) -> bytes:
    if len(key) != 32:
        raise ConfigurationError("the hub key must be 32 bytes (base64 of 32 random bytes)")
    return key


def key_check_value(master: bytes) -> str:
    """HMAC-SHA256 of a constant under the key's "check" subkey: equal for equal keys, and no way back to
    the key (nor to any other subkey) from it. Stored in the clear; its first characters are the fingerprint."""
    return hmac.new(_subkey(_require_32(master), b"check"), CHECK_CONSTANT, hashlib.sha256).hexdigest()


def fingerprint(check_value: str) -> str:
    """The short form of a check value shown to operators, to tell keys apart."""
    return check_value[:FINGERPRINT_CHARS]


def encryption_key(master: bytes, profile: CryptoProfile = STANDARD) -> bytes:
    """The encryption key of a master key under `profile` (AES-256 or SM4): what a rotation replaces."""
    return _derive(_require_32(master), b"encrypt", profile, profile.encrypt_key_bytes)


def wrap_key(master: bytes, key: bytes) -> str:
    """`key` wrapped (AES-KW, RFC 3394) under the master key's "wrap" subkey, as base64 text for the store."""
    return base64.b64encode(aes_key_wrap(_subkey(master, b"wrap"), key)).decode("ascii")


def unwrap_key(master: bytes, wrapped: str) -> bytes:
    try:
        return aes_key_unwrap(_subkey(master, b"wrap"), base64.b64decode(wrapped))
    except InvalidUnwrap:
        raise ConfigurationError("a wrapped key of the store does not open with the key given") from None


@dataclass(frozen=True, repr=False)
class DataKeys:
    """The keys a Vault works with. `encrypt` seals new ciphertexts; `also_decrypt` are older encryption keys
    still accepted while a rotation re-encrypts; `token` and `hash` never change once a store has them."""

    encrypt: bytes
    token: bytes
    hash: bytes
    also_decrypt: tuple[bytes, ...] = field(default=())

    @classmethod
    def derive(cls, master: bytes, profile: CryptoProfile = STANDARD) -> DataKeys:
        """Every key from the master key by HKDF: what a store starts with. The standard and legacy profiles
        derive the same keys (HKDF-SHA256, as `_subkey`); gm derives its own with HKDF-SM3."""
        master = _require_32(master)
        return cls(encryption_key(master, profile), _derive(master, b"token", profile),
                   _derive(master, b"hash", profile))


class Vault:
    """Encrypts, decrypts and tokenizes with the data keys of one store (or the subkeys of one master key),
    by the algorithms of its crypto profile."""

    def __init__(self, keys: bytes | DataKeys, profile: str | CryptoProfile = STANDARD):
        self.profile = crypto_profile(profile)
        if not isinstance(keys, DataKeys):
            keys = DataKeys.derive(_require_32(keys), self.profile)
        self._aead = _aead(self.profile, keys.encrypt)
        self._older = [_aead(self.profile, key) for key in keys.also_decrypt]
        self._tokens = KeyedDigest(keys.token, self.profile.digest)
        self._hashes = KeyedDigest(keys.hash, self.profile.digest)
        self._hash_key = keys.hash   # what service_key derives from
        self._keys = keys

    def __reduce__(self) -> tuple[type[Vault], tuple[DataKeys, CryptoProfile]]:
        """A vault crosses to the hub's own worker processes (a parallel ingest, hub.ingest.parallel) as its
        keys and profile, over the pipe between them: nothing is written anywhere."""
        return Vault, (self._keys, self.profile)

    def encrypt(self, plaintext: bytes, associated: str | None = None) -> bytes:
        """The profile's AEAD (AES-256-GCM or SM4-GCM) with a fresh nonce; `associated`: context the
        ciphertext is bound to (not stored)."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, associated.encode() if associated else None)

    def decrypt(self, blob: bytes, associated: str | None = None) -> bytes:
        """The plaintext, under the current encryption key or, while a rotation runs, an older one: the GCM
        tag tells which (a wrong key fails it), so only a ciphertext still under an older key costs a retry."""
        nonce, sealed, context = blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated.encode() if associated else None
        try:
            return self._aead.decrypt(nonce, sealed, context)
        except InvalidTag:
            for older in self._older:
                try:
                    return older.decrypt(nonce, sealed, context)
                except InvalidTag:
                    continue
            raise

    def reencrypt(self, blob: bytes) -> bytes | None:
        """`blob` sealed again under the current encryption key, or None when it already is (key rotation)."""
        try:
            self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], None)
            return None
        except InvalidTag:
            return self.encrypt(self.decrypt(blob))

    def encrypt_text(self, text: str) -> bytes:
        return self.encrypt(text.encode("utf-8"))

    def decrypt_text(self, blob: bytes) -> str:
        return self.decrypt(blob).decode("utf-8")

    def encrypt_many(self, texts: Iterable[str]) -> list[bytes]:
        """Encrypt a column of values; one AEAD object serves them all (for AES, the costly part is setup)."""
        return self.encrypt_many_bytes([text.encode("utf-8") for text in texts])

    def encrypt_many_bytes(self, blobs: Iterable[bytes]) -> list[bytes]:
        """`encrypt` of a column of byte strings (raw payloads)."""
        items = blobs if isinstance(blobs, list) else list(blobs)
        randomness = os.urandom(NONCE_BYTES * len(items))   # one system call for every nonce of the column
        aead, out = self._aead, []
        for start, blob in zip(range(0, len(randomness), NONCE_BYTES), items, strict=True):
            nonce = randomness[start : start + NONCE_BYTES]
            out.append(nonce + aead.encrypt(nonce, blob, None))
        return out

    def token(self, value: str) -> str:
        """Keyed lookup token of a sensitive value (ID number, phone): equal values give equal tokens."""
        return self._tokens.hexdigest(value.encode("utf-8"))

    def keyed_hash(self, data: bytes) -> str:
        """Keyed content hash: identifies raw records and statements without revealing their content."""
        return self._hashes.hexdigest(data)

    def service_key(self, purpose: str) -> bytes:
        """A 32-byte key for one service of the hub (API credentials, token signing, the audit chain), derived by
        HKDF from the hash key: independent of every other key, and, like the hash key, unchanged by a master
        key rotation, so issued credentials and the audit chain's MACs outlive `hub keys rotate`. HKDF-SHA256
        under every crypto profile: the services' own MACs (HMAC-SHA256, JWT HS256) are SHA-256 ones."""
        return _subkey(self._hash_key, b"service/" + purpose.encode("ascii"))

    def tokens(self, values: Iterable[str]) -> list[str]:
        """`token` of a column of values, without a method call per value."""
        return self._tokens.hexdigests(values)

    def keyed_hashes(self, texts: Iterable[str]) -> list[str]:
        """`keyed_hash` of a column of texts (UTF-8), for the statement ids of a whole batch at once."""
        return self._hashes.hexdigests(texts)


@dataclass(frozen=True)
class MasterKey:
    """A master key and where it came from, which every message about a wrong or missing key names."""

    material: bytes = field(repr=False)
    origin: str

    @property
    def check_value(self) -> str:
        return key_check_value(self.material)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.check_value)


def key_file_origin(path: Path) -> str:
    return f"key file {path} (HUB_KEY_FILE)"


def read_key(settings: HubSettings) -> MasterKey | None:
    """The master key: HUB_SECRET_KEY if set, else the key file; None when neither holds one.

    Never creates a key: only `hub keygen --write` and the first write to an empty store do (hub.keys)."""
    if settings.secret_key is not None:
        try:
            material = base64.b64decode(settings.secret_key.get_secret_value(), validate=True)
        except ValueError:
            raise ConfigurationError("HUB_SECRET_KEY is not valid base64: set it to the output of `hub keygen` "
                                     "(base64 of 32 random bytes), or unset it to use the key file") from None
        if len(material) != 32:
            raise ConfigurationError("HUB_SECRET_KEY must be base64 of 32 bytes (`hub keygen` prints one)")
        return MasterKey(material, "HUB_SECRET_KEY")
    assert settings.key_file is not None
    return read_key_file(settings.key_file) if settings.key_file.exists() else None


def read_key_file(path: Path, origin: str | None = None) -> MasterKey:
    try:
        material = base64.b64decode(path.read_text().strip(), validate=True)
    except OSError as exc:
        raise ConfigurationError(f"key file {path} (HUB_KEY_FILE) cannot be read: {exc.strerror}") from None
    except ValueError:
        raise ConfigurationError(f"key file {path} does not hold base64 key material") from None
    if len(material) != 32:
        raise ConfigurationError(f"key file {path} does not hold a 32-byte key (base64 of 32 random bytes)")
    return MasterKey(material, origin or key_file_origin(path))


def write_key_file(path: Path, origin: str | None = None) -> MasterKey:
    """A fresh key written to `path` (mode 0600, its folder 0700 if new); an existing file is never replaced."""
    make_private_dir(path.parent)
    material = os.urandom(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    except FileExistsError:
        raise ConfigurationError(f"key file {path} exists already: a key file is never overwritten "
                                 "(move it away first if you really mean to replace it)") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(material).decode() + "\n")
    return MasterKey(material, origin or key_file_origin(path))


def new_key_text() -> str:
    """A fresh base64 key, for `hub keygen` and for tests."""
    return base64.b64encode(os.urandom(32)).decode()


__all__ = ["GM", "HIDDEN", "LEGACY_BLAKE2B", "PROFILES", "STANDARD", "CryptoProfile", "DataKeys", "KeyedDigest",
           "MasterKey", "Sm4Gcm", "Vault", "crypto_profile", "encryption_key", "fingerprint", "key_check_value",
           "mask_attribute", "mask_identifier", "new_key_text", "read_key", "read_key_file", "unwrap_key", "wrap_key",
           "write_key_file"]

HIDDEN = "***"
"""What is shown for a sensitive value that has no masked form (ethnicity, welfare status)."""

MaskKind = Literal["resident_id", "phone", "name"]


def mask_identifier(text: str, kind: MaskKind | None = None) -> str:
    """The one masking of the hub, after GB/T 35273's examples: every table, report and message uses it.

    resident_id: first 6 (the county code) and last 4 characters, 650102********1237;
    phone: first 3 (the carrier prefix) and last 4, 138****8000 (a short landline keeps its last 4 only);
    name: by character, the first and, from three characters on, the last: 张*, 张*明, 欧**娜.
    Without `kind`, 15 characters or more read as an ID number, other digits as a phone, the rest as a name.
    """
    if kind is None:
        digits = sum(ch.isdigit() for ch in text)
        kind = "resident_id" if len(text) >= 15 and digits >= 14 else "phone" if digits >= 7 else "name"
    n = len(text)
    if kind == "name":
        head, tail = (0, 0) if n < 2 else (1, 0) if n == 2 else (1, 1)
    elif kind == "resident_id":
        head, tail = (6, 4) if n >= 15 else (0, min(4, n // 2))
    else:
        head, tail = (3, 4) if n >= 11 else (0, min(4, n // 2))
    return text[:head] + "*" * (n - head - tail) + text[n - tail:]


def mask_attribute(entity_type: str, attribute: str, value: object) -> object:
    """A value as an operator's tables show it: `present` at the operator's clearance (internal), with
    HIDDEN where it withholds (ethnicity, welfare status), so a table cell says that something is there.
    A name the schemas do not declare (a comparison's derived key in `hub explain`) is shown as is: such
    keys are built from values the operator's clearance covers."""
    if value is None or (isinstance(value, float) and value != value):   # None or NaN: nothing to show
        return None
    if schemas.attribute_spec(entity_type, attribute) is None:
        return value
    shown, mode = present(entity_type, attribute, value, schemas.Sensitivity.internal)
    return HIDDEN if mode == "withheld" else shown


def present(entity_type: str, attribute: str, value: object, clearance: schemas.Sensitivity,
            ) -> tuple[object, Literal["clear", "masked", "withheld"]]:
    """A value as a caller with `clearance` may receive it, and how it was shown: the one decision every
    response, table, export and report of the hub goes through.

    Clear when the clearance covers the attribute's sensitivity (schemas/); else masked where GB/T 35273
    gives a pattern (resident IDs, phones, persons' names by character: 650102********1234, 138****5678,
    张*明); else withheld (None). A value of an attribute the schemas do not declare is withheld below the
    highest clearance: an undeclared field is never assumed harmless.
    """
    if value is None or (isinstance(value, float) and value != value):
        return None, "clear"
    meta = schemas.attribute_spec(entity_type, attribute)
    level = meta.sensitivity if meta is not None else schemas.Sensitivity.highly_sensitive
    if clearance.covers(level):
        return value, "clear"
    text = str(value)
    if meta is not None and meta.tokenized and len(text) >= 7:
        return mask_identifier(text, "phone" if attribute == "phone" else "resident_id"), "masked"
    if entity_type == "person" and attribute == "name" and text:
        return mask_identifier(text, "name"), "masked"
    return None, "withheld"
