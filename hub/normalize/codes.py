"""National code lists: gender (GB/T 2261.1), ethnicity (GB 3304), divisions (GB/T 2260), and the
small enumerations of the vocabulary (population type, relation to the household head).

Every table is a YAML file in resources/, so adding a spelling seen in a new export is a data
change. Lookups fold NFKC, traditional characters, whitespace and case, so 漢族, ＨＡＮ and
" 汉族 " all reach code 01.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.normalize._common import as_text, clean, reject, total, unsupported
from hub.normalize._hanzi import to_simplified
from hub.normalize._resources import load_resource
from hub.normalize.base import Normalized

_FLOAT_TEXT = re.compile(r"^(\d+)\.0+$", re.ASCII)
"""A code written by a float column read as text: "1.0"."""


def lookup_key(text: str) -> str:
    """The form both table entries and raw values are compared in."""
    return to_simplified("".join(clean(text).split())).lower()


_CODE_THEN_LABEL = re.compile(r"^([0-9A-Za-z]{1,4})\s*[-－—_:：|/\s]\s*(\S.*)$")
_LABEL_THEN_CODE = re.compile(r"^(.+?)\s*[(（\[]\s*([0-9A-Za-z]{1,4})\s*[)）\]]$")


def code_and_label(text: str) -> tuple[str, str] | None:
    """(code, label) of a cell a code picker wrote with both (1-男, 01|汉族, 男(1)), else None. Such a cell is
    one value only where code and label name the same entry, which the caller checks."""
    stripped = text.strip()
    match = _CODE_THEN_LABEL.match(stripped)
    if match:
        return match.group(1), match.group(2).strip()
    match = _LABEL_THEN_CODE.match(stripped)
    return (match.group(2), match.group(1).strip()) if match else None


def _index(pairs: Iterable[tuple[str, Iterable[Any]]]) -> Mapping[str, str]:
    """{spelling → canonical value} from (canonical value, spellings) pairs."""
    index: dict[str, str] = {}
    for value, spellings in pairs:
        for spelling in spellings:
            if spelling is not None:
                index[lookup_key(str(spelling))] = value
    return index


@functools.cache
def _gender_index() -> Mapping[str, str]:
    codes = load_resource("gb_t_2261_1_gender")["codes"]
    return _index((c["code"], [c["code"], c["name"], *c["aliases"]]) for c in codes)


@functools.cache
def _ethnicity_index() -> Mapping[str, str]:
    groups = load_resource("gb_3304_ethnicity")["groups"]
    spellings = ("code", "name", "short", "letters", "roman")
    return _index((g["code"], [*(g.get(key) for key in spellings), *g.get("aliases", [])]) for g in groups)


@functools.cache
def _alias_index(table: str) -> Mapping[str, str]:
    return _index(load_resource("value_aliases")[table].items())


def _code_normalizer(field: str, index: Mapping[str, str], raw: Any, *, pad: int = 0) -> Normalized:
    """Look a raw value up in a code table; short numbers are zero-padded to the table's width."""
    text = as_text(raw)
    if text is None:
        return unsupported(field, raw)
    if len(text) > 100:
        return reject(field, "too long for a code")
    key = _FLOAT_TEXT.sub(r"\1", lookup_key(text))
    if pad and key.isdigit() and len(key) < pad:
        key = key.zfill(pad)
    value = index.get(key)
    if value is None and (pair := code_and_label(text)) is not None:
        code, label = (_FLOAT_TEXT.sub(r"\1", lookup_key(part)) for part in pair)
        code = code.zfill(pad) if pad and code.isdigit() and len(code) < pad else code
        if index.get(code) is not None and index.get(code) == index.get(label):
            value = index[code]
        elif index.get(code) is not None and index.get(label) is not None:
            return reject(field, "its code and its label name different values")
    if value is None:
        return reject(field, "not a recognised value")
    return Normalized(value)


@total("gender")
def normalize_gender(raw: Any) -> Normalized:
    """GB/T 2261.1 code: "0" unknown, "1" male, "2" female, "9" unspecified."""
    return _code_normalizer("gender", _gender_index(), raw)


@total("ethnicity")
def normalize_ethnicity(raw: Any) -> Normalized:
    """GB 3304 two-digit code from a code, a full or short name, a roman spelling or a common alias (维族)."""
    return _code_normalizer("ethnicity", _ethnicity_index(), raw, pad=2)


@total("population_type")
def normalize_population_type(raw: Any) -> Normalized:
    """"registered" (户籍) or "floating" (流动/暂住)."""
    return _code_normalizer("population_type", _alias_index("population_type"), raw)


@total("relation_to_head")
def normalize_relation_to_head(raw: Any) -> Normalized:
    """head, spouse, child, parent, grandchild or other, from words or GB/T 4761 codes."""
    return _code_normalizer("relation_to_head", _alias_index("relation_to_head"), raw, pad=2)


@dataclass(frozen=True)
class Division:
    """One GB/T 2260 division; a retired one names the division that took over its area."""

    code: str
    name: str
    level: str
    retired: bool = False
    successor: str | None = None


@functools.cache
def divisions() -> Mapping[str, Division]:
    entries = load_resource("gb_t_2260_divisions")["divisions"]
    return {
        e["code"]: Division(e["code"], e["name"], e["level"], e.get("retired", False), e.get("successor"))
        for e in entries
    }


@functools.cache
def _divisions_by_name() -> Mapping[str, tuple[Division, ...]]:
    found: dict[str, list[Division]] = {}
    for entry in load_resource("gb_t_2260_divisions")["divisions"]:
        for name in (entry["name"], *entry.get("aliases", [])):
            found.setdefault(name, []).append(divisions()[entry["code"]])
    return {name: tuple(entries) for name, entries in found.items()}


@functools.cache
def division_names(level: str) -> tuple[str, ...]:
    """Names and aliases of the divisions of one level, longest first (for prefix matching)."""
    names = {name for name, entries in _divisions_by_name().items() if any(d.level == level for d in entries)}
    return tuple(sorted(names, key=len, reverse=True))


def division_name(code: Any) -> str | None:
    """The name of a division code (retired codes included), or None if the table does not hold it."""
    division = divisions().get(str(code).strip()) if isinstance(code, (str, int)) else None
    return division.name if division else None


def division_code(name: Any, level: str | None = None) -> str | None:
    """The code of a division name (of one level if given); a current division wins over a retired
    namesake (吐鲁番市 is 650400 today, 652101 before 2015); None if unknown or still ambiguous."""
    if not isinstance(name, str):
        return None
    matches = _divisions_by_name().get(to_simplified("".join(clean(name).split())), ())
    matches = tuple(d for d in matches if level is None or d.level == level)
    current = [d for d in matches if not d.retired]
    candidates = current or list(matches)
    return candidates[0].code if len(candidates) == 1 else None


def current_division_code(code: str) -> str | None:
    """The code in force today for a division code, following successors of retired ones."""
    seen: set[str] = set()
    division = divisions().get(code)
    while division is not None and division.retired and division.successor and division.code not in seen:
        seen.add(division.code)
        division = divisions().get(division.successor)
    return division.code if division is not None else None
