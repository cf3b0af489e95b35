"""`when`: a test on another column of the same row, deciding whether a field (or an entity) applies.

Department exports put meaning in one column that another column depends on: 证件号码 is a resident
ID only where 证件类型 says 居民身份证. A condition is written either as a small expression

    证件类型 in (居民身份证, 户口簿)      证件类型 == 1      证件类型 != 护照
    证件类型 not in (护照, 其他)          备注 is blank      备注 is not blank
    证件号码 matches '[0-9]{17}[0-9Xx]'

or as a mapping (`{column: 证件类型, in: [居民身份证, 户口簿]}`). Values are compared the way code tables
are: NFKC, simplified characters, case and spaces folded, and digit strings without leading zeros (Excel
turns 01 into 1), so `证件类型 == 1` also holds for "01" and "1.0".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hub.normalize.base import is_blank
from hub.normalize.codes import lookup_key

OPERATORS = ("equals", "not_equals", "in", "not_in", "blank", "matches")
_FLOAT_TEXT = re.compile(r"^(-?\d+)\.0+$")
_QUOTED = r"""(?:'[^']*'|"[^"]*")"""
_COLUMN = rf"""(?P<column>{_QUOTED}|`[^`]*`|[^\s=!~]+?)"""
_EXPRESSIONS = (
    (re.compile(rf"^{_COLUMN}\s+is\s+(?P<not>not\s+)?(?:blank|empty)$", re.I), "blank"),
    (re.compile(rf"^{_COLUMN}\s+(?P<not>not\s+)?in\s*[(\[](?P<values>.*)[)\]]$", re.I), "in"),
    (re.compile(rf"^{_COLUMN}\s*(?P<op>==|=|!=|<>)\s*(?P<value>.+)$"), "equals"),
    (re.compile(rf"^{_COLUMN}\s+matches\s+(?P<value>.+)$", re.I), "matches"),
)
SYNTAX = ("`COLUMN == VALUE`, `COLUMN != VALUE`, `COLUMN in (A, B)`, `COLUMN not in (A, B)`, "
          "`COLUMN is blank`, `COLUMN is not blank` or `COLUMN matches 'REGEX'`")


def fold(value: Any) -> str:
    """The form in which condition values, value-map keys and cell values are compared."""
    text = value if isinstance(value, str) else str(value)
    key = _FLOAT_TEXT.sub(r"\1", lookup_key(text))
    if key.isdigit():
        key = key.lstrip("0") or "0"
    return key


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        return text[1:-1]
    return text


def _split_values(text: str) -> list[str]:
    """`a, 'b, c', "d"` → ['a', 'b, c', 'd'] (commas inside quotes stay)."""
    items = re.findall(r"""\s*('[^']*'|"[^"]*"|[^,，]+)""", text)
    return [_unquote(item) for item in items if item.strip()]


def _quote(text: str, *, column: bool = False) -> str:
    """Text as it can stand in an expression: quoted when it holds spaces, commas, brackets or operators."""
    special = re.search(r"[\s,，()\[\]'\"=!<>~`]", text) or not text
    if not special and not (column and text.lower() in ("in", "not", "is", "matches")):
        return text
    return f'"{text}"' if "'" in text else f"'{text}'"


def parse_condition(text: str) -> dict[str, Any]:
    """The mapping form of a condition expression; ValueError saying how to write one otherwise."""
    source = " ".join(text.split())
    for pattern, kind in _EXPRESSIONS:
        match = pattern.match(source)
        if not match:
            continue
        column = _unquote(match.group("column"))
        negated = bool(match.groupdict().get("not"))
        if kind == "blank":
            return {"column": column, "blank": not negated}
        if kind == "in":
            values = _split_values(match.group("values"))
            if not values:
                raise ValueError(f"cannot read condition {text!r}: the list of values is empty")
            return {"column": column, "not_in" if negated else "in": values}
        if kind == "equals":
            operator = "not_equals" if match.group("op") in ("!=", "<>") else "equals"
            return {"column": column, operator: _unquote(match.group("value"))}
        return {"column": column, "matches": _unquote(match.group("value"))}
    raise ValueError(f"cannot read condition {text!r}: write {SYNTAX}")


class Condition(BaseModel):
    """A test on one column of the row; exactly one operator."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    column: str = Field(description="the column tested (need not be mapped itself)")
    equals: str | None = Field(default=None, description="holds when the value equals this one")
    not_equals: str | None = Field(default=None, description="holds when the value differs (blank included)")
    in_: list[str] | None = Field(default=None, alias="in", description="holds when the value is one of these")
    not_in: list[str] | None = Field(default=None, description="holds when the value is none of these")
    blank: bool | None = Field(default=None, description="true: holds for blank cells; false: for filled ones")
    matches: str | None = Field(default=None, description="a regular expression the whole value matches")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        return parse_condition(value) if isinstance(value, str) else value

    @field_validator("equals", "not_equals", mode="before")
    @classmethod
    def _scalar_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    @field_validator("in_", "not_in", mode="before")
    @classmethod
    def _list_text(cls, value: Any) -> Any:
        if isinstance(value, (str, int, float)):
            value = [value]
        if isinstance(value, list):
            return [str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in value]
        return value

    @field_validator("matches")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_operator(self) -> Condition:
        given = [name for name in OPERATORS if getattr(self, "in_" if name == "in" else name) is not None]
        if len(given) != 1:
            raise ValueError(f"a condition needs exactly one of {', '.join(OPERATORS)}"
                             + (f" (got {', '.join(given)})" if given else ""))
        return self

    def describe(self) -> str:
        """The expression form (parses back to the same condition), for drafts, comments and messages."""
        column = _quote(self.column, column=True)
        if self.blank is not None:
            return f"{column} is {'' if self.blank else 'not '}blank"
        if self.in_ is not None or self.not_in is not None:
            values = ", ".join(_quote(v) for v in (self.in_ if self.in_ is not None else self.not_in or []))
            return f"{column} {'in' if self.in_ is not None else 'not in'} ({values})"
        if self.matches is not None:
            return f"{column} matches '{self.matches}'"
        value = self.equals if self.equals is not None else self.not_equals
        return f"{column} {'==' if self.equals is not None else '!='} {_quote(value or '')}"

    def holds(self, values: pd.Series) -> npt.NDArray[np.bool_]:
        """Row-wise truth of the condition on the tested column, once per distinct value."""
        keys = {fold(v) for v in (self.in_ if self.in_ is not None else self.not_in or [])}
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        verdicts = np.array([self._holds_for(u, keys) for u in uniques.tolist()] + [self._holds_for(None, keys)],
                            dtype=bool)
        return verdicts[np.where(codes >= 0, codes, len(uniques))]

    def _holds_for(self, value: Any, keys: set[str]) -> bool:
        blank = is_blank(value)
        if self.blank is not None:
            return blank == self.blank
        if self.matches is not None:
            return not blank and re.fullmatch(self.matches, str(value).strip()) is not None
        key = None if blank else fold(value)
        if self.equals is not None:
            return key == fold(self.equals)
        if self.not_equals is not None:
            return key != fold(self.not_equals)
        return (key in keys) if self.in_ is not None else (key not in keys)


def conditions_hold(frame: pd.DataFrame, conditions: Sequence[Condition]) -> npt.NDArray[np.bool_]:
    """Rows where every condition holds (all rows when there is none). A missing column is blank."""
    mask = np.ones(len(frame), dtype=bool)
    for condition in conditions:
        column = frame[condition.column] if condition.column in frame else pd.Series([None] * len(frame),
                                                                                      index=frame.index)
        mask &= condition.holds(column)
    return mask
