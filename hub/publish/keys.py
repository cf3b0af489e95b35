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

import re
from collections.abc import Iterable

from hub.normalize import normalize_address, normalize_credit_code, normalize_org_name, normalize_person_name
from hub.normalize.name_keys import initials_key, loose_latin, loose_pinyin_key, pinyin_keys

KEY_CHARS = 200
"""pub_key.key's width: longer keys are cut (a prefix still finds them)."""

_NOT_KEY = re.compile(r"[\s\u00b7\u2022\u30fb\uff0e.\-\u2010-\u2015_'’]+")
_LATIN = re.compile(r"^[a-z]+$")


def _squeeze(text: str) -> str:
    return _NOT_KEY.sub("", text)[:KEY_CHARS]


def name_key(name: str) -> str | None:
    """A person's name as a key: normalized (simplified, traditional folded), spaces and dots removed, lower case."""
    normalized = normalize_person_name(name)
    text = normalized.value if normalized.ok else (name if isinstance(name, str) else None)
    if not text:
        return None
    key = _squeeze(text).lower()
    return key or None


def person_name_keys(name: str) -> list[tuple[str, str]]:
    """Every (kind, key) a person's name is found by: name, pinyin (each surname reading), initials, translit."""
    key = name_key(name)
    if key is None:
        return []
    out = [("name", key)]
    if _LATIN.match(key):       # a Latin name is its own pinyin
        return [*out, ("pinyin", key), ("translit", key)]
    normalized = normalize_person_name(name)
    text = normalized.value if normalized.ok and normalized.value else key
    out += [("pinyin", _squeeze(p)) for p in dict.fromkeys(pinyin_keys(text)) if _squeeze(p)]
    initials = initials_key(text)
    if initials:
        out.append(("initials", _squeeze(initials)))
    loose = _squeeze(loose_pinyin_key(text))
    if loose:
        out.append(("translit", loose))
    return out


def latin_keys(query: str) -> list[tuple[str, str]]:
    """What a query typed in Latin letters ("zhang san", "ZS") is looked up as: pinyin, translit, initials."""
    text = _squeeze(query).lower()
    if not _LATIN.match(text):
        return []
    return [("pinyin", text), ("translit", loose_latin(text)), ("initials", text)]


def address_key(address: str) -> str | None:
    """A normalized address without spaces; an address the normalizer refuses is kept as typed, squeezed."""
    normalized = normalize_address(address)
    text = normalized.value if normalized.ok else (address if isinstance(address, str) else None)
    if not text:
        return None
    return _squeeze(text) or None


_ROAD_NUMBER = re.compile(r"\d+号(?![楼院栋幢])")


def address_keys(address: str) -> list[str]:
    """The normalized address, and the part after its street number when it goes on (the estate, building, room):
    天山区和平北路325号医学院佳苑4号楼… is found by 医学院佳苑4号楼 too."""
    key = address_key(address)
    if key is None:
        return []
    road = _ROAD_NUMBER.search(key)
    tail = key[road.end():] if road else ""
    return [key, tail] if len(tail) >= 4 else [key]


def org_name_key(name: str) -> str | None:
    normalized = normalize_org_name(name)
    text = normalized.value if normalized.ok else (name if isinstance(name, str) else None)
    return (_squeeze(text) or None) if text else None


ORG_NAME_STARTS = 8
"""An organization is found by a prefix of its name from any of its first characters: 明珠物业 finds
乌鲁木齐明珠物业有限公司 (names open with a place of any length), at 8 keys an organization."""


def org_name_keys(name: str) -> list[str]:
    key = org_name_key(name)
    if key is None:
        return []
    return [key[start:] for start in range(min(ORG_NAME_STARTS, len(key) - 1))] or [key]


def credit_code_key(code: str) -> str | None:
    normalized = normalize_credit_code(code)
    return normalized.value if normalized.ok else None


def keys_of_values(entity_type: str, attribute: str, values: Iterable[str]) -> list[tuple[str, str, str]]:
    """(value, kind, key) for clear values of one attribute; identifiers' tokens are added by the caller."""
    out: list[tuple[str, str, str]] = []
    for value in values:
        if entity_type == "person" and attribute == "name":
            out += [(value, kind, key) for kind, key in person_name_keys(value)]
        elif attribute in ("address", "residence_address", "hukou_address"):
            out += [(value, "address", key) for key in address_keys(value)]
        elif entity_type == "organization" and attribute == "name":
            out += [(value, "org_name", key) for key in org_name_keys(value)]
        elif entity_type == "organization" and attribute == "credit_code":
            key = credit_code_key(value)
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
