"""Hypothesis strategies and checks shared by the normalizer tests."""

from __future__ import annotations

import re
from datetime import timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from hub.normalize import Normalized, Normalizer
from hub.normalize._common import UNEXPECTED

ID_LIKE = st.from_regex(r"\A\s*\d{6}(18|19|20)\d{2}[01]\d[0-3]\d\d{3}[\dXx*]\s*\Z")
PHONE_LIKE = st.from_regex(r"\A(\+86|0086|86-)?\s?1[3-9]\d[ -]?\d{4}[ -]?\d{4}\Z|\A0\d{2,3}-?\d{7,8}\Z")
DATE_LIKE = st.from_regex(r"\A(1[89]|20)\d\d[-/.年][01]?\d[-/.月][0-3]?\d日?\Z|\A\d{8}\Z|\A\d{5}\Z")
ADDRESS_LIKE = st.from_regex(
    r"\A[天山区阳光小区幸福路街道和平社区友好北]{0,12}\d{1,3}(号楼|栋|#)\d(单元|单)\d{3,4}室?\Z"
)
NAME_LIKE = st.from_regex(r"\A[买提艾力古丽张王伟張偉]{1,4}([·•・.\-? ？]{1,2}[买提艾力古丽]{1,4})?\Z")

SCALARS = st.one_of(
    st.text(),
    st.text(alphabet=st.one_of(st.characters(), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))),
    st.text(alphabet=st.one_of(st.characters(min_codepoint=0x4E00, max_codepoint=0x4E80),
                               st.sampled_from("·? 0-3号栋单元室年月日"))),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.binary(),
    st.none(),
    st.booleans(),
    st.datetimes(),
    st.datetimes(timezones=st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23),
                                                             max_value=timedelta(hours=23)))),
    st.dates(),
    st.decimals(),
    st.sampled_from([pd.NA, pd.NaT, np.nan, np.int64(19850307), np.float64(31113.0), np.datetime64("NaT"),
                     "\ud800", "a\udfffb", "\x00\x1f\x7f", "\u3000", "x" * 100_000, "1" * 5000, 10**5000,
                     float("-inf"), [], {}, ("a",), object()]),
)
ANYTHING = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.text(max_size=3), SCALARS, max_size=2),
                     ID_LIKE, PHONE_LIKE, DATE_LIKE, ADDRESS_LIKE, NAME_LIKE)
"""Every kind of value a department export, a driver or a careless caller can hand a normalizer."""

_LONG_DIGIT_RUN = re.compile(r"\d{5,}")


def check_contract(normalizer: Normalizer, raw: Any) -> Normalized:
    """The invariants of every normalizer for one input; returns the result for further checks."""
    result = normalizer(raw)
    assert isinstance(result, Normalized)
    assert result.value is None or isinstance(result.value, str)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.derived.items())
    if result.value is None and result.reason is not None:
        assert UNEXPECTED not in result.reason, result.reason
        assert not _LONG_DIGIT_RUN.search(result.reason), f"reason quotes digits: {result.reason}"
    if result.value is not None:
        assert result.reason is None
    return result


def digit_runs(text: str, width: int = 4) -> set[str]:
    """Every run of `width` consecutive digits in text: none may reappear in a reason."""
    digits = re.sub(r"\D", " ", text).split()
    return {d[i:i + width] for d in digits for i in range(len(d) - width + 1)}
