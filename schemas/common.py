"""What every canonical model shares: sensitivity levels, departments, and `attr()`.

`attr()` is the single place where a field's sensitivity and authoritative departments are
declared. Storage (encryption, lookup tokens), API masking, GX suites and docs/data-model.md all
read this metadata back through `schemas.attributes()`, so changing a level here changes it
everywhere at once instead of in five hand-kept lists.
"""

from __future__ import annotations

import builtins
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

SENSITIVITY_KEY = "x-sensitivity"
AUTHORITY_KEY = "x-authority"
NORMALIZER_KEY = "x-normalizer"
CODE_SYSTEM_KEY = "x-code-system"
TOKENIZED_KEY = "x-tokenized"


class Sensitivity(StrEnum):
    """How much harm a leaked value does; decides encryption at rest and masking in the API.

    Members are ordered from least to most sensitive. Compare levels with `rank` or `covers()`,
    never with `<` (that would compare the strings alphabetically).
    """

    public = "public"
    internal = "internal"
    sensitive = "sensitive"
    highly_sensitive = "highly_sensitive"

    @property
    def rank(self) -> int:
        return list(Sensitivity).index(self)

    @property
    def encrypted(self) -> bool:
        """Values at this level are stored only as ciphertext (AES-GCM), never in clear."""
        return self.rank >= Sensitivity.sensitive.rank

    def covers(self, level: Sensitivity) -> bool:
        """True when a consumer cleared to `self` may see values of sensitivity `level`."""
        return self.rank >= level.rank


class Department(StrEnum):
    """The departments whose systems feed the hub; an attribute names those it trusts most."""

    public_security = "public_security"
    civil_affairs = "civil_affairs"
    social_insurance = "social_insurance"
    property = "property"
    disabled_persons_federation = "disabled_persons_federation"
    market_regulation = "market_regulation"
    grid = "grid"

    @builtins.property  # the member `property` shadows the builtin inside this class body
    def name_zh(self) -> str:
        return DEPARTMENT_NAMES_ZH[self]


DEPARTMENT_NAMES_ZH: dict[Department, str] = {
    Department.public_security: "公安",
    Department.civil_affairs: "民政",
    Department.social_insurance: "人社",
    Department.property: "物业",
    Department.disabled_persons_federation: "残联",
    Department.market_regulation: "市场监管",
    Department.grid: "网格",
}


def attr(
    description: str,
    *,
    sensitivity: Sensitivity,
    authority: tuple[Department, ...],
    normalizer: str,
    code_system: str | None = None,
    tokenized: bool = False,
    examples: list[Any] | None = None,
    pattern: str | None = None,
    ge: int | None = None,
) -> Any:
    """Declare a canonical attribute: an optional pydantic field carrying its governance metadata.

    `authority` lists departments in order of trust (the first is authoritative). `tokenized`
    asks for a keyed HMAC lookup token next to the ciphertext, for the identifiers that
    blocking and lookup need (resident ID, phone); it only makes sense for encrypted levels.
    Mistakes raise here, at import time, so a wrong declaration never reaches a running hub.
    """
    if not authority:
        raise ValueError(f"attribute {description!r} names no authoritative department")
    if tokenized and not sensitivity.encrypted:
        raise ValueError(f"attribute {description!r} is tokenized but {sensitivity} values are not encrypted")
    extra: dict[str, Any] = {
        SENSITIVITY_KEY: sensitivity.value,
        AUTHORITY_KEY: [department.value for department in authority],
        NORMALIZER_KEY: normalizer,
        CODE_SYSTEM_KEY: code_system,
        TOKENIZED_KEY: tokenized,
    }
    return Field(
        default=None,
        description=description,
        examples=examples,
        pattern=pattern,
        ge=ge,
        json_schema_extra=extra,
    )


class CanonicalEntity(BaseModel):
    """Base of the entity models: a canonical id plus optional attributes declared with `attr()`.

    Inputs never appear in validation errors (`hide_input_in_errors`): a rejected resident ID or
    phone must not end up in a log line or an HTTP error body.
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    entity_type: ClassVar[str]
    label_zh: ClassVar[str]
    label_en: ClassVar[str]

    id: str = Field(
        min_length=1,
        description="Canonical id, stable across runs; after a merge the older id survives.",
    )
