"""The national code tables a value map can name: `map: gb_3304` instead of an inline table.

Tables are data, kept with the normalizers in hub/normalize/resources/*.yaml (GB/T 2261.1 gender,
GB 3304 ethnicity, GB/T 2260 divisions, GB/T 4761 family relations, GA/T 517 identity documents,
GB/T 26341 disability, 金保工程 status codes). Each table maps every spelling a department uses (code,
full name, short name, roman letters, common aliases) to one canonical value; spellings are compared
folded (see `hub.mapping.conditions.fold`), so 漢族, " 汉族 " and 1 / 01 / 1.0 all find their entry.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import yaml

from hub.mapping.conditions import fold
from hub.normalize.codes import code_and_label, current_division_code


@dataclass(frozen=True)
class CodeTable:
    name: str
    title: str
    index: Mapping[str, str] = field(repr=False)   # folded spelling → canonical value

    def lookup(self, raw: Any) -> str | None:
        """The canonical value of a raw cell, or None when the table does not hold it. A cell holding a code and
        its label (1-男, 01-汉族) has the value both name, and none where they disagree."""
        value = self.index.get(fold(raw))
        if value is None and isinstance(raw, str) and (pair := code_and_label(raw)) is not None:
            code, label = (self.index.get(fold(part)) for part in pair)
            value = code if code is not None and code == label else None
        return value

    @property
    def values(self) -> list[str]:
        return sorted(set(self.index.values()))


@functools.cache
def _resource(name: str) -> Any:
    return yaml.safe_load(files("hub.normalize").joinpath("resources", f"{name}.yaml").read_text(encoding="utf-8"))


def _index(pairs: Iterable[tuple[str, Iterable[Any]]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for value, spellings in pairs:
        for spelling in spellings:
            if spelling is not None and str(spelling).strip():
                index.setdefault(fold(spelling), value)
    return index


def _gender() -> CodeTable:
    codes = _resource("gb_t_2261_1_gender")["codes"]
    index = _index((c["code"], [c["code"], c["name"], *c.get("aliases", [])]) for c in codes)
    return CodeTable("gb_t_2261_1", "GB/T 2261.1 gender → code (0, 1, 2, 9)", index)


def _ethnicity() -> CodeTable:
    groups = _resource("gb_3304_ethnicity")["groups"]
    keys = ("code", "name", "short", "letters", "roman")
    index = _index((g["code"], [*(g.get(k) for k in keys), *g.get("aliases", [])]) for g in groups)
    return CodeTable("gb_3304", "GB 3304 ethnicity by code, name, short name or roman spelling → code", index)


def _divisions() -> CodeTable:
    entries = _resource("gb_t_2260_divisions")["divisions"]
    by_name: dict[str, set[str]] = {}
    index: dict[str, str] = {}
    for e in entries:
        code = current_division_code(e["code"]) or e["code"]
        index[fold(e["code"])] = code
        for name in (e["name"], *e.get("aliases", [])):
            by_name.setdefault(fold(name), set()).add(code if not e.get("retired") else "~" + code)
    for name, codes in by_name.items():
        current = {c for c in codes if not c.startswith("~")} or {c[1:] for c in codes}
        if len(current) == 1:   # an ambiguous name (two districts called alike) maps to nothing
            index.setdefault(name, current.pop())
    return CodeTable("gb_t_2260", "GB/T 2260 administrative division by code or name → current code", index)


def _aliases(table: str, name: str, title: str) -> CodeTable:
    return CodeTable(name, title, _index(_resource("value_aliases")[table].items()))


def _shipped(resource: str, name: str) -> CodeTable:
    table = _resource(resource)["tables"][name]
    return CodeTable(name, table["title"], _index(table["values"].items()))


_BUILDERS = {
    "gb_t_2261_1": _gender,
    "gb_3304": _ethnicity,
    "gb_t_2260": _divisions,
    "gb_t_4761": lambda: _aliases("relation_to_head", "gb_t_4761", "GB/T 4761 family relation → head, spouse, …"),
    "population_type": lambda: _aliases("population_type", "population_type", "户籍 / 流动 → registered, floating"),
    "boolean": lambda: _aliases("boolean", "boolean", "是 / 否, 1 / 0 → true, false"),
    "ga_t_517": lambda: _shipped("ga_t_517_id_documents", "ga_t_517"),
    "gb_t_26341_category": lambda: _shipped("gb_t_26341_disability", "gb_t_26341_category"),
    "gb_t_26341_grade": lambda: _shipped("gb_t_26341_disability", "gb_t_26341_grade"),
    "jinbao_status": lambda: _shipped("jinbao_status", "jinbao_status"),
}
CODE_TABLE_NAMES: tuple[str, ...] = tuple(_BUILDERS)
"""Names a mapping can use in `map:`."""


@functools.cache
def code_table(name: str) -> CodeTable:
    """The shipped table of that name; KeyError for an unknown name."""
    return _BUILDERS[name]()


@functools.cache
def _labels(normalizer: str) -> Mapping[str, str]:
    """Canonical code → the label people read, for the attributes stored as codes of a national table."""
    if normalizer == "gender":   # the short form an office writes: 男, 女, 未知, 未说明
        return {c["code"]: (c.get("aliases") or [c["name"]])[0] for c in _resource("gb_t_2261_1_gender")["codes"]}
    if normalizer == "ethnicity":
        return {g["code"]: g["name"] for g in _resource("gb_3304_ethnicity")["groups"]}
    return {}


def display_value(entity_type: str, attribute: str, value: Any) -> Any:
    """A stored value as people read it where values are shown (preview, review, explain): a code of a
    national table with its label, 2 → 女 (2); any other value unchanged."""
    import schemas

    meta = schemas.attribute_spec(entity_type, attribute)
    if meta is None or value is None:
        return value
    label = _labels(meta.normalizer).get(str(value))
    return f"{label} ({value})" if label else value


def resident_id_documents() -> list[str]:
    """GA/T 517 kinds whose document number is a resident ID number."""
    return list(_resource("ga_t_517_id_documents")["tables"]["ga_t_517"]["resident_id_kinds"])
