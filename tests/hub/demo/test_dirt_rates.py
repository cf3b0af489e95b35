"""Defects appear at their stated rates (within 4 standard errors) on a 5,000-resident district,
measured on the records themselves against the truth; a CLEAN district has none."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable
from pathlib import Path

import opencc
import pandas as pd
import pytest
import sqlalchemy as sa
from pypinyin import lazy_pinyin
from python_calamine import CalamineWorkbook

from hub.demo import CLEAN, DemoManifest, DirtRates
from hub.demo.idnumbers import ric_is_valid

MakeDistrict = Callable[..., DemoManifest]

RATES = DirtRates()


@pytest.fixture(scope="module")
def district5k(tmp_path_factory: pytest.TempPathFactory, make_district: MakeDistrict) -> DemoManifest:
    return make_district(tmp_path_factory.mktemp("district5k"), 5000, seed=11)


def assert_rate(hits: int, n: int, rate: float) -> None:
    assert n >= 30, f"too few rows ({n}) to observe a rate"
    tolerance = 4 * math.sqrt(rate * (1 - rate) / n) + 0.005
    assert abs(hits / n - rate) <= tolerance, f"observed {hits}/{n} = {hits / n:.3f}, expected {rate} ± {tolerance:.3f}"


def truth_of(m: DemoManifest, source: str) -> pd.DataFrame:
    """Per record of `source`: its person's truth, the defect tags and the broken flag."""
    records = pd.read_csv(m.truth_dir / "records.csv", dtype=str, keep_default_na=False)
    persons = pd.read_csv(m.truth_dir / "persons.csv", dtype=str, keep_default_na=False)
    mine = records[(records["source"] == source) & (records["entity_type"] == "person")]
    return mine.merge(persons, left_on="true_id", right_on="person_id").set_index("source_record_id")


def plain(t: pd.DataFrame) -> pd.Series:
    return ~t["dirt"].str.contains("duplicate") & (t["broken"] == "False")


def renshe(m: DemoManifest) -> pd.DataFrame:
    engine = sa.create_engine(m.renshe_url)
    frame = pd.read_sql("SELECT * FROM AC01", engine, dtype=str).fillna("").set_index("AAC001")
    engine.dispose()
    return frame.join(truth_of(m, "renshe_insured"), how="inner")


def test_old_15_digit_ids_in_social_insurance(district5k: DemoManifest) -> None:
    r = renshe(district5k)
    born_before = r[plain(r) & (r["birth_date"] < "1984") & (r["AAC002"] != "")]
    assert_rate(int((born_before["AAC002"].str.len() == 15).sum()), len(born_before), RATES.old_id_15)


def test_mistyped_and_transposed_ids(district5k: DemoManifest) -> None:
    r = renshe(district5k)
    full = r[plain(r) & r["AAC002"].str.fullmatch(r"\d{17}[\dXx]")]
    bad = (~full["AAC002"].str.upper().map(ric_is_valid)).sum()
    assert_rate(int(bad), len(full), RATES.id_typo + RATES.id_transposed)


def test_homophones_and_separators_in_social_insurance(district5k: DemoManifest) -> None:
    r = renshe(district5k)
    r = r[plain(r)]
    han = r[~r["name"].str.contains("·")]
    homophone = (
        (han["AAC003"] != han["name"])
        & (han["AAC003"].str.len() == han["name"].str.len())
        & (han["AAC003"].map(lazy_pinyin) == han["name"].map(lazy_pinyin))
    )
    assert_rate(int(homophone.sum()), len(han), RATES.homophone_name)
    translit = r[r["name"].str.contains("·")]
    assert_rate(int((~translit["AAC003"].str.contains("·")).sum()), len(translit), RATES.separator_variant)


def test_formatted_phones(district5k: DemoManifest) -> None:
    r = renshe(district5k)
    phones = r.loc[plain(r) & (r["AAE005"] != ""), "AAE005"]
    formatted = ~phones.str.fullmatch(r"1\d{10}|0991-\d{7}")
    assert_rate(int(formatted.sum()), len(phones), RATES.phone_formatted)


def test_civil_affairs_names_ids_and_dates(district5k: DemoManifest) -> None:
    allowance = pd.read_csv(district5k.files["minzheng_allowance"], encoding="gb18030", dtype=str).fillna("")
    book = CalamineWorkbook.from_path(str(district5k.files["minzheng_assistance"]))
    roster = [
        row
        for name in book.sheet_names
        for row in book.get_sheet_by_name(name).to_python()[3 if name == "低保" else 2 :]
    ]
    names = list(allowance["姓名"]) + [str(row[1]) for row in roster]
    t2s = opencc.OpenCC("t2s")
    assert_rate(sum(t2s.convert(n) != n for n in names), len(names), RATES.traditional_name)
    ids = list(allowance["身份证号"]) + [row[2] for row in roster]
    assert_rate(sum(i == "" for i in ids), len(ids), RATES.id_missing + RATES.duplicate / 3)
    iso = allowance["登记日期"].str.fullmatch(r"\d{4}-\d{2}-\d{2}")
    assert_rate(int((~iso).sum()), len(allowance), RATES.date_nonstandard)
    dates = [row[c] for row in roster for c in (5, 11)]
    assert_rate(sum(isinstance(d, float) for d in dates), len(dates), RATES.excel_serial_date)


def test_property_masks_ids_and_duplicates_people(district5k: DemoManifest) -> None:
    with sqlite3.connect(district5k.property_db) as con:
        residents = pd.read_sql("SELECT id, id_no FROM residents", con, dtype=str).fillna("")
    assert_rate(int(residents["id_no"].str.contains(r"\*{8}").sum()), len(residents), RATES.property_id_masked)
    owners = truth_of(district5k, "wuye_owners")
    records = pd.read_csv(district5k.truth_dir / "records.csv", dtype=str)
    houses = records[(records["source"] == "wuye_owners") & (records["entity"] == "house")].set_index(
        "source_record_id"
    )
    pairs = owners[["person_id"]].join(houses["true_id"])
    repeated = pairs.duplicated(keep="first").sum()
    assert_rate(int(repeated), len(pairs), RATES.duplicate * 2)


def test_clean_district_has_no_defects(tmp_path: Path, make_district: MakeDistrict) -> None:
    m = make_district(tmp_path, 2000, seed=5, dirt=CLEAN)
    r = renshe(m)
    assert (r["AAC002"] == r["resident_id"]).all() and (r["AAC003"] == r["name"]).all()
    counts = pd.read_csv(m.truth_dir / "source_counts.csv")
    assert counts["broken"].sum() == 0 and counts["duplicates"].sum() == 0
    engine = sa.create_engine(m.gongan_url)
    gongan = pd.read_sql("SELECT RYBH, XM, GMSFHM FROM RK_SYRK", engine, dtype=str).set_index("RYBH")
    engine.dispose()
    t = gongan.join(truth_of(m, "gongan_population"))
    assert (t["XM"] == t["name"]).all() and (t["GMSFHM"] == t["resident_id"]).all()
