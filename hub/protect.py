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
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
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


def _keyed_hexdigests(key: bytes, texts: Iterable[str]) -> list[str]:
    """Keyed BLAKE2b-128 hex digests of UTF-8 texts: each copies one hasher primed with the key.

    The same digests as `blake2b(text, key=key, digest_size=16)`, without parsing the key and the
    keyword arguments again for each of a batch's million values.
    """
    primed = hashlib.blake2b(key=key, digest_size=16)

    def digest(text: str) -> str:
        hasher = primed.copy()
        hasher.update(text.encode("utf-8"))
        return hasher.hexdigest()

    return list(map(digest, texts))


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


def encryption_key(master: bytes) -> bytes:
    """The AES-GCM key of a master key: what a rotation replaces."""
    return _subkey(_require_32(master), b"encrypt")


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
    def derive(cls, master: bytes) -> DataKeys:
        """Every key from the master key by HKDF: what a store starts with."""
        return cls(encryption_key(master), _subkey(master, b"token"), _subkey(master, b"hash"))


class Vault:
    """Encrypts, decrypts and tokenizes with the data keys of one store (or the subkeys of one master key)."""

    def __init__(self, keys: bytes | DataKeys):
        if not isinstance(keys, DataKeys):
            keys = DataKeys.derive(_require_32(keys))
        self._aead = AESGCM(keys.encrypt)
        self._older = [AESGCM(key) for key in keys.also_decrypt]
        self._token_key = keys.token
        self._hash_key = keys.hash

    def encrypt(self, plaintext: bytes, associated: str | None = None) -> bytes:
        """AES-GCM with a fresh nonce; `associated`: context the ciphertext is bound to (not stored)."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, associated.encode() if associated else None)

    def decrypt(self, blob: bytes, associated: str | None = None) -> bytes:
        """The plaintext, under the current encryption key or, while a rotation runs, an older one: AES-GCM's
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
        """Encrypt a column of values; one AESGCM object serves them all (the costly part is setup)."""
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
        return hashlib.blake2b(value.encode("utf-8"), key=self._token_key, digest_size=16).hexdigest()

    def keyed_hash(self, data: bytes) -> str:
        """Keyed content hash: identifies raw records and statements without revealing their content."""
        return hashlib.blake2b(data, key=self._hash_key, digest_size=16).hexdigest()

    def service_key(self, purpose: str) -> bytes:
        """A 32-byte key for one service of the hub (API credentials, token signing, the audit chain), derived by
        HKDF from the hash key: independent of every other key, and, like the hash key, unchanged by a master
        key rotation, so issued credentials and the audit chain's MACs outlive `hub keys rotate`."""
        return _subkey(self._hash_key, b"service/" + purpose.encode("ascii"))

    def tokens(self, values: Iterable[str]) -> list[str]:
        """`token` of a column of values, without a method call per value."""
        return _keyed_hexdigests(self._token_key, values)

    def keyed_hashes(self, texts: Iterable[str]) -> list[str]:
        """`keyed_hash` of a column of texts (UTF-8), for the statement ids of a whole batch at once."""
        return _keyed_hexdigests(self._hash_key, texts)


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


__all__ = ["HIDDEN", "DataKeys", "MasterKey", "Vault", "encryption_key", "fingerprint", "key_check_value",
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
    """A value as people may see it by its attribute's sensitivity (schemas/): resident IDs and phones
    masked by `mask_identifier`, other encrypted values (ethnicity, welfare status) hidden, the rest as is."""
    if value is None or (isinstance(value, float) and value != value):   # None or NaN: nothing to show
        return None
    meta = schemas.attribute_spec(entity_type, attribute)
    if meta is None or not meta.encrypted:
        return value
    text = str(value)
    if not meta.tokenized or len(text) < 7:
        return HIDDEN
    return mask_identifier(text, "phone" if attribute == "phone" else "resident_id")


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
