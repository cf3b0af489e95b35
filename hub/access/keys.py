"""The keys of the API's credentials, its signed tokens and the audit chain.

Each is an HKDF subkey of the store's hash key (`Vault.service_key`), not of the master key: the hash key
is kept wrapped in the store and survives `hub keys rotate` unchanged (hub.keys), so a rotation of the
master key neither kills every issued secret and token nor makes the audit log's MACs unverifiable. Three
subkeys, so a leaked token-signing key cannot forge an audit row or test a guessed secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.protect import Vault


@dataclass(frozen=True, repr=False)
class AccessKeys:
    credential: bytes
    """HMAC-SHA256 key of the stored secret hashes (client secrets, API keys)."""
    jwt: bytes
    """HS256 key of the access tokens."""
    audit: bytes
    """HMAC-SHA256 key of the audit chain's row hashes."""

    @classmethod
    def from_vault(cls, vault: Vault) -> AccessKeys:
        return cls(vault.service_key("credential"), vault.service_key("jwt"), vault.service_key("audit"))
