"""Person and organization names: one spelling per name, so that equal names compare equal.

Han names lose their whitespace and turn simplified; transliterated Uyghur and Kazakh names
(own name · father's name) get the national separator U+00B7 whatever the export used
(• ・ ． . - space, or a `?` left by a GBK export). A `?` inside a short Han name is a lost
character, not a separator: 王? must never be keyed as 王. The matching keys built on these
values live in `hub.normalize.name_keys`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

from hub.normalize._common import as_text, clean, reject, total, unsupported
from hub.normalize._hanzi import HAN, to_simplified
from hub.normalize._resources import load_resource
from hub.normalize.base import Normalized

FIELD = "person_name"
ORG_FIELD = "org_name"
MAX_NAME_LENGTH = 100   # the national rule asks name fields to hold at least 50 characters
MAX_ORG_LENGTH = 300
MIDDLE_DOT = "\u00b7"

_DOTS = "\u00b7\u2022\u30fb\uff65\u2027\u22c5\u2219\u0387"
SEPARATORS = f"\\s{_DOTS}.\\-\u2010-\u2015_"
"""Characters found between the parts of a transliterated name (after NFKC)."""
LOST = "?\ufffd"
"""A `?` or U+FFFD stands for a character an export could not encode."""

_SPLIT = re.compile(f"([{SEPARATORS}{LOST}]+)")
_HAN_NAME = re.compile(f"[{HAN}{SEPARATORS}?]+")
_HAN_CHAR = re.compile(f"[{HAN}]")
_WORD_BREAK = re.compile(f"[\\s{_DOTS}_]+")
_PLACEHOLDER = re.compile(f"[{HAN}]{{1,2}}某{{1,2}}")
_ORG_BRACKETS = str.maketrans({"(": "（", ")": "）", "[": "（", "]": "）", "【": "（", "】": "）",
                               "〔": "（", "〕": "）"})
_SPACE_NEXT_TO_HAN = re.compile(f"\\s+(?=[{HAN}（）])|(?<=[{HAN}（）])\\s+")


@functools.cache
def compound_surnames() -> frozenset[str]:
    return frozenset(load_resource("surnames")["compound_surnames"])


def _problem(s: str) -> str | None:
    """What makes a cleaned string unusable as a name, if anything."""
    if len(s) > MAX_NAME_LENGTH:
        return "too long for a name"
    if "*" in s:
        return "masked"
    for ch in s:
        category = unicodedata.category(ch)
        if category == "Nd":
            return "contains digits"
        if category in ("Co", "Cn"):
            return "contains an unreadable character"
        if not (category.startswith("L") or category.startswith("M") or _SPLIT.fullmatch(ch) or ch == "'"):
            return "contains characters that are not part of a name"
    if _HAN_CHAR.search(s) and not _HAN_NAME.fullmatch(s):
        return "mixes Chinese characters with other letters"
    return None


def _join_han_parts(pieces: list[str]) -> str | None:
    """Han parts and the separators between them (alternating); None when a character was lost.

    A separator between parts of two or more characters is the U+00B7 of a transliterated name;
    next to a single character it is noise (张 伟). Whitespace after a compound surname is noise too.
    A `?` is a separator only between long parts: elsewhere it took the place of a character.
    """
    parts, separators = pieces[0::2], pieces[1::2]
    if not parts[0]:
        if "?" in separators[0]:
            return None
        parts, separators = parts[1:], separators[1:]
    if not parts[-1]:
        if "?" in separators[-1]:
            return None
        parts, separators = parts[:-1], separators[:-1]
    out = parts[0]
    for i, (separator, right) in enumerate(zip(separators, parts[1:], strict=True)):
        left = parts[i]
        if len(left) >= 2 and len(right) >= 2:
            after_surname = i == 0 and separator.isspace() and left in compound_surnames()
            out += "" if after_surname else MIDDLE_DOT
        elif "?" in separator:
            return None
        out += right
    return out


def _alphabetic_name(s: str) -> str:
    """Foreigners' names as on their documents: capitals, single spaces, hyphens and apostrophes kept."""
    return " ".join(_WORD_BREAK.sub(" ", s).split()).upper()


@total(FIELD)
def normalize_person_name(raw: Any) -> Normalized:
    """A person's name: simplified Han with U+00B7 between transliterated parts, or a Latin name."""
    text = as_text(raw) if not isinstance(raw, (int, float)) else None
    if text is None:
        return unsupported(FIELD, raw)
    s = clean(text).strip().replace("\ufffd", "?")
    problem = _problem(s)
    if problem is not None:
        return reject(FIELD, problem)
    if not _HAN_CHAR.search(s):
        if "?" in s:
            return reject(FIELD, "contains an unreadable character")
        name = _alphabetic_name(s)
        return Normalized(name) if any(ch.isalpha() for ch in name) else reject(FIELD, "no letters")
    simplified = to_simplified(s)
    joined = _join_han_parts(_SPLIT.split(simplified))
    if joined is None:
        return reject(FIELD, "contains an unreadable character")
    if _PLACEHOLDER.fullmatch(joined):
        return reject(FIELD, "a placeholder (王某), not a name")
    flags: tuple[str, ...] = ("converted_traditional",) if simplified != s else ()
    if len(joined) == 1:
        flags += ("single_character",)
    return Normalized(joined, flags=flags)


@total(ORG_FIELD)
def normalize_org_name(raw: Any) -> Normalized:
    """An organization's name: simplified, no whitespace beside Chinese text, brackets as （ ）."""
    text = as_text(raw) if not isinstance(raw, (int, float)) else None
    if text is None:
        return unsupported(ORG_FIELD, raw)
    s = " ".join(clean(text).split())
    if len(s) > MAX_ORG_LENGTH:
        return reject(ORG_FIELD, "too long for a name")
    if "\ufffd" in s or any(unicodedata.category(ch) in ("Co", "Cn") for ch in s):
        return reject(ORG_FIELD, "contains an unreadable character")
    if not any(ch.isalpha() for ch in s):
        return reject(ORG_FIELD, "no letters")
    s = _SPACE_NEXT_TO_HAN.sub("", s.translate(_ORG_BRACKETS))
    simplified = to_simplified(s)
    flags = ("converted_traditional",) if simplified != s else ()
    return Normalized(simplified, flags=flags)
