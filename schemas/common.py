"""What every canonical model shares: sensitivity levels, data grades, departments, and `attr()`.

`attr()` is the single place where a field's sensitivity, data grade (GB/T 43697), personal-information
category (GB/T 35273, PIPL) and authoritative departments are declared. Storage (encryption, lookup
tokens), API masking, GX suites and docs/data-model.md all read this metadata back through
`schemas.attributes()`, so changing a level here changes it everywhere at once instead of in five
hand-kept lists.
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
GRADE_KEY = "x-data-grade"
PERSONAL_INFO_KEY = "x-personal-info"


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
        return _SENSITIVITY_RANK[self]

    @property
    def encrypted(self) -> bool:
        """Values at this level are stored only as ciphertext (AES-GCM), never in clear."""
        return self.rank >= Sensitivity.sensitive.rank

    def covers(self, level: Sensitivity) -> bool:
        """True when a consumer cleared to `self` may see values of sensitivity `level`."""
        return self.rank >= level.rank


_SENSITIVITY_RANK = {level: i for i, level in enumerate(Sensitivity)}
"""Every masked value asks for two ranks; listing the enum each time was a tenth of a profile's work."""


class DataGrade(StrEnum):
    """The data grade of GB/T 43697-2024 (数据安全技术 数据分类分级规则): 一般数据, 重要数据, 核心数据.

    A grade judges the harm of a field's data of the whole store, leaked or tampered with, to national
    security, the economy, social order and public interests, where the sensitivity level judges the
    harm to one person. Important and core data must be encrypted at rest (enforced by `attr()`).
    """

    general = "general"
    important = "important"
    core = "core"

    @property
    def name_zh(self) -> str:
        return {"general": "一般数据", "important": "重要数据", "core": "核心数据"}[self.value]


class PersonalInfo(StrEnum):
    """Whether a field is personal information and, if so, sensitive personal information (敏感个人信息:
    PIPL art. 28, GB/T 35273-2020 annex B: identity documents, health, welfare, marital history, ...)."""

    none = "none"
    personal = "personal"
    sensitive = "sensitive"

    @property
    def name_zh(self) -> str:
        return {"none": "非个人信息", "personal": "个人信息", "sensitive": "敏感个人信息"}[self.value]


def default_grade(sensitivity: Sensitivity) -> DataGrade:
    """The grade a field has unless it declares one: a highly sensitive identifier, held for a whole
    district's population, is important data (it opens every other record of every resident); the rest
    is general data. Fields whose grade differs declare it (`attr(grade=...)`)."""
    return DataGrade.important if sensitivity is Sensitivity.highly_sensitive else DataGrade.general


def default_personal_info(sensitivity: Sensitivity) -> PersonalInfo:
    """The category a field has unless it declares one: encrypted levels are sensitive personal information,
    internal data is personal information, public data is not. Fields that differ declare it."""
    if sensitivity.encrypted:
        return PersonalInfo.sensitive
    return PersonalInfo.personal if sensitivity is Sensitivity.internal else PersonalInfo.none


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
    grade: DataGrade | None = None,
    personal_info: PersonalInfo | None = None,
    examples: list[Any] | None = None,
    pattern: str | None = None,
    ge: int | None = None,
) -> Any:
    """Declare a canonical attribute: an optional pydantic field carrying its governance metadata.

    `authority` lists departments in order of trust (the first is authoritative). `tokenized`
    asks for a keyed HMAC lookup token next to the ciphertext, for the identifiers that
    blocking and lookup need (resident ID, phone); it only makes sense for encrypted levels.
    `grade` and `personal_info` default from the sensitivity (`default_grade`, `default_personal_info`);
    important or core data and sensitive personal information must be at an encrypted level.
    Mistakes raise here, at import time, so a wrong declaration never reaches a running hub.
    """
    if not authority:
        raise ValueError(f"attribute {description!r} names no authoritative department")
    if tokenized and not sensitivity.encrypted:
        raise ValueError(f"attribute {description!r} is tokenized but {sensitivity} values are not encrypted")
    grade = grade if grade is not None else default_grade(sensitivity)
    personal_info = personal_info if personal_info is not None else default_personal_info(sensitivity)
    if grade is not DataGrade.general and not sensitivity.encrypted:
        raise ValueError(f"attribute {description!r} is {grade.name_zh} but {sensitivity} values are not encrypted")
    if personal_info is PersonalInfo.sensitive and not sensitivity.encrypted:
        raise ValueError(f"attribute {description!r} is 敏感个人信息 but {sensitivity} values are not encrypted")
    extra: dict[str, Any] = {
        SENSITIVITY_KEY: sensitivity.value,
        AUTHORITY_KEY: [department.value for department in authority],
        NORMALIZER_KEY: normalizer,
        CODE_SYSTEM_KEY: code_system,
        TOKENIZED_KEY: tokenized,
        GRADE_KEY: grade.value,
        PERSONAL_INFO_KEY: personal_info.value,
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
