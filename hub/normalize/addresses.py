"""Chinese addresses: the place hierarchy and the house (building, unit, room) as separate parts.

省/自治区 → 市/州/地区 → 区/县 → 街道/镇/乡 → 社区/村 → road and number → estate (小区) → building
→ unit → room. Each level is optional and read left to right with anchored patterns; division names
come from the GB/T 2260 table first, and a generic pattern is trusted only below a level already
found (otherwise 幸福家园二区 would pass for a district). The house tail is read in `_house_tail`.

Speed: the levels down to the community never reach past the first digit of an address, and that
head repeats across a district while the rooms do not, so the head is read once per distinct head
(a bounded cache) and only road, estate and house are read per call.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.normalize._common import as_text, clean, reject, total, unsupported
from hub.normalize._house_tail import TAIL_START, house_text, parse_tail
from hub.normalize._place_names import (
    COMMITTEE,
    COMMUNITY,
    HAN_CHAR,
    NOT_AN_ESTATE,
    PUNCTUATION,
    canonical_community,
    canonical_estate,
)
from hub.normalize.base import Normalized
from hub.normalize.codes import current_division_code, division_code, division_names

FIELD = "address"
MAX_LENGTH = 300
_H = HAN_CHAR
_CACHE_SIZE = 8192
_CITY = re.compile(rf"(?:(?![市州盟区县]){_H}){{2,8}}?(?:自治州|地区|盟|市)")
_NOT_A_DISTRICT = "(?<![小社园校片景厂矿营一二三四五六七八九十])"   # 小区, 社区, 园区, 二区 (a phase) …
_DISTRICT = re.compile(rf"(?:(?![区县市旗]){_H}){{1,8}}?{_NOT_A_DISTRICT}(?:新区|自治县|区|县|旗|市)")
_STREET = re.compile(rf"{_H}{{2,10}}?(?:街道办事处|街道|镇{NOT_AN_ESTATE}|乡{NOT_AN_ESTATE})")
_ROAD = re.compile(rf"({_H}{{1,12}}?(?:大道|大街|路|街|巷|胡同|弄|道|里))(\d+(?:-\d+)?)号(?!楼)", re.ASCII)
_FIRST_DIGIT = re.compile(r"\d", re.ASCII)
_SPACED_NUMBERS = re.compile(r"(?<=\d)\s+(?=\d)", re.ASCII)
"""A space between two numbers separates them (幸福公寓 3 1单元 101): it reads as a dash."""
_JOINS_A_TAIL = frozenset("0123456789-")
"""Before a house tail, these would run into its first number (02 + 3号楼 → 023号楼)."""
_DERIVED = ("province", "city", "district", "district_code", "street", "community", "road", "road_no", "estate",
            "building", "unit", "room", "house_no")


@dataclass(frozen=True, slots=True)
class _Head:
    """The levels down to the community, and where they end in the text they were read from."""

    province: str = ""
    city: str = ""
    district: str = ""
    district_known: bool = False
    district_code: str = ""
    street: str = ""
    community: str = ""
    end: int = 0
    flags: tuple[str, ...] = ()


@dataclass(slots=True)
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

    def place(self) -> str:
        """The canonical text down to the estate: everything before the house."""
        road = f"{self.road}{self.road_no}号" if self.road_no else ""
        # a district from the table places the address alone; otherwise keep what stood above it
        place = self.district if self.district_known else self.province + self.city + self.district
        return f"{place}{self.street}{self.community}{road}{self.estate}"

    def canonical(self) -> str:
        return self.place() + house_text(self.building, self.unit, self.room, self.house_no) + self.rest


@functools.cache
def _names_by_initial(level: str) -> Mapping[str, tuple[str, ...]]:
    """Division names of a level by their first character, longest first within each."""
    index: dict[str, list[str]] = {}
    for name in division_names(level):
        index.setdefault(name[:1], []).append(name)
    return {initial: tuple(names) for initial, names in index.items()}


def _take_known(s: str, level: str) -> str:
    return next((name for name in _names_by_initial(level).get(s[:1], ()) if s.startswith(name)), "")


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


def _place_district(district: str, city: str, province: str) -> tuple[str, tuple[str, ...]]:
    """The code of a district found in the table, unless the province or city written above contradicts
    it (朝阳区 in the table is Beijing's; 长春市朝阳区 is another). A retired district gets its successor."""
    code = division_code(district, "county") if district else None
    if code is None:
        return "", ()
    for upper, width in ((city, 4), (province, 2)):
        upper_code = division_code(upper) if upper else None
        if upper_code and upper_code[:width] != code[:width]:
            return "", ()
    current = current_division_code(code) or code
    return current, (("retired_district",) if current != code else ())


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _read_head(s: str) -> _Head:
    """Province, city, district, street and community at the start of `s`.

    None of their patterns or names holds an ASCII digit, so what they match in an address ends
    before its first digit: the text up to there is the cache key (see `_parse`).
    """
    province = _take_province(s)
    end = len(province)
    city = _take_known(s[end:], "prefecture") or (_take(_CITY, s[end:]) if province else "")
    end += len(city)
    district = _take_known(s[end:], "county")
    district_code, flags = _place_district(district, city, province)
    if not district and (province or city):
        district = _take(_DISTRICT, s[end:])
    end += len(district)
    street = _take(_STREET, s[end:])
    end += len(street)
    community = ""
    match = COMMUNITY.match(s[end:])
    if match:
        community = canonical_community(match.group(1), match.group(2))
        end += match.end()
    return _Head(province, city, district, bool(district_code), district_code, street, community, end, flags)


def _parse(s: str) -> _Parts:
    digit = _FIRST_DIGIT.search(s)
    head = _read_head(s[: digit.start()] if digit else s)
    parts = _Parts(head.province, head.city, head.district, head.district_known, head.district_code, head.street,
                   head.community, flags=list(head.flags))
    s = s[head.end:]
    road = _ROAD.match(s)
    if road:
        parts.road, parts.road_no = road.group(1), road.group(2)
        s = s[road.end():]
    start = TAIL_START.search(s)
    if start:
        tail = parse_tail(s[start.start():])
        if tail is None:
            parts.rest = s[start.start():]
        else:
            parts.building, parts.unit, parts.room, parts.house_no, parts.rest = (
                tail.building, tail.unit, tail.room, tail.house_no, tail.rest)
        s = s[: start.start()]
    parts.estate = canonical_estate(COMMITTEE.sub("", s) if parts.community else s)
    if parts.rest:
        parts.flags.append("unparsed_tail")
    return parts


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _place_reads_back(place: str) -> bool:
    """True when the canonical text down to the estate reads back as itself, with no house in it."""
    parts = _parse(place)
    return not (parts.building or parts.unit or parts.room or parts.house_no or parts.rest) and (
        parts.canonical() == place)


def _settled(parts: _Parts) -> bool:
    """True when the canonical string is known to read back as itself without reading it again.

    It does when the house was read whole, the place before it reads back (checked once per place)
    and nothing at the seam joins the house's first number: the house spelling 3号楼2单元1502室
    always reads back, and no pattern of the levels above crosses its leading digit or letter.
    """
    if parts.rest or parts.house_no or not (parts.building or parts.unit or parts.room):
        return False
    place = parts.place()
    return (not place or place[-1] not in _JOINS_A_TAIL) and _place_reads_back(place)


def _stable_parse(s: str) -> _Parts:
    """Parts whose canonical string reads back as itself, so that normalizing twice changes nothing.

    Joining parts can read differently from the original: an estate ending in digits runs into
    the building number (02三号楼 → 023号楼). Unless `_settled` vouches for it, the canonical string
    is read once more, and where it reads differently the new reading wins, keeping the province
    and city only the first one saw.
    """
    parts = _parse(s)
    if _settled(parts):
        return parts
    for _ in range(3):
        value = parts.canonical()
        again = _parse(value)
        if again.canonical() == value:
            return parts
        again.province, again.city = again.province or parts.province, again.city or parts.city
        parts = again
    return parts


def _prepared(text: str) -> str:
    """Cleaned, spaced numbers dashed, whitespace and punctuation dropped, NFKC (removal can leave
    composable pairs)."""
    return unicodedata.normalize("NFKC", PUNCTUATION.sub("", _SPACED_NUMBERS.sub("-", clean(text))))


@total(FIELD)
def normalize_address(raw: Any) -> Normalized:
    """A canonical address string with its levels and house parts in `derived`."""
    text = as_text(raw)
    if text is None:
        return unsupported(FIELD, raw)
    s = _prepared(text)
    if len(s) > MAX_LENGTH:
        return reject(FIELD, "too long for an address")
    parts = _stable_parse(s)
    value = parts.canonical()
    if not value or not (parts.building or parts.unit or parts.room or re.search(_H, value)):
        return reject(FIELD, "no place name or house number")
    derived = {name: part for name in _DERIVED if (part := getattr(parts, name))}
    return Normalized(value, derived=derived, flags=tuple(parts.flags))
