"""The house tail of an address (building → unit → room) and the numbers written in it.

Shared by the address parser and by the building / unit / room normalizers, so that a house row's
`building: "3栋"` and the building read from its address land on the same value. Chinese numerals
are converted here only: applied to a whole address, cn2an also turns 五一路 into 51路.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from hub.normalize._hanzi import cn_number, digits_of

CHINESE_NUMERALS = "零〇○一二三四五六七八九十百两幺廿"
NUMERAL = f"(?:[0-9]+|[{CHINESE_NUMERALS}]+)"
"""Digits or Chinese numerals, not mixed."""
_ROOM_DIGITS = "(?:[0-9]{1,2}|[零〇○一二三四五六七八九]{1,2})"
"""The room on a floor in 15楼02: one or two digits, or Chinese digits read one by one."""
_BUILDING_SUFFIX = rf"号楼|栋|幢|座|\#楼|\#|号(?={NUMERAL}单)|楼(?={NUMERAL}单)|-(?={NUMERAL}(?:单元|单))"
"""A building before a unit may end in 号 or 楼 (3号2单元), or in a dash (3-1单元, written `3 1单元`)."""
_ROOM_SUFFIX = "(?:室|号|户)"

TAIL_START = re.compile(
    rf"{NUMERAL}(?:号楼|栋|幢|座|#|号|单元|单|楼|层|室|户)|[A-Z](?:号楼|栋|幢|座)|\d{{1,4}}-\d{{1,4}}",
    re.ASCII,
)
"""Where the house tail of an address may begin."""
_TAIL = re.compile(
    rf"""
    (?:(?P<cb>\d{{1,3}})-(?P<cu>\d{{1,2}})-(?P<cr>\d{{3,4}}){_ROOM_SUFFIX}?
    |
      (?:(?P<b>{NUMERAL}|[A-Z])(?:{_BUILDING_SUFFIX})[-\#]*)?
      (?:(?P<u>{NUMERAL})(?:单元|单)[-\#]*)?
      (?:(?P<f>{NUMERAL})(?:楼|层)(?P<fr>{_ROOM_DIGITS}){_ROOM_SUFFIX}?
       |(?P<u2>\d{{1,2}})-(?P<r2>\d{{3,4}})(?!\d){_ROOM_SUFFIX}?
       |(?P<f2>\d{{1,2}})-(?P<fr2>\d{{2}})(?!\d){_ROOM_SUFFIX}?
       |(?P<r>{NUMERAL})(?P<rs>室|户|号)
       |(?P<rb>\d{{3,4}})(?=$|[(（,，])
      )?
    )
    (?P<rest>.*)
    """,
    re.VERBOSE | re.ASCII,
)
BUILDING = re.compile(rf"第?(?:(?P<b>{NUMERAL})(?:号楼|栋|幢|座|\#楼|\#|号|楼)?|(?P<letter>[A-Z])(?:号楼|栋|幢|座)?)",
                      re.ASCII)
"""A building written alone, as a property company's 楼栋 column holds it."""
UNIT = re.compile(rf"第?(?P<u>{NUMERAL})(?:单元|单)?", re.ASCII)
ROOM = re.compile(
    rf"(?:(?P<f>{NUMERAL})(?:楼|层)(?P<fr>{_ROOM_DIGITS})|(?P<f2>\d{{1,2}})-(?P<fr2>\d{{2}})|(?P<r>{NUMERAL})){_ROOM_SUFFIX}?",
    re.ASCII,
)


@dataclass(frozen=True, slots=True)
class HouseTail:
    """What a house tail says; `rest` is what followed it and could not be read."""

    building: str = ""
    unit: str = ""
    room: str = ""
    house_no: str = ""
    rest: str = ""


def number(numeral: str | None) -> str:
    """A numeral as digits without leading zeros; "" when it is not a number."""
    value = cn_number(numeral) if numeral else None
    return str(value) if value is not None else ""


def floor_room(floor: str | None, room: str | None) -> str:
    """15楼02 → 1502: the floor times a hundred plus the room on it."""
    floor_no, room_no = number(floor), digits_of(room or "")
    return str(int(floor_no) * 100 + int(room_no)) if floor_no and room_no else ""


@functools.lru_cache(maxsize=8192)
def parse_tail(tail: str) -> HouseTail | None:
    """Building, unit and room from the house tail; None when nothing in it is a house part.

    Cached: the same tails (3号楼2单元1502室) recur in every estate of a district.
    """
    g = _TAIL.fullmatch(tail).groupdict()  # type: ignore[union-attr]  # `(?P<rest>.*)` always matches
    rest = g["rest"].strip("-#")
    if g["cb"]:
        return HouseTail(number(g["cb"]), number(g["cu"]), number(g["cr"]), rest=rest)
    b = g["b"]
    building = b if b and b.isalpha() and b.isascii() else number(b)
    unit = number(g["u"] or g["u2"])
    room = house_no = ""
    if g["f"] or g["f2"]:
        room = floor_room(g["f"] or g["f2"], g["fr"] or g["fr2"])
    elif g["r"] and g["rs"] == "号" and not (building or unit):
        house_no = number(g["r"])
    else:
        room = number(g["r"] or g["r2"] or g["rb"])
    if not (building or unit or room or house_no):
        return None
    return HouseTail(building, unit, room, house_no, rest)


def house_text(building: str, unit: str, room: str, house_no: str) -> str:
    """The canonical spelling of a house: 3号楼2单元1502室 (or 12号 for a house number alone)."""
    return ((f"{building}号楼" if building else "") + (f"{unit}单元" if unit else "")
            + (f"{room}室" if room else "") + (f"{house_no}号" if house_no else ""))
