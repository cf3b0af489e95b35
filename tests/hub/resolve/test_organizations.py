"""Organization matching: pairs of records that name the same company, or different ones.

Each variant departments write (region prefix, brackets of either width, company form, old organization
code) must link; a branch, a namesake with another code, and a record without a code whose name two coded
companies share must not. Resolved with the shipped weights, as `hub resolve` runs without --train.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from hub.normalize.credit_code import credit_check_char
from hub.normalize.org_keys import credit_code_keys, org_name_keys
from hub.resolve.engine import Resolution, resolve
from hub.resolve.entity_types import default_model
from hub.resolve.incremental import resolve_incremental


def code(first17: str) -> str:
    return first17 + credit_check_char(first17)


JINSHENG = code("91650102MA6305231")      # 金盛物业服务有限公司
JINSHENG_BRANCH = code("91650102MA7712345")
OLD = "91110000600037341L"                # its organization code 60003734-1 is positions 9-17
HUAXIN_A = code("91650100MA5512345")      # two companies both named 华信科技有限公司
HUAXIN_B = code("91650102MA6612345")
KUAIXUN_A = code("91650102MA8970948")   # 新疆快讯装饰工程股份有限公司 and
KUAIXUN_B = code("91650100MA1758637")   # 乌鲁木齐快讯装饰工程有限责任公司 share a name key


def org(key: str, name: str, credit_code: str | None = None, address: str | None = None,
        source: str = "renshe_insured") -> dict[str, Any]:
    return {"record_key": f"{source}|{key}|employer", "source": source, "name": name,
            "credit_code": credit_code, "address": address}


RECORDS = [
    org("j1", "金盛物业服务有限公司", JINSHENG, "天山区建设路290号"),
    org("j2", "新疆金盛物业服务有限公司", JINSHENG, "天山区中山路1号"),
    org("j3", "乌鲁木齐市金盛物业服务有限公司", JINSHENG),
    org("j4", "(新疆)金盛物业服务有限公司", JINSHENG),
    org("j5", "（新疆）金盛物业服务有限公司", JINSHENG),
    org("j6", "金盛物业服务（乌鲁木齐）有限责任公司", JINSHENG),
    org("j7", "新疆金盛物业服务股份有限公司", JINSHENG),
    org("j8", "金盛物业服务有限公司", None, "天山区幸福路8号", source="wuye_residents"),
    org("j9", "乌鲁木齐金盛物业服务有限责任公司", None, source="canlian_disabled"),
    org("b1", "金盛物业服务有限公司乌鲁木齐分公司", JINSHENG_BRANCH),
    org("b2", "新疆金盛物业服务有限公司乌鲁木齐分公司", None, source="canlian_disabled"),
    org("bx", "金盛物业服务有限公司喀什分公司", JINSHENG),   # a branch quoting its head office's code
    org("o1", "新疆天山建设有限公司", OLD),
    org("o2", "天山建设有限公司", "60003734-1", source="minzheng_social_orgs"),
    org("o3", "乌鲁木齐天山建设有限公司", "600037341"),
    org("h1", "新疆华信科技有限公司", HUAXIN_A, "天山区解放北路10号"),
    org("h2", "华信科技有限公司", HUAXIN_A),
    org("h3", "华信科技有限公司", HUAXIN_B, "天山区解放北路10号"),
    org("h4", "乌鲁木齐华信科技有限责任公司", HUAXIN_B),
    org("h5", "华信科技有限公司", None, "天山区解放北路10号", source="canlian_disabled"),
    org("h6", "（新疆）华信科技有限公司", None, source="canlian_disabled"),
    org("k1", "新疆快讯装饰工程股份有限公司", KUAIXUN_A),
    org("k2", "乌鲁木齐快讯装饰工程有限责任公司", KUAIXUN_B),
    org("k3", "新疆快讯装饰工程股份有限公司", None, source="canlian_disabled"),
    org("k4", "快讯装饰工程有限公司", None, source="canlian_disabled"),
    org("v1", "天山区灵活就业人员"),
    org("v2", "天山区灵活就业人员"),
]


@pytest.fixture(scope="module")
def resolution() -> Resolution:
    return resolve(pd.DataFrame(RECORDS), "organization", model=default_model("organization"))


def _labels(resolution: Resolution) -> pd.Series:
    clusters = resolution.clusters
    return clusters.set_index(clusters["record_key"].str.split("|").str[1])["cluster"]


@pytest.mark.parametrize(("a", "b", "variant"), [
    ("j1", "j2", "region prefix 新疆"), ("j1", "j3", "region prefix 乌鲁木齐市"),
    ("j1", "j4", "half-width bracketed region"), ("j1", "j5", "full-width bracketed region"),
    ("j1", "j6", "region bracketed before the form, 有限责任公司"), ("j1", "j7", "股份有限公司"),
    ("j1", "j8", "no code, the name of exactly one coded company"),
    ("j1", "j9", "no code, prefix and form variant of that name"),
    ("b1", "b2", "a branch without a code, named with a prefix"),
    ("o1", "o2", "old organization code 60003734-1"), ("o1", "o3", "old organization code without its dash"),
    ("h1", "h2", "a namesake's own records, linked by their code"), ("h3", "h4", "the other namesake's"),
    ("v1", "v2", "no code anywhere, the same name"),
    ("k1", "k3", "no code, exactly the name of one of two companies sharing a name key"),
])
def test_records_of_one_organization_link(resolution: Resolution, a: str, b: str, variant: str) -> None:
    labels = _labels(resolution)
    assert labels[a] == labels[b], variant


@pytest.mark.parametrize(("a", "b", "variant"), [
    ("j1", "b1", "a branch (分公司) with its own code"), ("j1", "bx", "a branch quoting its head office's code"),
    ("b1", "bx", "two branches of one company"),
    ("h1", "h3", "namesakes with different valid codes, same name key and address"),
    ("h2", "h3", "namesakes with different valid codes, exactly the same name"),
    ("h5", "h1", "no code, a name two coded companies share"), ("h5", "h3", "no code, the other namesake"),
    ("h6", "h1", "no code, a prefix variant of the shared name"),
    ("k1", "k2", "namesakes by name key with different codes"),
    ("k4", "k1", "no code, only the name key two coded companies share"), ("k4", "k2", "the other one"),
    ("j1", "o1", "different names and codes"),
])
def test_different_organizations_stay_apart(resolution: Resolution, a: str, b: str, variant: str) -> None:
    labels = _labels(resolution)
    assert labels[a] != labels[b], variant


def test_a_branch_with_its_head_office_code_goes_to_review(resolution: Resolution) -> None:
    pairs = resolution.pairs
    keys = pairs["a"].str.split("|").str[1] + "-" + pairs["b"].str.split("|").str[1]
    branch = pairs[keys.isin(["j1-bx", "bx-j1"])]
    assert list(branch["decision"]) == ["review"] and list(branch["name"]) == ["branch"]


def test_many_records_without_a_code_join_the_one_coded_company() -> None:
    """A property company named by thousands of residents' records, a few of them with its code."""
    rows = [org(f"c{k}", ("新疆", "乌鲁木齐市", "", "(新疆)")[k % 4] + "金盛物业服务有限公司", source="wuye_residents")
            for k in range(2000)]
    rows += [org("j1", "金盛物业服务有限责任公司", JINSHENG), org("j2", "金盛物业服务有限公司", JINSHENG)]
    result = resolve(pd.DataFrame(rows), "organization", model=default_model("organization"))
    assert result.clusters["cluster"].nunique() == 1


@pytest.mark.parametrize(("name", "key", "head"), [
    ("新疆金盛物业服务有限公司", "金盛物业服务有限公司", "金盛物业服务有限公司"),
    ("乌鲁木齐市天山区金盛物业服务股份有限公司", "金盛物业服务有限公司", "金盛物业服务有限公司"),
    ("（新疆）金盛物业服务有限责任公司", "金盛物业服务有限公司", "金盛物业服务有限公司"),
    ("金盛物业服务(新疆)有限公司", "金盛物业服务有限公司", "金盛物业服务有限公司"),
    ("新疆金盛物业服务有限公司乌鲁木齐分公司", "金盛物业服务有限公司乌鲁木齐分公司", "金盛物业服务有限公司"),
    ("乌鲁木齐菊风公司酒店管理有限公司南门分公司", "菊风公司酒店管理有限公司南门分公司", "菊风公司酒店管理有限公司"),
    ("天山区灵活就业人员", "灵活就业人员", "灵活就业人员"),
    ("新疆有限公司", "新疆有限公司", "新疆有限公司"),
    ("天山区书法协会", "书法协会", "书法协会"),
])
def test_name_keys(name: str, key: str, head: str) -> None:
    got = org_name_keys(pd.Series([name], dtype=object)).iloc[0]
    assert (got["name_key"], got["name_head"]) == (key, head)


@pytest.mark.parametrize(("raw", "credit", "org_code"), [
    (OLD, OLD, "600037341"), ("60003734-1", None, "600037341"), ("600037341", None, "600037341"),
    ("91110000600037341M", None, None), ("60003734-2", None, None), ("", None, None),
    (code("N2650102MA1234567"), code("N2650102MA1234567"), "MA1234567"),   # stdnum's validate rejects N2…
])
def test_credit_code_keys(raw: str, credit: str | None, org_code: str | None) -> None:
    got = credit_code_keys(pd.Series([raw or None], dtype=object)).iloc[0]
    assert (got["credit_code"], got["org_code"]) == (credit, org_code)


def test_an_increment_judges_namesakes_on_every_record_not_only_the_ones_it_compares() -> None:
    """A new record without a code meets one old record per blocking key; which companies hold its name
    is still counted over all of them."""
    frame = pd.DataFrame(RECORDS)
    later = frame["record_key"].str.split("|").str[1].isin(["h5", "h6", "k3", "k4", "j8", "j9"])
    existing = resolve(frame[~later], "organization", model=default_model("organization"))
    increment = resolve_incremental(existing, frame[later])
    placed = pd.concat([existing.clusters, increment.assignments])
    labels = placed.set_index(placed["record_key"].str.split("|").str[1])["cluster"]
    for new, old in [("h5", "h1"), ("h5", "h3"), ("h6", "h1"), ("h6", "h3"), ("k4", "k1"), ("k4", "k2")]:
        assert labels[new] != labels[old], (new, old)
    for new, old in [("k3", "k1"), ("j8", "j1"), ("j9", "j1")]:
        assert labels[new] == labels[old], (new, old)
