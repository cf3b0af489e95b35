"""Per column: the canonical targets it may stand for, each with a confidence and its evidence.

Evidence comes from the header (the dictionary, or the column comment of a database table) and from
the values (see `detect`). A header match whose values agree gains confidence; one whose values
disagree (a 电话 column full of ID numbers) loses most of it, so that what the values say can win.
Values alone place a column only for shapes that are hard to mistake: checksum-valid resident IDs
and credit codes, plates, mobile numbers, dates equal to the birth date inside the row's ID number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import schemas
from hub.onboard.detect import PERSONAL_KINDS, Profile
from hub.onboard.dictionary import Entry, Target, match_header

PLACE_AT = 0.5
"""Below this confidence a column is listed for the operator instead of placed."""

_KIND_WORDS = {
    "resident_id": "checksum-valid resident ID numbers", "masked_id": "masked ID numbers",
    "credit_code": "valid unified social credit codes", "phone": "phone numbers", "mobile": "mobile numbers",
    "plate": "vehicle plates", "date": "dates", "date_dmy_only": "day-first dates", "excel_serial":
    "Excel serial dates", "datetime": "timestamps", "gender": "GB/T 2261.1 gender codes or names",
    "ethnicity": "GB 3304 ethnicity codes or names", "address": "addresses with house parts",
    "person_name": "personal names", "number": "numbers", "id_document": "GA/T 517 document types",
    "division": "GB/T 2260 divisions", "jinbao_status": "金保 status codes",
}
_NORMALIZER_KINDS = {
    "resident_id": ("resident_id", "masked_id"), "credit_code": ("credit_code",), "phone": ("phone",),
    "plate": ("plate",), "date": ("date", "date_dmy_only", "excel_serial"),
    "datetime": ("datetime", "date", "date_dmy_only", "excel_serial"), "gender": ("gender",),
    "ethnicity": ("ethnicity",),
    "decimal": ("number",), "integer": ("number",), "person_name": ("person_name",), "address": ("address",),
}
_SOFT = {"person_name", "address"}   # names and addresses vary too much for their shape to veto a header
_SPECIAL_KINDS = {"cursor": ("date", "datetime"), "id_type": ("id_document",)}


@dataclass
class Candidate:
    target: Target
    confidence: float
    evidence: list[str] = field(default_factory=list)
    entry: Entry | None = None

    @property
    def weak(self) -> bool:
        return self.entry is not None and self.entry.weak


def expected_kinds(target: Target) -> tuple[str, ...]:
    if target.kind in _SPECIAL_KINDS:
        return _SPECIAL_KINDS[target.kind]
    if target.kind == "address":
        return ("address",)
    if target.kind != "attribute" or target.entity is None or target.attribute is None:
        return ()
    spec = schemas.attribute_spec(target.entity, target.attribute)
    return _NORMALIZER_KINDS.get(spec.normalizer, ()) if spec is not None else ()


def _percent(share: float) -> str:
    return f"{round(100 * share)} %"


def weigh(target: Target, header_score: float, profile: Profile) -> tuple[float, str]:
    """A header's score adjusted by how well the column's values fit the target."""
    if profile.empty:
        return header_score * 0.85, "the column is empty in the sample"
    if target.kind == "local_id" and profile.share("credit_code", *PERSONAL_KINDS) >= 0.5:
        return header_score * 0.5, "but its values are credit codes, ID numbers or phones, not the system's own number"
    if target.attribute == "name" and profile.share("credit_code", "date", "datetime", "number",
                                                    *PERSONAL_KINDS) >= 0.8:
        return header_score * 0.55, "but its values are codes, numbers or dates, not names"
    if target.kind == "attribute" and target.attribute in _CODED and (
            profile.share("datetime") >= 0.8 or (profile.unique and profile.share("date") >= 0.8)):
        return header_score * 0.55, "but its values are timestamps or distinct dates, as no code or grade is"
    if ((target.kind == "address" or target.attribute in _PLACES) and target.kind != "local_id"
            and profile.share("date", "datetime", "number") >= 0.8):
        return header_score * 0.55, "but its values are dates or bare numbers, as no address or place name is"
    if (target.attribute in ("name", "address") or target.kind == "address") and profile.share("system_code") >= 0.8:
        return header_score * 0.55, "but its values are system codes (letters and digits), not names or addresses"
    if (target.kind == "attribute" and profile.unique and profile.rows > 10 and profile.share("system_code") >= 0.8
            and set(expected_kinds(target)) <= {"gender", "ethnicity"} and target.attribute not in _HOUSE_NUMBERS):
        return header_score * 0.55, "but its values are a different system code on every row: an identifier"
    if target.kind in ("house_role", "id_type") and not profile.codes:
        return header_score * 0.55, "but its values are no short list of words, as a role or a document type is"
    if target.kind == "house_role" and not any(w in c.lower() for c in profile.codes or [] for ws in _TENURE.values()
                                                for w in ws):
        return header_score * 0.55, (f"but none of its values ({', '.join((profile.codes or [])[:4])}) says how a "
                                     "person holds a house")
    if target.entity == "house" and target.attribute in ("building", "unit", "room") and profile.share("long") >= 0.8:
        return header_score * 0.55, "but its values are longer codes than a house number is"
    if target.entity == "house" and target.attribute in _HOUSE_NUMBERS and profile.share("house_number") < 0.5:
        return header_score * 0.55, "but its values hold no number or letter, as a house number does"
    if (target.attribute == "name" and target.entity == "person" and profile.codes is not None and profile.rows > 10
            and profile.distinct <= 0.2 * profile.filled):
        return header_score * 0.55, "but its values are a few words repeated on every row, as names are not"
    if (target.entity == "organization" and target.attribute == "name" and profile.codes is not None
            and len(profile.codes) >= 2 and not any(_ORGANIZATION_NAME.search(c) for c in profile.codes)):
        return header_score * 0.55, (f"but none of its values ({', '.join(profile.codes[:3])}) ends as the name of "
                                     "an organization does (公司, 院, 中心 …)")
    if target.attribute == "household_no" and profile.share("room_number") >= 0.9:
        return header_score * 0.55, "but its values are room numbers (floor and door)"
    meta = schemas.attribute_spec(target.entity or "", target.attribute or "") if target.kind == "attribute" else None
    categorical = meta is not None and (meta.allowed_values or meta.normalizer in _CATEGORIES)
    if categorical and profile.unique and profile.rows > 10:
        return header_score * 0.55, "but every value differs, as no category's values do"
    vetoed = _vocabulary_veto(target, profile)
    if vetoed:
        return header_score * 0.55, vetoed
    kinds = expected_kinds(target)
    if not kinds:
        return header_score, ""
    share = profile.share(*kinds)
    best = max(kinds, key=lambda k: profile.shares.get(k, 0.0))
    words = _KIND_WORDS.get(best, best)
    if share >= 0.8:
        return min(0.99, header_score + 0.06), f"{_percent(share)} of values are {words}"
    if share >= 0.4:
        return header_score - 0.05, f"{_percent(share)} of values are {words}"
    if kinds[0] in _SOFT:
        return header_score - 0.15, f"only {_percent(share)} of values look like {words}"
    return header_score * 0.55, f"but only {_percent(share)} of values are {words}"


_ORGANIZATION_NAME = re.compile(r"(公司|院|中心|机构|协会|商会|委员会|会|站|所|局|厂|店|部|社|处|馆|行|队|园|室|集团"
                                r"|超市|餐厅|酒店|学校|银行|医院|宾馆|楼|办|组|团"
                                r"|co|ltd|inc|corp|company|center|centre|home)\.?$", re.IGNORECASE)
"""How the name of an organization ends; a short list of values none of which ends so (系统导入, 手工录入) names
no organization."""
_HOUSE_NUMBERS = ("building", "unit", "floor", "room")
_PLACES = ("address", "residence_address", "hukou_address", "street", "estate", "community")
"""Attributes that name a place in words: their values are never dates or bare numbers."""
_CATEGORIES = ("gender", "ethnicity", "population_type", "relation_to_head")


def _vocabulary_veto(target: Target, profile: Profile) -> str:
    """A closed attribute (situation type, status) none of whose words appear in a short list of words."""
    from hub.onboard.vocab import closed_attributes, value_map

    name = f"{target.entity}.{target.attribute}"
    words = [c for c in profile.codes or [] if not c.isdigit()]
    if (target.kind != "attribute" or name not in closed_attributes() or not words
            or len(words) != len(profile.codes or [])):
        return ""
    mapped, _ = value_map(name, words)
    return "" if mapped else f"but none of its values ({', '.join(words[:4])}) is a word of {name}"


def _from_values(profile: Profile, birth_match: float) -> list[Candidate]:
    """Candidates from the values alone, for shapes that are hard to mistake."""
    s = profile.shares
    out: list[Candidate] = []

    def add(target: str, confidence: float, kind: str) -> None:
        words = _KIND_WORDS[kind]
        out.append(Candidate(Target.parse(target), confidence,
                             [f"header unknown; {_percent(s.get(kind, 0.0))} of values are {words}"]))

    if s.get("resident_id", 0) + s.get("masked_id", 0) >= 0.8:
        add("person.resident_id", 0.8, "resident_id")
    if s.get("credit_code", 0) >= 0.8:
        add("organization.credit_code", 0.8, "credit_code")
    if s.get("plate", 0) >= 0.8:
        add("thing.plate_no", 0.78, "plate")
    if s.get("mobile", 0) >= 0.8:
        add("person.phone", 0.7, "mobile")
    if s.get("address", 0) >= 0.7:
        add("address", 0.6, "address")
    if s.get("gender", 0) == 1.0 and profile.codes and any(not c.isdigit() for c in profile.codes):
        add("person.gender", 0.72, "gender")
    if s.get("ethnicity", 0) >= 0.9 and profile.codes and any("族" in c for c in profile.codes):
        add("person.ethnicity", 0.72, "ethnicity")
    if s.get("person_name", 0) >= 0.8 and profile.distinct > 0.5 * profile.filled:   # names hardly repeat
        add("person.name", 0.52, "person_name")
    out += _from_words(profile)
    if birth_match >= 0.8:
        out.append(Candidate(Target.parse("person.birth_date"), 0.86,
                             [f"header unknown; {_percent(birth_match)} equal the birth date in the row's ID number"]))
    return out


_CODED = ("level", "status", "situation_type", "gender", "ethnicity", "population_type")
"""Attributes that hold one of a few codes or words: a column of distinct dates or times is none of them."""
_TENURE = {"owns": ("业主", "产权人", "房主", "自住", "自有", "owner", "self-occupied", "owner-occupied", "本人",
                    "self"),
           "rents": ("租户", "承租人", "租客", "承租", "租住", "租用", "租赁", "tenant", "renter", "leased", "rented",
                     "lease"),
           "resides_at": ("家属", "同住", "共同居住", "亲属", "借住", "family", "occupant", "relative")}
_WEAK_STATUS = Entry((Target.parse("situation.status"),), (), weak=True)


def _from_words(profile: Profile) -> list[Candidate]:
    """Candidates from a short list of words every value of which a vocabulary understands: 业主 / 租户 (which
    relation to the house), 户籍人口 / 流动人口 (population type), 城市低保 / 特困供养 (the kind of situation),
    自住 / 出租 / 空置 (how a house is used, where some value is no tenure word),
    正常 / 暂停 / 终止 (a situation's status, where the row has a situation)."""
    from hub.normalize import NORMALIZERS
    from hub.onboard.vocab import value_map

    codes = [c for c in profile.codes or [] if not c.isdigit()]
    if not codes or len(codes) != len(profile.codes or []) or len(codes) > 8:
        return []
    listed = ", ".join(codes[:4])
    if all(any(w in c.lower() for ws in _TENURE.values() for w in ws) for c in codes):
        return [Candidate(Target("house_role"), 0.8, [f"header unknown; its values ({listed}) say how the person holds "
                                                      "the house"])]
    if all(NORMALIZERS["population_type"](c).ok for c in codes):
        return [Candidate(Target.parse("person.population_type"), 0.76,
                          [f"header unknown; its values ({listed}) are population types"])]
    for attribute, confidence, entry in (("situation.situation_type", 0.74, None), ("house.occupancy", 0.72, None),
                                         ("situation.status", 0.7, _WEAK_STATUS)):
        mapped, unknown = value_map(attribute, codes)
        if mapped and not unknown and any(k != v for k, v in mapped.items()):
            return [Candidate(Target.parse(attribute), confidence,
                              [f"header unknown; its values ({listed}) are words of {attribute}"], entry)]
    return []


def column_candidates(profile: Profile, *, birth_match: float = 0.0) -> list[Candidate]:
    """Every target the column may stand for, best first."""
    matches = match_header(profile.column)
    if profile.comment:
        matches += [type(m)(m.entry, m.score - 0.02, f"column comment {profile.comment!r}: " + m.how.split(": ")[-1])
                    for m in match_header(profile.comment)]
    out: list[Candidate] = []
    for match in matches:
        for target in match.entry.targets:
            confidence, note = weigh(target, match.score, profile)
            if target.attribute == "birth_date" and birth_match >= 0.8:
                confidence, note = min(0.99, confidence + 0.05), f"{_percent(birth_match)} equal the birth date in " \
                                                                  "the row's ID number"
            out.append(Candidate(target, confidence, [match.how, *([note] if note else [])], match.entry))
    known = {str(c.target) for c in out}
    out += [c for c in _from_values(profile, birth_match) if str(c.target) not in known]
    if (profile.unique and _names_an_id(str(profile.column)) and not profile.share(*PERSONAL_KINDS)
            and not any(c.target.kind == "record_id" for c in out)
            and profile.share("date", "datetime", "address") < 0.5):
        # an id named for the row's person outranks one named for a house or an organization in the row
        confidence = 0.72 if _PERSON_WORDS.search(str(profile.column)) else 0.66 if _OTHER_WORDS.search(
            str(profile.column)) else 0.7
        out.append(Candidate(Target("record_id"), confidence, [f"header {profile.column!r} reads as a number or id, "
                                                               "and its values are unique and filled"]))
    return sorted(out, key=lambda c: -c.confidence)


_PERSON_WORDS = re.compile(r"(人员|住户|个人|人口|对象|person|resident|occupant|household|population|insured|member"
                           r"|^ZH|^RY|^GR)", re.IGNORECASE)
_OTHER_WORDS = re.compile(r"(房屋|房产|单位|企业|机构|house|flat|unit|room|premises|dwelling|property"
                          r"|company|employer|org|^FW|^DW)", re.IGNORECASE)
_ID_HEADER = re.compile(r"(编号|编码|代码$|序列号|证号|档案号|登记号|[a-z0-9](BH|BM)$"
                        r"|^[A-Z]{2,6}(BH|BM|DM|XLH|DAH|ZH|ID)$"
                        r"|(^|[_\s.-])(no|id|num|number|nbr|nr|code|ref|key|uid|record)$|[a-z](No|Id|ID)$|[\u4e00-\u9fff]ID$)",
                        re.IGNORECASE)
"""A header that names an identifier: …编号, pinyin …BH, English …_no / …_id / RegNo."""

_ID_WORDS = {"no", "id", "num", "nbr", "nr", "number", "ref", "uid", "key"}


def _names_an_id(header: str) -> bool:
    """The header says number or id, at its end (…编号, RegNo) or as a word of an English key (household_no_sys)."""
    return bool(_ID_HEADER.search(header)) or (header.isascii() and bool(_ID_WORDS & {
        t.lower() for t in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", header)}))

