"""Chinese addresses: the place hierarchy and the house (building, unit, room) as separate parts.

省/自治区 → 市/州/地区 → 区/县 → 街道/镇/乡 → 社区/村 → road and number → estate (小区) → building
→ unit → room. Each level is optional and read left to right with anchored patterns; division names
come from the GB/T 2260 table first, and a generic pattern is trusted only below a level already
found (otherwise 幸福家园二区 would pass for a district). Chinese numerals are converted only in
the house tail: applied to the whole string, cn2an also turns 五一路 into 51路.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from hub.normalize._common import as_text, clean, reject, total, unsupported
from hub.normalize._hanzi import HAN, cn_number, digits_of
from hub.normalize.base import Normalized
from hub.normalize.codes import current_division_code, division_code, division_names

FIELD = "address"
MAX_LENGTH = 300
_H = f"[{HAN}]"
_N = "(?:[0-9]+|[零〇○一二三四五六七八九十百两幺廿]+)"   # digits or Chinese numerals, not mixed
_NOT_AN_ESTATE = r"(?!小区|花园|家园|公寓|苑|城|园)"
_CITY = re.compile(rf"(?:(?![市州盟区县]){_H}){{2,8}}?(?:自治州|地区|盟|市)")
_NOT_A_DISTRICT = "(?<![小社园校片景厂矿营一二三四五六七八九十])"   # 小区, 社区, 园区, 二区 (a phase) …
_DISTRICT = re.compile(rf"(?:(?![区县市旗]){_H}){{1,8}}?{_NOT_A_DISTRICT}(?:新区|自治县|区|县|旗|市)")
_STREET = re.compile(rf"{_H}{{2,10}}?(?:街道办事处|街道|镇{_NOT_AN_ESTATE}|乡{_NOT_AN_ESTATE})")
_COMMUNITY = re.compile(
    rf"({_H}{{2,10}}?)(社区居民委员会|社区居委会|居民委员会|居委会|社区|村民委员会|村委会|(?<!新)村{_NOT_AN_ESTATE})"
)
_ROAD = re.compile(rf"({_H}{{1,12}}?(?:大道|大街|路|街|巷|胡同|弄|道|里))(\d+(?:-\d+)?)号(?!楼)", re.ASCII)
_TAIL_START = re.compile(
    rf"{_N}(?:号楼|栋|幢|座|#|号|单元|单|楼|层|室|户)|[A-Z](?:号楼|栋|幢|座)|\d{{1,4}}-\d{{1,4}}",
    re.ASCII,
)
_TAIL = re.compile(
    rf"""
    (?:(?P<cb>\d{{1,3}})-(?P<cu>\d{{1,2}})-(?P<cr>\d{{3,4}})(?:室|号|户)?
    |
      (?:(?P<b>{_N}|[A-Z])(?:号楼|栋|幢|座|\#楼|\#|号(?={_N}单)|楼(?={_N}单))[-\#]*)?
      (?:(?P<u>{_N})(?:单元|单)[-\#]*)?
      (?:(?P<f>{_N})(?:楼|层)(?P<fr>[0-9]{{1,2}}|[零〇○一二三四五六七八九]{{1,2}})(?:室|号|户)?
       |(?P<u2>\d{{1,2}})-(?P<r2>\d{{3,4}})(?!\d)(?:室|号|户)?
       |(?P<f2>\d{{1,2}})-(?P<fr2>\d{{2}})(?!\d)(?:室|号|户)?
       |(?P<r>{_N})(?P<rs>室|户|号)
       |(?P<rb>\d{{3,4}})(?=$|[(（,，])
      )?
    )
    (?P<rest>.*)
    """,
    re.VERBOSE | re.ASCII,
)
_ESTATE_SUFFIX = re.compile(r"(?:小区)+$")
_COMMITTEE = re.compile(r"^(?:社区居民委员会|社区居委会|居民委员会|居委会|村民委员会|村委会)+")
"""The committee's office written once more after the community: not an estate."""
_PUNCTUATION = re.compile(r"[\s,，、;；:：\"“”'‘’]")


@dataclass
class _Parts:
    province: str = ""
    city: str = ""
    district: str = ""
    district_known: bool = False
    district_code: str = ""
    street: str = ""
    community: str = ""
    road: str = ""
    road_no: str = ""
    estate: str = ""
    building: str = ""
    unit: str = ""
    room: str = ""
    house_no: str = ""
    rest: str = ""
    flags: list[str] = field(default_factory=list)

    def canonical(self) -> str:
        house = (f"{self.building}号楼" if self.building else "") + (f"{self.unit}单元" if self.unit else "")
        house += (f"{self.room}室" if self.room else "") + (f"{self.house_no}号" if self.house_no else "")
        road = f"{self.road}{self.road_no}号" if self.road_no else ""
        # a district from the table places the address alone; otherwise keep what stood above it
        place = self.district if self.district_known else self.province + self.city + self.district
        return f"{place}{self.street}{self.community}{road}{self.estate}{house}{self.rest}"


def _take_known(s: str, level: str) -> str:
    return next((name for name in division_names(level) if s.startswith(name)), "")


def _take_province(s: str) -> str:
    """A province; a short form (新疆, 北京) only before a known city or district (北京花园 is an estate)."""
    name = _take_known(s, "province")
    if name and not name.endswith(("省", "市", "自治区", "特别行政区")):
        rest = s[len(name):]
        if not (_take_known(rest, "prefecture") or _take_known(rest, "county")):
            return ""
    return name


def _take(pattern: re.Pattern[str], s: str) -> str:
    match = pattern.match(s)
    return match.group(0) if match else ""


def _number(numeral: str | None) -> str:
    value = cn_number(numeral) if numeral else None
    return str(value) if value is not None else ""


def _parse_tail(tail: str, parts: _Parts) -> bool:
    """Fill building, unit and room from the house tail; False when nothing in it is a house part."""
    g = _TAIL.fullmatch(tail).groupdict()  # type: ignore[union-attr]  # `(?P<rest>.*)` always matches
    if g["cb"]:
        parts.building, parts.unit, parts.room = _number(g["cb"]), _number(g["cu"]), _number(g["cr"])
    else:
        parts.building = g["b"] if g["b"] and g["b"].isalpha() and g["b"].isascii() else _number(g["b"])
        parts.unit = _number(g["u"] or g["u2"])
        if g["f"] or g["f2"]:
            floor, room = _number(g["f"] or g["f2"]), digits_of(g["fr"] or g["fr2"])
            parts.room = str(int(floor) * 100 + int(room)) if floor and room else ""
        elif g["r"] and g["rs"] == "号" and not (parts.building or parts.unit):
            parts.house_no = _number(g["r"])
        else:
            parts.room = _number(g["r"] or g["r2"] or g["rb"])
    parts.rest = g["rest"].strip("-#")
    return bool(parts.building or parts.unit or parts.room or parts.house_no)


def _parse(s: str) -> _Parts:
    parts = _Parts()
    parts.province = _take_province(s)
    s = s[len(parts.province):]
    parts.city = _take_known(s, "prefecture") or (_take(_CITY, s) if parts.province else "")
    s = s[len(parts.city):]
    parts.district = _take_known(s, "county")
    _place_district(parts)
    if not parts.district and (parts.province or parts.city):
        parts.district = _take(_DISTRICT, s)
    s = s[len(parts.district):]
    parts.street = _take(_STREET, s)
    s = s[len(parts.street):]
    community = _COMMUNITY.match(s)
    if community:
        suffix = "村" if "村" in community.group(2) else "社区"
        parts.community = community.group(1) + suffix
        s = s[community.end():]
    road = _ROAD.match(s)
    if road:
        parts.road, parts.road_no = road.group(1), road.group(2)
        s = s[road.end():]
    start = _TAIL_START.search(s)
    if start:
        if not _parse_tail(s[start.start():], parts):
            parts.building = parts.unit = parts.room = parts.house_no = ""
            parts.rest = s[start.start():]
        s = s[: start.start()]
    estate = _COMMITTEE.sub("", s) if parts.community else s
    parts.estate = _ESTATE_SUFFIX.sub("", estate) or estate
    if parts.rest:
        parts.flags.append("unparsed_tail")
    return parts


def _place_district(parts: _Parts) -> None:
    """Code a district found in the table, unless the province or city written above contradicts it
    (朝阳区 in the table is Beijing's; 长春市朝阳区 is another). A retired district gets its successor."""
    code = division_code(parts.district, "county") if parts.district else None
    if code is None:
        return
    for upper, width in ((parts.city, 4), (parts.province, 2)):
        upper_code = division_code(upper) if upper else None
        if upper_code and upper_code[:width] != code[:width]:
            return
    parts.district_known = True
    parts.district_code = current_division_code(code) or code
    if parts.district_code != code:
        parts.flags.append("retired_district")


def _stable_parse(s: str) -> _Parts:
    """Parts whose canonical string reads back as itself, so that normalizing twice changes nothing.

    Joining parts can read differently from the original: an estate ending in digits runs into
    the building number (02三号楼 → 023号楼). The canonical string is read once more, and where it
    reads differently the new reading wins, keeping the province and city only the first one saw.
    """
    parts = _parse(s)
    for _ in range(3):
        value = parts.canonical()
        again = _parse(value)
        if again.canonical() == value:
            return parts
        again.province, again.city = again.province or parts.province, again.city or parts.city
        parts = again
    return parts


@total(FIELD)
def normalize_address(raw: Any) -> Normalized:
    """A canonical address string with its levels and house parts in `derived`."""
    text = as_text(raw)
    if text is None:
        return unsupported(FIELD, raw)
    s = unicodedata.normalize("NFKC", _PUNCTUATION.sub("", clean(text)))   # removal can leave composable pairs
    if len(s) > MAX_LENGTH:
        return reject(FIELD, "too long for an address")
    parts = _stable_parse(s)
    value = parts.canonical()
    if not value or not (re.search(_H, value) or parts.building or parts.unit or parts.room):
        return reject(FIELD, "no place name or house number")
    derived = {
        name: getattr(parts, name)
        for name in ("province", "city", "district", "district_code", "street", "community", "road", "road_no",
                     "estate", "building", "unit", "room", "house_no")
        if getattr(parts, name)
    }
    return Normalized(value, derived=derived, flags=tuple(parts.flags))
