"""Search keys: what publication indexes in pub_key and what a search looks up, from one set of functions.

A key is computed the same way from a stored golden value and from what a caller types, so an exact or
prefix lookup on (kind, key) finds the candidates and no table is scanned. Identifiers (resident ID,
phone) are never keys in clear: their key is the vault's lookup token, which fusion already keeps.

Kinds: `name` (the normalized name: simplified Han, no spaces or middle dots), `pinyin` (toneless full
pinyin, surname read as a surname, no separators; every reading of a two-reading surname), `initials`
(first letter of each syllable), `translit` (loose pinyin: zh=z, ai=a, ng=n …, where transliteration
variants 艾力/阿里 meet, as hub.resolve compares them), `address` (normalized address without spaces),
`credit_code`, `org_name` (normalized organization name without spaces).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

from hub.normalize import (
    Normalized,
    normalize_address,
    normalize_credit_code,
    normalize_org_name,
    normalize_person_name,
)
from hub.normalize.name_keys import loose_latin, loose_pinyin_key, name_parts, pinyin_key, pinyin_keys, split_surname

KEY_CHARS = 200
"""pub_key.key's width: longer keys are cut (a prefix still finds them)."""

_NOT_KEY = re.compile(r"[\s\u00b7\u2022\u30fb\uff0e.\-\u2010-\u2015_'’]+")
_LATIN = re.compile(r"^[a-z]+$")


def _squeeze(text: str) -> str:
    return _NOT_KEY.sub("", text)[:KEY_CHARS]


def _normalized(normalizer: Callable[[Any], Normalized], value: str, normalized: bool) -> str | None:
    """`value` as its normalizer gives it (a stored value is normalized already); what the normalizer refuses
    is kept as typed: a search still finds what resembles it."""
    if normalized:
        return value
    result = normalizer(value)
    return result.value if result.ok else (value if isinstance(value, str) else None)


def name_key(name: str, *, normalized: bool = False) -> str | None:
    """A person's name as a key: normalized (simplified, traditional folded), spaces and dots removed, lower case."""
    text = _normalized(normalize_person_name, name, normalized)
    key = _squeeze(text).lower() if text else ""
    return key or None


_char_pinyin = functools.lru_cache(maxsize=65536)(pinyin_key)
_char_loose = functools.lru_cache(maxsize=65536)(loose_pinyin_key)
_surname_pinyins = functools.lru_cache(maxsize=4096)(pinyin_keys)


@functools.lru_cache(maxsize=65536)
def _initial(char: str) -> str:
    return _char_pinyin(char)[:1]


def person_name_keys(name: str, *, normalized: bool = False) -> list[tuple[str, str]]:
    """Every (kind, key) a person's name is found by: name, pinyin (each surname reading), initials, translit.

    Syllables are read a character at a time through caches, as hub.resolve.features reads them: a district's
    names cost a few thousand distinct characters through pypinyin, not every distinct name.
    """
    key = name_key(name, normalized=normalized)
    if key is None:
        return []
    out = [("name", key)]
    if _LATIN.match(key):       # a Latin name is its own pinyin
        return [*out, ("pinyin", key), ("translit", key)]
    text = _normalized(normalize_person_name, name, normalized) or key
    parts = name_parts(text) or [key]
    surname, given = split_surname(text) if len(parts) == 1 else ("", "".join(parts))
    given = _squeeze(given)
    rest = "".join(map(_char_pinyin, given))
    readings = _surname_pinyins(surname) if surname else [""]
    out += [("pinyin", _squeeze(reading + rest)) for reading in dict.fromkeys(readings) if reading + rest]
    initials = "".join(map(_initial, surname + given))
    if initials:
        out.append(("initials", _squeeze(initials)))
    loose = _squeeze((_char_loose(surname) if surname else "") + "".join(map(_char_loose, given)))
    if loose:
        out.append(("translit", loose))
    return out


def latin_keys(query: str) -> list[tuple[str, str]]:
    """What a query typed in Latin letters ("zhang san", "ZS") is looked up as: pinyin, translit, initials."""
    text = _squeeze(query).lower()
    if not _LATIN.match(text):
        return []
    return [("pinyin", text), ("translit", loose_latin(text)), ("initials", text)]


def address_key(address: str, *, normalized: bool = False) -> str | None:
    """A normalized address without spaces; an address the normalizer refuses is kept as typed, squeezed."""
    text = _normalized(normalize_address, address, normalized)
    return (_squeeze(text) or None) if text else None


_ROAD_NUMBER = re.compile(r"\d+号(?![楼院栋幢])")


def address_keys(address: str, *, normalized: bool = False) -> list[str]:
    """The normalized address, and the part after its street number when it goes on (the estate, building, room):
    天山区和平北路325号医学院佳苑4号楼… is found by 医学院佳苑4号楼 too."""
    key = address_key(address, normalized=normalized)
    if key is None:
        return []
    road = _ROAD_NUMBER.search(key)
    tail = key[road.end():] if road else ""
    return [key, tail] if len(tail) >= 4 else [key]


def org_name_key(name: str, *, normalized: bool = False) -> str | None:
    text = _normalized(normalize_org_name, name, normalized)
    return (_squeeze(text) or None) if text else None


ORG_NAME_STARTS = 8
"""An organization is found by a prefix of its name from any of its first characters: 明珠物业 finds
乌鲁木齐明珠物业有限公司 (names open with a place of any length), at 8 keys an organization."""


def org_name_keys(name: str, *, normalized: bool = False) -> list[str]:
    key = org_name_key(name, normalized=normalized)
    if key is None:
        return []
    return [key[start:] for start in range(min(ORG_NAME_STARTS, len(key) - 1))] or [key]


def credit_code_key(code: str, *, normalized: bool = False) -> str | None:
    if normalized:
        return code
    result = normalize_credit_code(code)
    return result.value if result.ok else None


def keys_of_values(entity_type: str, attribute: str, values: Iterable[str]) -> list[tuple[str, str, str]]:
    """(value, kind, key) for stored (normalized) clear values of one attribute; identifiers' tokens are added
    by the caller."""
    out: list[tuple[str, str, str]] = []
    for value in values:
        if entity_type == "person" and attribute == "name":
            out += [(value, kind, key) for kind, key in person_name_keys(value, normalized=True)]
        elif attribute in ("address", "residence_address", "hukou_address"):
            out += [(value, "address", key) for key in address_keys(value, normalized=True)]
        elif entity_type == "organization" and attribute == "name":
            out += [(value, "org_name", key) for key in org_name_keys(value, normalized=True)]
        elif entity_type == "organization" and attribute == "credit_code":
            key = credit_code_key(value, normalized=True)
            if key:
                out.append((value, "credit_code", key))
    return out


KEYED_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "person": ("name", "residence_address", "hukou_address"),
    "house": ("address",),
    "organization": ("name", "credit_code", "address"),
}
"""Clear attributes whose values become search keys, per entity type."""

TOKEN_KINDS: dict[tuple[str, str], str] = {("person", "resident_id"): "resident_id", ("person", "phone"): "phone"}
"""(entity type, attribute) whose lookup token is a key, and the key's kind."""
