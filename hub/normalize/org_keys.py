"""Matching keys for organization names and credit codes: pure column functions, no statements.

Departments write one company's name in several ways: with or without the region it registered in
(新疆 / 乌鲁木齐市 / none), with that region in brackets of either width ((新疆)…, （新疆）…, …（新疆）有限公司),
and with any of the limited-liability forms (有限公司 / 有限责任公司 / 股份有限公司). The key drops the
region and writes one form, so these meet; a branch (…有限公司乌鲁木齐分公司) keeps its own part, because a
branch is an organization of its own with its own code, and `head` (the key without the branch) lets
a comparison tell "the same company, another branch" from "another company".

Credit codes are checked with `stdnum.cn.uscc.calc_check_digit` (its `validate` wants positions 1-8 to
be digits and so rejects valid N2…/A1…/Y1… codes: the format is checked here); the 9-character
organization code (positions 9-17, GB 11714) is what old records quote as 12345678-9.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import numpy.typing as npt
import pandas as pd
from stdnum.cn import uscc

from hub.normalize.credit_code import ALPHABET, org_check_char

_REGIONS = ("新疆维吾尔自治区", "新疆", "乌鲁木齐市", "乌鲁木齐", "天山区", "沙依巴克区", "新市区", "水磨沟区",
            "头屯河区", "达坂城区", "米东区", "乌鲁木齐县")
"""Region names a company of this district may or may not carry in its name (longest first per level)."""
_REGION = "(?:" + "|".join(_REGIONS) + ")"
_LEADING_REGION = re.compile(f"^(?:{_REGION})+")
_BRACKETED_REGION = re.compile(rf"[(\[]{_REGION}+[)\]]")
_FORM = re.compile(r"(?:股份有限公司|有限责任公司|有限公司)$")
_BRANCH = re.compile(r"^(?P<head>.+(?:股份有限公司|有限责任公司|有限公司|公司))"
                     r"(?P<branch>.+?(?:分公司|分店|分厂|分部|营业部|办事处))$")
_SPACES = re.compile(r"\s+")
LIMITED = "有限公司"
"""The one form the key writes for 有限公司, 有限责任公司 and 股份有限公司."""
_USCC = re.compile(rf"[{ALPHABET}]{{2}}\d{{6}}[{ALPHABET}]{{10}}", re.ASCII)
_ORG_CODE = re.compile(r"[0-9A-Z]{8}[0-9X]", re.ASCII)


def _kept(values: pd.Series, keep: npt.NDArray[np.bool_]) -> npt.NDArray[np.object_]:
    """`values` as objects, None where not `keep` (pandas' own missing value would be NaN)."""
    out = values.to_numpy(dtype=object).copy()
    out[~keep] = None
    return out


def _head_key(head: pd.Series) -> pd.Series:
    """A company's name without region (leading or bracketed) and with one limited-liability form."""
    core = head.str.replace(_BRACKETED_REGION, "", regex=True).str.replace(_LEADING_REGION, "", regex=True)
    formed = core.str.replace(_FORM, LIMITED, regex=True)
    bare = formed.str.removesuffix(LIMITED)
    return formed.where(bare.str.len() > 0, head)   # a name that is only a region and a form keeps itself


def org_name_keys(names: pd.Series) -> pd.DataFrame:
    """`name_key` (region-free, one form, branch kept) and `name_head` (the key without the branch) of
    organization names, vectorized; blanks give None. Call on distinct values (`on_distinct`)."""
    folded = names.map(lambda s: unicodedata.normalize("NFKC", s) if isinstance(s, str) else None)
    folded = folded.str.replace(_SPACES, "", regex=True).str.upper()
    parts = folded.str.extract(_BRANCH)
    has_branch = parts["head"].notna()
    head = parts["head"].where(has_branch, folded)
    branch = parts["branch"].where(has_branch, "")
    head_key = _head_key(head.astype(object))
    key = head_key + branch.astype(object)
    blank = (folded.isna() | (folded == "")).to_numpy(dtype=bool)
    return pd.DataFrame({"name_key": _kept(key, ~blank), "name_head": _kept(head_key, ~blank)}, index=names.index)


def credit_code_keys(codes: pd.Series) -> pd.DataFrame:
    """`credit_code` (a checksum-valid 18-character code) and `org_code` (its positions 9-17, or a valid
    old 9-character organization code with or without its dash); anything else gives None."""
    s = codes.map(lambda c: unicodedata.normalize("NFKC", c) if isinstance(c, str) else None)
    s = s.str.replace(r"[\s\-_.]", "", regex=True).str.upper()
    long_ok = s.map(lambda c: isinstance(c, str) and _USCC.fullmatch(c) is not None
                    and uscc.calc_check_digit(c[:17]) == c[17])
    short_ok = s.map(lambda c: isinstance(c, str) and _ORG_CODE.fullmatch(c) is not None
                     and org_check_char(c[:8]) == c[8])
    long_mask, short_mask = long_ok.to_numpy(dtype=bool), short_ok.to_numpy(dtype=bool)
    org = _kept(s, short_mask)
    org[long_mask] = s.str.slice(8, 17).to_numpy(dtype=object)[long_mask]
    credit = _kept(s, long_mask)
    return pd.DataFrame({"credit_code": credit, "org_code": org}, index=codes.index)
