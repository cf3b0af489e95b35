"""Matching keys for person names: pure functions of a (normalized) name, no statements.

Homophone spellings (王伟/王玮, 买买提/麦麦提) meet on the pinyin key; transliteration variants
that pick other syllables (艾力/阿里, 吐尔逊/图尔荪) meet on the loose key; swapped fields
(伟王/王伟) meet on the sorted key. Surnames are read as surnames (单 shan, 曾 zeng), which
pypinyin alone does not do, from the table in resources/surnames.yaml.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from pypinyin import lazy_pinyin

from hub.normalize._common import clean
from hub.normalize._hanzi import HAN
from hub.normalize._resources import load_resource
from hub.normalize.names import LOST, SEPARATORS, compound_surnames

_HAN_RUNS = re.compile(f"[{HAN}]+|[^{HAN}]")
_HAN_CHAR = re.compile(f"[{HAN}]")
_PART_SEPARATORS = re.compile(f"[{SEPARATORS}]+")
_LOOSE_RULES = (
    (re.compile(r"^([zcs])h"), r"\1"),
    (re.compile(r"^y"), "i"),
    (re.compile(r"^x"), "s"),
    (re.compile(r"ai"), "a"),
    (re.compile(r"ei"), "e"),
    (re.compile(r"uo|ou"), "u"),
    (re.compile(r"ng$"), "n"),
)


@functools.cache
def _surname_readings() -> Mapping[str, tuple[str, ...]]:
    return {k: tuple(v) for k, v in load_resource("surnames")["surname_readings"].items()}


@functools.cache
def _char_readings() -> Mapping[str, str]:
    return dict(load_resource("surnames")["transliteration_readings"])


def name_parts(name: str) -> list[str]:
    """The parts of a transliterated name (own name, father's name); a Han name is one part."""
    if not isinstance(name, str):
        return []
    return [p for p in _PART_SEPARATORS.split(clean(name).strip()) if p]


def split_surname(name: str) -> tuple[str, str]:
    """(surname, given name) of a Han name; ("", name) for transliterated names, which have no surname."""
    if not isinstance(name, str) or not name or len(name_parts(name)) != 1:
        return "", name if isinstance(name, str) else ""
    if len(name) > 2 and name[:2] in compound_surnames():
        return name[:2], name[2:]
    return name[:1], name[1:]


def _readings(text: str) -> list[str]:
    """One lower-case syllable per Han character; any other character stands for itself."""
    overrides = _char_readings()
    out: list[str] = []
    for run in _HAN_RUNS.findall(text):
        if not _HAN_CHAR.match(run):
            out.append(run.lower())
            continue
        syllables = lazy_pinyin(run)
        if len(syllables) != len(run):  # a character without a reading was grouped: go one by one
            syllables = [lazy_pinyin(ch)[0] for ch in run]
        out += [overrides.get(ch, syllable).lower() for ch, syllable in zip(run, syllables, strict=True)]
    return out


def _letters(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum() or ch in LOST)


def _syllable_options(name: str) -> list[list[str]]:
    """Syllables of a name; the first list uses each surname's usual reading, the others its alternatives."""
    if not isinstance(name, str):
        return [[]]
    surname, given = split_surname(clean(name).strip())
    rest = _readings(_letters(given))
    readings = _surname_readings().get(surname) if len(surname) == 1 else None
    if readings is None:
        return [_readings(_letters(surname)) + rest]
    return [[reading, *rest] for reading in readings]


def pinyin_key(name: str) -> str:
    """Toneless pinyin of the whole name, surname read as a surname: 单雄信 → shanxiongxin."""
    return "".join(_syllable_options(name)[0])


def pinyin_keys(name: str) -> list[str]:
    """Every pinyin key of a name whose surname has two readings in use (乐 yue/le); else one key."""
    return ["".join(option) for option in _syllable_options(name)]


def _loosen(syllable: str) -> str:
    for pattern, replacement in _LOOSE_RULES:
        syllable = pattern.sub(replacement, syllable)
    return syllable


def loose_pinyin_key(name: str) -> str:
    """Pinyin with the distinctions transliterators blur removed (zh/z, ai/a, ng/n, x/s …): 艾力 = 阿里."""
    return "".join(_loosen(s) for s in _syllable_options(name)[0])


def sorted_key(name: str) -> str:
    """The name's characters in code-point order, separators dropped: 伟王 and 王伟 share it."""
    if not isinstance(name, str):
        return ""
    return "".join(sorted(_letters(clean(name))))


def loose_latin(text: str) -> str:
    """Latin pinyin as typed ("zhangsan"), loosened like `loose_pinyin_key` where the rules need no syllable
    boundaries: a typed query finds the translit keys of names spelled the other way."""
    return _loosen(text)
