"""人 Person: the resident, as the departments' records describe them."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar

from schemas.codes import (
    ETHNICITY_PATTERN,
    GB_3304,
    GB_11643,
    GB_T_2261_1,
    GB_T_4761,
    PHONE_PATTERN,
    RESIDENT_ID_PATTERN,
    Gender,
)
from schemas.common import CanonicalEntity, attr
from schemas.common import Department as D
from schemas.common import PersonalInfo as P
from schemas.common import Sensitivity as S

_HUKOU = (D.public_security,)


class PopulationType(StrEnum):
    """户籍人口 registered here, or 流动人口 living here with hukou elsewhere."""

    registered = "registered"
    floating = "floating"


class Person(CanonicalEntity):
    """人 Person: one real resident after resolution, whichever departments know them.

    居民个人。户籍事项（身份证号、姓名、性别、民族、出生日期、户籍地址、户号）以公安户籍为准；
    居住地址与联系电话以网格员走访核实为准。 Identity facts come from the hukou register of public
    security; where people actually live and how to reach them come from grid workers' visits.
    """

    entity_type: ClassVar[str] = "person"
    label_zh: ClassVar[str] = "人"
    label_en: ClassVar[str] = "Person"

    name: str | None = attr(
        "Full name in simplified characters; a transliterated name's separator is U+00B7 (·).",
        sensitivity=S.internal, authority=_HUKOU, normalizer="person_name",
        examples=["张伟", "阿依古丽·买买提"],
    )
    resident_id: str | None = attr(
        "Citizen ID number (公民身份号码), 18 characters; 15-digit numbers are upgraded by the normalizer.",
        sensitivity=S.highly_sensitive, authority=_HUKOU, normalizer="resident_id", code_system=GB_11643,
        tokenized=True, pattern=RESIDENT_ID_PATTERN, examples=["11010519491231002X"],
    )
    resident_id_masked: str | None = attr(
        "ID number as a source printed it with the birth date hidden; used only to match.",
        sensitivity=S.highly_sensitive, authority=(D.property, D.grid), normalizer="resident_id",
    )
    resident_id_unchecked: str | None = attr(
        "An ID number whose check character or date fails, kept only for typo-tolerant matching.",
        sensitivity=S.highly_sensitive, authority=(D.public_security, D.social_insurance, D.property),
        normalizer="resident_id",
    )
    gender: Gender | None = attr(
        "Sex code: 0 unknown, 1 male, 2 female, 9 unspecified.",
        sensitivity=S.internal, authority=_HUKOU, normalizer="gender", code_system=GB_T_2261_1,
        examples=["2"],
    )
    ethnicity: str | None = attr(
        "Ethnic group code (01 汉族 … 56 基诺族, 97 其他, 98 外国血统).",
        sensitivity=S.sensitive, authority=_HUKOU, normalizer="ethnicity", code_system=GB_3304,
        pattern=ETHNICITY_PATTERN, examples=["01"],
    )
    birth_date: date | None = attr(
        "Date of birth.", sensitivity=S.internal, authority=_HUKOU, normalizer="date",
        examples=["1949-12-31"],
    )
    phone: str | None = attr(
        "Phone to reach the person. Grid workers confirm it on door-to-door visits, so their value is "
        "the freshest; property and social insurance hold older contact numbers; the hukou register "
        "rarely has one.",
        sensitivity=S.sensitive, authority=(D.grid, D.property, D.social_insurance), normalizer="phone",
        tokenized=True, pattern=PHONE_PATTERN, examples=["13800138000", "0991-1234567"],
        personal_info=P.personal,   # GB/T 35273 annex B: 个人基本资料; encrypted for the fraud it invites
    )
    household_no: str | None = attr(
        "Hukou household number (户号).", sensitivity=S.internal, authority=_HUKOU, normalizer="text",
    )
    relation_to_head: str | None = attr(
        "Relation to the head of the hukou household (与户主关系), e.g. 户主, 配偶, 子.",
        sensitivity=S.internal, authority=_HUKOU, normalizer="relation_to_head", code_system=GB_T_4761,
    )
    hukou_address: str | None = attr(
        "Address of hukou registration (户籍地址), normalized.",
        sensitivity=S.internal, authority=_HUKOU, normalizer="address",
    )
    residence_address: str | None = attr(
        "Where the person actually lives (居住地址), as verified by grid workers; public security's "
        "residence permits (居住证) of floating residents come second.",
        sensitivity=S.internal, authority=(D.grid, D.public_security), normalizer="address",
    )
    population_type: PopulationType | None = attr(
        "registered (户籍人口) or floating (流动人口).",
        sensitivity=S.internal, authority=_HUKOU, normalizer="population_type",
    )
    death_date: date | None = attr(
        "Date of death: hukou cancellation first, civil affairs' funeral records second.",
        sensitivity=S.internal, authority=(D.public_security, D.civil_affairs), normalizer="date",
    )
    marital_status: str | None = attr(
        "Marital status as recorded (婚姻状况); civil affairs keeps the marriage register.",
        sensitivity=S.sensitive, authority=(D.civil_affairs, D.public_security), normalizer="text",
    )
    education: str | None = attr(
        "Highest education as recorded (文化程度).",
        sensitivity=S.internal, authority=(D.public_security, D.social_insurance), normalizer="text",
    )
