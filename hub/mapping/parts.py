"""Composite attributes: one value built from several columns, each in a named role.

An address is often split over 小区名称 / 楼栋 / 单元 / 房号, with bare numbers in the cells ("3", "2",
"1502"); joining them with spaces gives "阳光小区 3 2 1502", which no address parser can read. Composing
by role writes what each number is (3号楼2单元1502室) unless the cell already says it (3栋, 二单元,
15楼02). A name split into 姓 and 名 is joined without a separator; a transliterated name split into the
given name and the father's name is joined with the middle dot U+00B7 (艾力·买买提).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from hub.normalize.base import is_blank

ADDRESS_ROLES = ("province", "city", "district", "street", "community", "road", "estate", "building", "unit",
                 "floor", "room", "detail")
NAME_ROLES = ("surname", "given", "father")
ROLES = ADDRESS_ROLES + NAME_ROLES

_BARE = re.compile(r"^(?:[0-9]+|[A-Za-z]|[A-Za-z]?[0-9]+[A-Za-z]?|[零〇○一二三四五六七八九十百两]+)$")
_SUFFIX = {"building": "号楼", "unit": "单元", "floor": "层", "room": "室"}


def family(roles: Sequence[str]) -> str:
    """'address' or 'name': which composer a set of roles belongs to (checked by the model)."""
    return "name" if all(role in NAME_ROLES for role in roles) else "address"


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def compose_address(parts: Mapping[str, Any]) -> str | None:
    """One address text from its parts, in the order of the place hierarchy; None when all are blank."""
    out = []
    for role in ADDRESS_ROLES:
        value = parts.get(role)
        if is_blank(value):
            continue
        text = _text(value)
        suffix = _SUFFIX.get(role)
        if suffix and _BARE.match(text):
            text += suffix
        out.append(text)
    return "".join(out) or None


def compose_name(parts: Mapping[str, Any]) -> str | None:
    """姓 + 名 joined; given name · father's name for transliterated names; None when all are blank."""
    present = {role: _text(parts[role]) for role in NAME_ROLES if not is_blank(parts.get(role))}
    head = present.get("surname", "") + present.get("given", "")
    if "father" in present:
        return f"{head}·{present['father']}" if head else present["father"]
    return head or None


def compose(roles: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str | None]:
    """Compose every row; `rows` holds the cells in the order of `roles`."""
    composer = compose_name if family(roles) == "name" else compose_address
    return [composer(dict(zip(roles, row, strict=True))) for row in rows]
