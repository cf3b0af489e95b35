"""Organizations scale with the district: a million residents need more names than the plain
region × trade name × industry × form space holds, and smaller districts keep their names."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hub.demo.config import Prevalence
from hub.demo.orgs import TRADE_SUFFIXES, build_organizations


def _persons(n: int) -> pd.DataFrame:
    birth = np.datetime64("1960-01-01") + np.arange(n).astype("timedelta64[D]")
    return pd.DataFrame({"birth": birth, "death": pd.Series([pd.NaT] * n, dtype="datetime64[ns]")})


def _has_suffix(names: pd.Series) -> pd.Series:
    """Names whose trade name carries one of the suffixes (the trade name then ends in it before
    an industry word); plain trade names may contain these characters elsewhere."""
    return names.str.contains("(?:" + "|".join(TRADE_SUFFIXES) + ")(?:商贸|餐饮|物流|建筑工程|科技)", regex=True)


def test_a_million_residents_get_distinct_credit_codes_and_suffixed_names() -> None:
    orgs = build_organizations(np.random.default_rng(7), _persons(200), 1_000_000, Prevalence())
    enterprises = orgs[orgs["org_type"].isin(["enterprise", "individual_business"])]
    assert len(enterprises) == 25_000
    assert orgs.loc[orgs["credit_code"] != "", "credit_code"].is_unique
    assert orgs["org_id"].is_unique and orgs["unit_no"].is_unique
    assert _has_suffix(enterprises["name"]).sum() > 1_000


def test_small_districts_draw_the_same_organizations_as_before() -> None:
    """Below the plain name space the first draw is the one it always was (so generated districts
    and their truth do not change): one choice among region × trade name × industry × form."""
    from faker.providers.company.zh_CN import Provider as FakerCompany

    from hub.demo.reference import reference

    ref = reference()
    regions, industries = ["乌鲁木齐", "新疆", "乌鲁木齐市天山区"], ref["industries"]
    prefixes = FakerCompany.company_prefixes
    forms = sorted(set(ref["org_forms"]))
    picks = np.random.default_rng(7).choice(len(regions) * len(prefixes) * len(industries) * len(forms), 500,
                                            replace=False)
    r, rest = np.divmod(picks, len(prefixes) * len(industries) * len(forms))
    p, rest = np.divmod(rest, len(industries) * len(forms))
    i, f = np.divmod(rest, len(forms))
    expected = [regions[a] + prefixes[b] + industries[c] + forms[e] for a, b, c, e in zip(r, p, i, f, strict=True)]
    orgs = build_organizations(np.random.default_rng(7), _persons(200), 20_000, Prevalence())
    assert orgs["name"].iloc[:500].tolist() == expected
