"""Value vocabularies (resources/values.yaml): words in the values of closed attributes, in department
names and in source titles, from which a draft writes value maps, a department and a situation type."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from importlib.resources import files
from typing import Any

import yaml

from hub.normalize.codes import lookup_key


@functools.cache
def _data() -> dict[str, Any]:
    text = files("hub.onboard").joinpath("resources", "values.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _best(text: str, words: Mapping[str, Iterable[str]]) -> str | None:
    """The canonical value whose longest word occurs in `text`."""
    key = lookup_key(text)
    hits = [(len(w), value) for value, ws in words.items() for w in ws if lookup_key(str(w)) in key]
    return max(hits)[1] if hits else None


def closed_attributes() -> list[str]:
    """`entity.attribute` names that have a vocabulary."""
    return list(_data()["vocabularies"])


def value_map(attribute: str, codes: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """(code → canonical value for the codes the vocabulary understands, codes it does not)."""
    words = _data()["vocabularies"].get(attribute, {})
    mapped: dict[str, str] = {}
    unknown: list[str] = []
    for code in codes:
        if code in words:        # already canonical
            mapped[code] = code
            continue
        value = _best(code, words) or _ongoing(attribute, code)
        if value is None:
            unknown.append(code)
        else:
            mapped[code] = value
    return _pauses(attribute, mapped), unknown


_ONGOING = re.compile(r"^[\u4e00-\u9fff]{1,4}中$|^在[\u4e00-\u9fff]{1,3}$")
_NOT_ONGOING = ("中断", "中止", "中心")


def _ongoing(attribute: str, code: str) -> str | None:
    """保障中, 享受中, 在册: a status word that says by its form that the thing goes on (see values.yaml)."""
    text = code.strip()
    if not _ONGOING.match(text) or any(w in text for w in _NOT_ONGOING):
        return None
    value = _data().get("ongoing", {}).get(attribute)
    return str(value) if value is not None else None


def _pauses(attribute: str, mapped: dict[str, str]) -> dict[str, str]:
    """An ending word that can also be a pause (停发: the payment stops, the case need not) is the pause where
    the column holds no pause word and another value ends the case for good (正常享受 / 停发 / 退出)."""
    words = _data().get("pause_unless_paused_elsewhere", {}).get(attribute, [])
    soft = [c for c, v in mapped.items() if v == "ended" and any(lookup_key(w) in lookup_key(c) for w in words)]
    hard = [c for c, v in mapped.items() if v == "ended" and c not in soft]
    if soft and hard and "suspended" not in mapped.values():
        return {c: "suspended" if c in soft else v for c, v in mapped.items()}
    return mapped


def department_scores(texts: Iterable[str]) -> dict[str, int]:
    """Hits of each department's words among headers, titles and names."""
    items = [str(t) for t in texts if t]
    scores: dict[str, int] = {}
    for department, words in _data()["departments"].items():
        hits = 0
        for word in words:
            w = str(word)
            hits += sum(1 for t in items if (t.upper().startswith(w) if w.isascii() and w.isupper()
                                             else lookup_key(w) in lookup_key(t)))
        scores[department] = hits
    return scores


def situation_from_context(texts: Iterable[str]) -> str | None:
    """The situation type a title or file name names (持证残疾人名册 → disability)."""
    joined = " ".join(str(t) for t in texts if t)
    return _best(joined, _data()["situation_context"]) if joined else None


_ORGANIZATION_WORDS = ("公司", "厂", "中心", "局", "院", "店", "所", "社", "会", "部", "处", "室", "站", "校", "行",
                       "委", "集团", "企业", "机构")
"""Endings of organization names: a value holding none of them and written as a lack (无固定单位 is no employer,
无锡…公司 an organization) names none."""


def _names_a_lack(value: str) -> bool:
    """无固定单位, 无工作, 无收入单位: a short value saying there is none, whatever follows the 无."""
    text = value.strip()
    return (text.startswith("无") and 2 <= len(text) <= 6
            and not any(text.endswith(w) for w in _ORGANIZATION_WORDS))


def not_organizations(values: Iterable[str]) -> list[str]:
    """The values that name no organization (灵活就业人员, 城乡居民, 无), in the vocabulary's order, then those
    that say there is none in other words (无固定单位), in the sample's order."""
    items = [str(v).strip() for v in values]
    seen = {lookup_key(v) for v in items}
    listed = [str(w) for w in _data()["not_organizations"] if lookup_key(str(w)) in seen]
    known = {lookup_key(w) for w in listed}
    lacks = [v for v in dict.fromkeys(items) if _names_a_lack(v) and lookup_key(v) not in known]
    known |= {lookup_key(v) for v in lacks}
    return listed + lacks + _unlike_the_rest([v for v in items if lookup_key(v) not in known])


PLACEHOLDER_UP_TO = 6
"""Characters at most of a value that stands in for an organization's name (个体参保, 个人缴费)."""


def _unlike_the_rest(items: list[str]) -> list[str]:
    """Where most distinct values of a column end as organizations' names do (…有限公司, …福利院), a short value
    that does not and repeats (个体参保, 个人缴费) fills the cell for a person without one: no organization."""
    counts = Counter(v for v in items if v)
    named = [v for v in counts if v.endswith(_ORGANIZATION_WORDS)]
    if len(counts) < 3 or len(named) < 0.6 * len(counts):
        return []
    return [v for v, n in counts.items() if n >= 2 and len(v) <= PLACEHOLDER_UP_TO
            and not v.endswith(_ORGANIZATION_WORDS) and not v.isascii()]
