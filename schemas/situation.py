"""情 Situation: a welfare, insurance or disability status that applies to a person for a period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from schemas.common import CanonicalEntity, attr
from schemas.common import DataGrade as G
from schemas.common import Department as D
from schemas.common import Sensitivity as S

_WELFARE = (D.civil_affairs, D.social_insurance, D.disabled_persons_federation)
"""Each situation type has one owner: civil affairs for dibao, tekun and elderly allowance,
social insurance for insurance and pensions, the disabled persons' federation for disability."""


class SituationType(StrEnum):
    dibao = "dibao"  # 最低生活保障, civil affairs
    tekun = "tekun"  # 特困人员供养, civil affairs
    disability = "disability"  # 残疾人证, disabled persons' federation
    elderly_allowance = "elderly_allowance"  # 高龄津贴, civil affairs
    insured = "insured"  # 参保, social insurance
    pension = "pension"  # 领取养老金, social insurance


class SituationStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    ended = "ended"


class Situation(CanonicalEntity):
    """情 Situation: a status such as 低保, 特困, 残疾 or 参保 that applies to a person (applies_to).

    情。低保、特困、高龄津贴以民政为准；参保、养老金以人社为准；残疾以残联为准。 Every attribute is
    at least sensitive: knowing that someone receives welfare or has a disability is itself the
    harm, so type, status, dates, amount and level are all encrypted at rest.
    """

    entity_type: ClassVar[str] = "situation"
    label_zh: ClassVar[str] = "情"
    label_en: ClassVar[str] = "Situation"

    situation_type: SituationType | None = attr(
        "Which status: dibao 低保, tekun 特困, disability 残疾, elderly_allowance 高龄津贴, insured 参保, "
        "pension 养老金.", sensitivity=S.sensitive, authority=_WELFARE, normalizer="text",
        grade=G.important,   # a district's register of welfare and disability recipients: a target list
    )
    status: SituationStatus | None = attr(
        "Whether the status currently holds.", sensitivity=S.sensitive, authority=_WELFARE, normalizer="text",
    )
    start_date: date | None = attr(
        "First day the status holds.", sensitivity=S.sensitive, authority=_WELFARE, normalizer="date",
    )
    end_date: date | None = attr(
        "Last day the status holds; empty while it lasts.", sensitivity=S.sensitive, authority=_WELFARE,
        normalizer="date",
    )
    amount: Decimal | None = attr(
        "Amount paid, in yuan per month; for insurance (insured), the monthly contribution base (缴费基数).",
        sensitivity=S.sensitive, authority=_WELFARE, normalizer="decimal",
        ge=0, examples=["780.00"],
    )
    level: str | None = attr(
        "Grade within the type, e.g. disability grade (残疾等级) or tekun care level.",
        sensitivity=S.sensitive, authority=_WELFARE, normalizer="text", examples=["二级"],
    )
