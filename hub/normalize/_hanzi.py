"""Chinese-text helpers shared by the normalizers: simplification and Chinese numerals.

Simplification goes character by character: opencc's phrase rules fire inside names (沈靜芳 would
become 沉静芳), and a name or a code word is not a phrase.
"""

from __future__ import annotations

import functools
import re

import cn2an
from opencc import OpenCC

HAN = r"\u3007\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f"
"""Unified ideographs (basic, extension A, extensions B onwards) and 〇."""

_CHAR_SEPARATOR = "\x1f"
_DIGITS = str.maketrans("〇○零一二三四五六七八九幺两", "00012345678912")
_POSITIONAL = re.compile(r"[十百千万廿卅]")


@functools.cache
def _converter() -> OpenCC:
    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional characters replaced by simplified ones, one character at a time.

    Converted twice when anything changed: t2s is not idempotent on every character (薴→苧→苎).
    """
    if not text:
        return text
    convert = _converter().convert
    out = convert(_CHAR_SEPARATOR.join(text)).replace(_CHAR_SEPARATOR, "")
    if out != text:
        out = convert(_CHAR_SEPARATOR.join(out)).replace(_CHAR_SEPARATOR, "")
    return out


def cn_number(numeral: str) -> int | None:
    """A whole number from digits or Chinese numerals: 3, 三, 十五, 廿一, 一五零二 (read digit by digit).

    Digit-by-digit reading keeps leading zeros' positions (零二 → 2 as a number, but 一五零二 → 1502);
    positional forms (十五, 二百零三) go through cn2an. None when it is not a number.
    """
    if not numeral or len(numeral) > 12:
        return None
    if numeral.isascii() and numeral.isdigit():
        return int(numeral)
    if not _POSITIONAL.search(numeral):
        digits = numeral.translate(_DIGITS)
        return int(digits) if digits.isascii() and digits.isdigit() else None
    text = numeral.replace("廿", "二十").replace("卅", "三十").translate(str.maketrans("幺两", "一二"))
    try:
        value = cn2an.cn2an(text, "normal")
    except (ValueError, KeyError, IndexError):
        return None
    return int(value) if float(value).is_integer() and value >= 0 else None


def digits_of(numeral: str) -> str | None:
    """The digit string of a numeral read digit by digit (零二 → "02"), for room numbers."""
    digits = numeral.translate(_DIGITS)
    return digits if digits.isascii() and digits.isdigit() else None
