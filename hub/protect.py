"""Protection of personal data at rest: encryption of values and payloads, keyed lookup tokens.

One 32-byte master key (from HUB_SECRET_KEY or a key file kept outside the repository) is split
with HKDF into independent subkeys, so a token can never be used to decrypt and a leaked content
hash reveals nothing: every hash the store keeps is keyed, which defeats the dictionary attack an
unkeyed hash of an 18-digit ID number would invite.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from collections.abc import Iterable
from typing import Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import schemas
from hub.errors import ConfigurationError
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


class Vault:
    """Encrypts, decrypts and tokenizes with subkeys of one master key."""

    def __init__(self, master_key: bytes):
        if len(master_key) != 32:
            raise ConfigurationError("the hub key must be 32 bytes (base64 of 32 random bytes)")
        self._aead = AESGCM(_subkey(master_key, b"encrypt"))
        self._token_key = _subkey(master_key, b"token")
        self._hash_key = _subkey(master_key, b"hash")

    def encrypt(self, plaintext: bytes, associated: str | None = None) -> bytes:
        """AES-GCM with a fresh nonce; `associated`: context the ciphertext is bound to (not stored)."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, associated.encode() if associated else None)

    def decrypt(self, blob: bytes, associated: str | None = None) -> bytes:
        return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated.encode() if associated else None)

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

    def tokens(self, values: Iterable[str]) -> list[str]:
        """`token` of a column of values, without a method call per value."""
        return _keyed_hexdigests(self._token_key, values)

    def keyed_hashes(self, texts: Iterable[str]) -> list[str]:
        """`keyed_hash` of a column of texts (UTF-8), for the statement ids of a whole batch at once."""
        return _keyed_hexdigests(self._hash_key, texts)

    @classmethod
    def from_settings(cls, settings: HubSettings) -> Vault:
        return cls(load_or_create_key(settings))


def load_or_create_key(settings: HubSettings) -> bytes:
    """The master key: HUB_SECRET_KEY if set, else the key file, created (mode 0600) on first use."""
    if settings.secret_key is not None:
        try:
            return base64.b64decode(settings.secret_key.get_secret_value(), validate=True)
        except ValueError:
            raise ConfigurationError("HUB_SECRET_KEY is not valid base64: set it to the output of `hub keygen` "
                                     "(base64 of 32 random bytes), or unset it to use the key file") from None
    path = settings.key_file
    assert path is not None
    if path.exists():
        try:
            return base64.b64decode(path.read_text().strip(), validate=True)
        except ValueError:
            raise ConfigurationError(f"key file {path} does not hold base64 key material") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(key).decode() + "\n")
    return key


def new_key_text() -> str:
    """A fresh base64 key, for `hub keygen` and for tests."""
    return base64.b64encode(os.urandom(32)).decode()


__all__ = ["HIDDEN", "Vault", "load_or_create_key", "mask_attribute", "mask_identifier", "new_key_text"]

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
