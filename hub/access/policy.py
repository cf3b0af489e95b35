"""The policy a read runs under: who asks, for what purpose, and what that lets them see.

Every core view (hub.views) takes one; the API builds it from a consumer's token, the CLI from the
operator. Entity types, fields and scope are what the caller may ask about at all; clearance decides,
per value, whether it is shown clear, masked or withheld (`hub.protect.present`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import schemas
from schemas import Sensitivity

Role = Literal["consumer", "auditor", "operator"]
FieldMode = Literal["clear", "masked", "withheld"]
CLAIM_KINDS = ("resident", "situation", "tenure", "organization")
"""What 核验 (hub.verify) answers yes or no to: a resident of a community (ID number and name), a person's
situation (低保 …), a person owning or renting a house, an organization's credit code registered. A consumer
is granted the kinds it may check (`hub consumers add --claim`), apart from the entity types it may read."""
WRITE_GRANT = re.compile(r"[a-z][a-z0-9_]{1,62}(\.[a-z][a-z0-9_]{0,47})?")
"""A write grant: a form id (every field of the form), or `form.field` (that field only)."""


@dataclass(frozen=True)
class Policy:
    actor: str
    """A consumer id, or the operator's login name for the CLI."""
    role: Role
    purpose: str
    clearance: Sensitivity
    entity_types: frozenset[str]
    fields: Mapping[str, frozenset[str]] | None = None
    """Entity type → the attributes the caller may receive; None: every attribute of its allowed types."""
    scope: frozenset[str] | None = None
    """Place ids (communities, grids) the caller's entities must belong to; None: everywhere."""
    consumer_id: str | None = field(default=None)
    claims: frozenset[str] = frozenset()
    """The 核验 claim kinds the caller may check (CLAIM_KINDS); they need no clearance and no entity type."""
    writes: frozenset[str] = frozenset()
    """What the caller may write back (hub.forms.writeback): a form id (every field of it) or `form.field`.
    Reading a form is no licence to write it: collected values become statements every other app is served."""

    def allows_claim(self, kind: str) -> bool:
        return kind in self.claims

    def allows_write(self, form: str, field_key: str) -> bool:
        return form in self.writes or f"{form}.{field_key}" in self.writes

    def allows_type(self, entity_type: str) -> bool:
        return entity_type in self.entity_types

    def allows_field(self, entity_type: str, attribute: str) -> bool:
        if not self.allows_type(entity_type):
            return False
        return self.fields is None or attribute in self.fields.get(entity_type, frozenset())

    @classmethod
    def operator(cls, login: str, purpose: str = "operation of the hub") -> Policy:
        """What an operator sees at the command line: every type and field, identifiers masked, sensitive
        values withheld, everywhere (an operator runs the hub for the whole district)."""
        return cls(actor=login, role="operator", purpose=purpose, clearance=Sensitivity.internal,
                   entity_types=frozenset(schemas.entity_types()))
