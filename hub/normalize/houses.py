"""A house's own columns: building, unit, room, estate and community, as property systems type them.

The same house is also described by its address, and the address normalizer derives these parts
from it; both readings use the same numerals, patterns and name rules (`_house_tail`,
`_place_names`), so that `building: "3栋"` and the building of 阳光小区3号楼 both give "3", and a
disagreement between the two is a real one. A value in a form these patterns do not know (综合楼,
A1) is kept as cleaned text and flagged: the property company's column is the authority.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from hub.normalize._common import as_text, clean, reject, total, unsupported
from hub.normalize._hanzi import to_simplified
from hub.normalize._house_tail import BUILDING, ROOM, UNIT, floor_room, number
from hub.normalize._place_names import PUNCTUATION, canonical_estate, community_in
from hub.normalize.base import Normalized

MAX_NUMBER_LENGTH = 20
MAX_NAME_LENGTH = 100
UNRECOGNISED = "unrecognised_form"
"""Flag of a house number kept as written because no pattern reads it."""


def _folded(raw: Any) -> str | None:
    """NFKC text without whitespace or the punctuation addresses drop; None for non-text types."""
    text = as_text(raw)
    if text is None:
        return None
    return unicodedata.normalize("NFKC", PUNCTUATION.sub("", clean(text)))


def _house_number(field: str, raw: Any, pattern: re.Pattern[str], read: Callable[[re.Match[str]], str]) -> Normalized:
    text = _folded(raw)
    if text is None:
        return unsupported(field, raw)
    if len(text) > MAX_NUMBER_LENGTH:
        return reject(field, "too long for a house number")
    s = to_simplified(text.upper())   # 3棟 is 3栋
    match = pattern.fullmatch(s)
    value = read(match) if match else ""
    if value:
        return Normalized(value)
    if not any(ch.isalnum() for ch in s):
        return reject(field, "no number or name")
    return Normalized(s, flags=(UNRECOGNISED,))


def _building(match: re.Match[str]) -> str:
    return match.group("letter") or number(match.group("b"))


def _room(match: re.Match[str]) -> str:
    if match.group("f") or match.group("f2"):
        return floor_room(match.group("f") or match.group("f2"), match.group("fr") or match.group("fr2"))
    return number(match.group("r"))


@total("building_no")
def normalize_building_no(raw: Any) -> Normalized:
    """楼栋: 3栋, 三栋, 3号楼, 3#, 3幢, 3座, 03 → "3"; A座 → "A"."""
    return _house_number("building_no", raw, BUILDING, _building)


@total("unit_no")
def normalize_unit_no(raw: Any) -> Normalized:
    """单元: 2单元, 二单元, 2单, 2 → "2"."""
    return _house_number("unit_no", raw, UNIT, lambda match: number(match.group("u")))


@total("room_no")
def normalize_room_no(raw: Any) -> Normalized:
    """房号: 1502室, 1502号, 1502, 15楼02, 15层02, 十五楼零二 → "1502" (floor times a hundred plus room)."""
    return _house_number("room_no", raw, ROOM, _room)


def _place_name(field: str, raw: Any, canon: Callable[[str], str]) -> Normalized:
    text = _folded(raw)
    if text is None:
        return unsupported(field, raw)
    if len(text) > MAX_NAME_LENGTH:
        return reject(field, "too long for a name")
    if not any(ch.isalpha() for ch in text):
        return reject(field, "no letters")
    return Normalized(canon(text))


@total("estate_name")
def normalize_estate_name(raw: Any) -> Normalized:
    """小区: simplified, no spaces, without a trailing 小区 — the estate an address derives (阳光小区 → 阳光)."""
    return _place_name("estate_name", raw, canonical_estate)


@total("community_name")
def normalize_community_name(raw: Any) -> Normalized:
    """社区: 和平社区居委会, 和平居民委员会 → 和平社区; 幸福村委会 → 幸福村 — the community an address derives.
    A name without its office (和平) is kept, simplified: 社区 or 村 cannot be told from it."""
    return _place_name("community_name", raw, lambda text: community_in(text) or to_simplified(text))
