"""单位 Organization: enterprises, social organizations and public bodies of the area."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from schemas.codes import CREDIT_CODE_PATTERN, GB_32100, PHONE_PATTERN
from schemas.common import CanonicalEntity, attr
from schemas.common import Department as D
from schemas.common import Sensitivity as S

_REGISTERS = (D.market_regulation, D.civil_affairs)
"""Enterprises register with market regulation, social organizations with civil affairs."""
_REGISTERS_THEN_EMPLOYERS = (*_REGISTERS, D.social_insurance)
"""Social insurance knows every employer that pays contributions: a useful second source."""


class Organization(CanonicalEntity):
    """单位 Organization: an enterprise, social organization or public body (实有单位).

    单位。企业以市场监管登记为准，社会组织以民政登记为准；人社的参保单位信息为补充。 An enterprise's
    facts come from market regulation's register, a social organization's from civil affairs';
    social insurance's employer records fill the gaps.
    """

    entity_type: ClassVar[str] = "organization"
    label_zh: ClassVar[str] = "单位"
    label_en: ClassVar[str] = "Organization"

    name: str | None = attr(
        "Registered name.", sensitivity=S.public, authority=_REGISTERS_THEN_EMPLOYERS, normalizer="org_name",
        examples=["乌鲁木齐明珠物业服务有限公司"],
    )
    credit_code: str | None = attr(
        "Unified social credit code (统一社会信用代码), 18 characters.",
        sensitivity=S.public, authority=_REGISTERS_THEN_EMPLOYERS, normalizer="credit_code",
        code_system=GB_32100, pattern=CREDIT_CODE_PATTERN, examples=["91350100M000100Y43"],
    )
    credit_code_unchecked: str | None = attr(
        "A credit code as a source wrote it, 18 characters of the GB 32100 alphabet whose check character or "
        "division code fails: never a match key, kept so a rule can see the employer quoting it.",
        sensitivity=S.public, authority=_REGISTERS_THEN_EMPLOYERS, normalizer="text",
    )
    org_type: str | None = attr(
        "Kind of organization: enterprise, social_organization, government, ...",
        sensitivity=S.public, authority=_REGISTERS, normalizer="text", examples=["enterprise"],
    )
    legal_representative: str | None = attr(
        "Name of the legal representative (法定代表人).",
        sensitivity=S.internal, authority=_REGISTERS, normalizer="person_name",
    )
    address: str | None = attr(
        "Registered address (住所).", sensitivity=S.public, authority=_REGISTERS_THEN_EMPLOYERS,
        normalizer="address",
    )
    phone: str | None = attr(
        "Contact phone of the organization.", sensitivity=S.internal, authority=_REGISTERS_THEN_EMPLOYERS,
        normalizer="phone", pattern=PHONE_PATTERN,
    )
    registered_on: date | None = attr(
        "Date of establishment / registration (成立日期).", sensitivity=S.public, authority=_REGISTERS,
        normalizer="date",
    )
    status: str | None = attr(
        "Registration status (登记状态): active, revoked, cancelled, ...", sensitivity=S.public,
        authority=_REGISTERS, normalizer="text", examples=["active"],
    )
