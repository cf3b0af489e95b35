"""The generated district: deterministic, reconciled with its truth, with the promised formats."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml
from python_calamine import CalamineWorkbook
from stdnum import numdb

from hub.demo import DemoManifest, load_manifest, write_connections_file
from hub.demo.idnumbers import ric_is_valid
from hub.demo.renshe import INSURED_QUERY
from hub.mapping import load_mappings

MakeDistrict = Callable[..., DemoManifest]

MAPPINGS = Path(__file__).resolve().parents[3] / "mappings"


def sql_dump(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        out = {t: [tuple(r) for r in conn.execute(sa.text(f'SELECT * FROM "{t}" ORDER BY 1'))] for t in tables}
    engine.dispose()
    return out


def workbook_cells(path: Path) -> dict[str, list[list[Any]]]:
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def native_counts(m: DemoManifest) -> dict[str, int]:
    """Records each source holds, counted in the source's own form."""
    counts: dict[str, int] = {}
    gongan, renshe = sa.create_engine(m.gongan_url), sa.create_engine(m.renshe_url)
    with gongan.connect() as conn:
        counts["gongan_population"] = conn.execute(sa.text("SELECT COUNT(*) FROM RK_SYRK")).scalar_one()
        counts["gongan_access"] = conn.execute(sa.text("SELECT COUNT(*) FROM RK_MJSJ")).scalar_one()
    with renshe.connect() as conn:
        counts["renshe_insured"] = len(conn.execute(sa.text(INSURED_QUERY)).fetchall())
        counts["renshe_pension"] = conn.execute(
            sa.text("SELECT COUNT(*) FROM AC01 WHERE AAC031 IN ('1', '2', '3')")
        ).scalar_one()
    gongan.dispose()
    renshe.dispose()
    sheets = workbook_cells(m.files["minzheng_assistance"])
    counts["minzheng_assistance"] = sum(len(rows) - (3 if name == "低保" else 2) for name, rows in sheets.items())
    counts["minzheng_allowance"] = len(pd.read_csv(m.files["minzheng_allowance"], encoding="gb18030", dtype=str))
    counts["minzheng_social_orgs"] = len(pd.read_csv(m.files["minzheng_social_orgs"], encoding="utf-8-sig", dtype=str))
    roster = workbook_cells(m.files["canlian_disabled"])["持证残疾人"]
    counts["canlian_disabled"] = len(roster) - 3  # title, export time, header
    for source in ("jiedao_staff", "shichang_entities"):
        counts[source] = len(pd.read_csv(m.files[source], encoding="utf-8-sig", dtype=str))
    with sqlite3.connect(m.property_db) as con:
        counts["wuye_houses"] = con.execute("SELECT COUNT(*) FROM houses").fetchone()[0]
        counts["wuye_owners"] = con.execute("SELECT COUNT(*) FROM residents WHERE role = '业主'").fetchone()[0]
        counts["wuye_tenants"] = con.execute("SELECT COUNT(*) FROM residents WHERE role = '租户'").fetchone()[0]
        counts["wuye_vehicles"] = con.execute("SELECT COUNT(*) FROM vehicles").fetchone()[0]
        counts["wuye_tickets"] = con.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
    return counts


def test_same_seed_same_records(tmp_path: Path, district: DemoManifest, make_district: MakeDistrict) -> None:
    again = make_district(tmp_path, 2000, seed=7)
    assert again.record_counts == district.record_counts
    assert again.property_token != district.property_token  # random per generation
    for url_a, url_b in (
        (district.gongan_url, again.gongan_url),
        (district.renshe_url, again.renshe_url),
        (f"sqlite:///{district.property_db}", f"sqlite:///{again.property_db}"),
    ):
        assert sql_dump(url_a) == sql_dump(url_b)
    for name in ("minzheng_allowance", "minzheng_social_orgs", "jiedao_staff", "shichang_entities"):
        assert district.files[name].read_bytes() == again.files[name].read_bytes()
    assert workbook_cells(district.files["minzheng_assistance"]) == workbook_cells(again.files["minzheng_assistance"])
    for truth in sorted(district.truth_dir.glob("*.csv")):
        assert truth.read_bytes() == (again.truth_dir / truth.name).read_bytes(), truth.name


def test_another_seed_another_district(tmp_path: Path, district: DemoManifest, make_district: MakeDistrict) -> None:
    other = make_district(tmp_path, 2000, seed=8)
    persons_a = pd.read_csv(district.truth_dir / "persons.csv", dtype=str)
    persons_b = pd.read_csv(other.truth_dir / "persons.csv", dtype=str)
    assert len(set(persons_a["resident_id"]) & set(persons_b["resident_id"])) < 10


def test_counts_reconcile_with_manifest_and_truth(district: DemoManifest) -> None:
    assert native_counts(district) == district.record_counts
    counts = pd.read_csv(district.truth_dir / "source_counts.csv").set_index("source")["records"].to_dict()
    assert counts == district.record_counts
    records = pd.read_csv(district.truth_dir / "records.csv", dtype=str)
    assert records.groupby("source")["source_record_id"].nunique().to_dict() == district.record_counts
    assert load_manifest(district.out_dir).record_counts == district.record_counts


def test_every_mapping_has_truth_and_the_reverse(district: DemoManifest) -> None:
    specs = {s.source: s for s in load_mappings(MAPPINGS).require_ready()}
    pushed = {source for source, s in specs.items() if s.connector.kind == "submissions"}   # apps write these
    assert set(specs) - pushed == set(district.record_counts)
    records = pd.read_csv(district.truth_dir / "records.csv", dtype=str)
    for source, entities in records.groupby("source")["entity"]:
        assert set(entities) <= set(specs[str(source)].entities), source


def test_truth_ids_are_valid_and_counties_exist(district: DemoManifest) -> None:
    persons = pd.read_csv(district.truth_dir / "persons.csv", dtype=str)
    assert persons["resident_id"].is_unique
    assert persons["resident_id"].map(ric_is_valid).all()
    counties = numdb.get("cn/loc")
    for code in persons["resident_id"].str[:6].unique():
        assert any("county" in info for _, info in counties.info(code)), code
    assert (persons["resident_id"].str[6:14] == persons["birth_date"].str.replace("-", "")).all()
    assert ((persons["resident_id"].str[16].astype(int) % 2 == 1) == (persons["gender"] == "1")).all()


def test_hard_negatives_are_present(district: DemoManifest) -> None:
    persons = pd.read_csv(district.truth_dir / "persons.csv", dtype=str, keep_default_na=False).set_index("person_id")
    negatives = pd.read_csv(district.truth_dir / "hard_negatives.csv", dtype=str)
    twins = negatives[negatives["kind"] == "twins"]
    assert len(twins) >= 2
    for a, b in zip(twins["person_id_a"], twins["person_id_b"], strict=True):
        pa, pb = persons.loc[a], persons.loc[b]
        assert pa["birth_date"] == pb["birth_date"] and pa["residence_house_id"] == pb["residence_house_id"]
        assert (
            pa["resident_id"] != pb["resident_id"]
            and ric_is_valid(pa["resident_id"])
            and ric_is_valid(pb["resident_id"])
        )
    namesakes = negatives[negatives["kind"] == "same_name_and_birth_date"]
    assert len(namesakes) >= 2
    for a, b in zip(namesakes["person_id_a"], namesakes["person_id_b"], strict=True):
        assert persons.loc[a, "name"] == persons.loc[b, "name"]
        assert persons.loc[a, "resident_id"] != persons.loc[b, "resident_id"]
    assert (negatives["kind"] == "father_son_reversed_name").any()


def test_population_mix(district: DemoManifest) -> None:
    persons = pd.read_csv(district.truth_dir / "persons.csv", dtype=str, keep_default_na=False)
    inside = persons[persons["in_district"] == "True"]
    assert len(inside) == 2000
    translit = inside["ethnicity"].isin(["05", "17"]).mean()
    assert 0.07 < translit < 0.18
    assert inside["name"].str.contains("·").mean() == pytest.approx(translit)
    assert 0.1 < (inside["population_type"] == "floating").mean() < 0.35
    assert (inside["death_date"] != "").sum() > 0
    assert inside["name"].str.startswith(("欧阳", "司马", "诸葛", "上官")).sum() >= 0  # compound surnames possible


def test_gbk_allowance_csv(district: DemoManifest) -> None:
    raw = district.files["minzheng_allowance"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gb18030")
    assert text.splitlines()[0] == "序号,姓名,身份证号,补贴类型,残疾等级,发放金额,联系电话,居住地址,登记日期"
    names = pd.read_csv(district.files["minzheng_allowance"], encoding="gb18030", dtype=str)["姓名"].dropna()
    assert not names.str.contains("[•・]").any()  # GBK cannot hold them …
    assert names.str.contains("·").any()  # … but can hold the standard middle dot


def test_workbook_has_title_rows_and_two_sheets(district: DemoManifest) -> None:
    sheets = workbook_cells(district.files["minzheng_assistance"])
    assert list(sheets) == ["低保", "特困"]
    assert str(sheets["低保"][0][0]).startswith("天山区") and sheets["低保"][2][:3] == ["序号", "姓名", "身份证号"]
    assert sheets["特困"][1][:3] == ["序号", "姓名", "身份证号"]
    from openpyxl import load_workbook

    book = load_workbook(district.files["minzheng_assistance"], read_only=False)
    assert [str(r) for r in book["低保"].merged_cells.ranges] == ["A1:M1"]


def test_connections_file(tmp_path: Path, district: DemoManifest) -> None:
    path = tmp_path / "connections.yaml"
    path.write_text("other: postgresql://x@127.0.0.1/db\n", encoding="utf-8")
    write_connections_file(district, path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["gongan"] == district.gongan_url and data["renshe"] == district.renshe_url
    assert data["wuye"] == {"conn_type": "http", "uri": "http://127.0.0.1:8765", "token": district.property_token}
    assert data["other"] == "postgresql://x@127.0.0.1/db"
    assert path.stat().st_mode & 0o077 == 0


def test_only_broken_rows_have_malformed_ids(district: DemoManifest) -> None:
    """Defects may make an ID wrong, but only the rows marked broken make it unreadable."""
    shape = r"(\d{17}[\dX]|\d{15}|\d{6}\*{8}\d{3}[\dX])?"
    records = pd.read_csv(district.truth_dir / "records.csv", dtype=str, keep_default_na=False)
    broken = set(
        records.loc[records["broken"] == "True", "source"]
        + "/"
        + records.loc[records["broken"] == "True", "source_record_id"]
    )
    renshe = pd.read_sql(
        "SELECT AAC001 AS rid, AAC002 AS id FROM AC01", sa.create_engine(district.renshe_url), dtype=str
    )
    gongan = pd.read_sql(
        "SELECT RYBH AS rid, GMSFHM AS id FROM RK_SYRK", sa.create_engine(district.gongan_url), dtype=str
    )
    allowance = pd.read_csv(district.files["minzheng_allowance"], encoding="gb18030", dtype=str)
    with sqlite3.connect(district.property_db) as con:
        wuye = pd.read_sql("SELECT id AS rid, id_no AS id, role FROM residents", con, dtype=str)
    wuye["source"] = wuye["role"].map({"业主": "wuye_owners", "租户": "wuye_tenants"})
    frames = [
        renshe.assign(source="renshe_insured"),
        gongan.assign(source="gongan_population"),
        allowance.rename(columns={"序号": "rid", "身份证号": "id"}).assign(source="minzheng_allowance"),
        wuye,
    ]
    unreadable: set[str] = set()
    for frame in frames:
        ids = frame["id"].fillna("").str.normalize("NFKC").str.upper()
        bad = frame[~ids.str.fullmatch(shape)]
        unreadable |= set(bad["source"] + "/" + bad["rid"])
    assert unreadable and unreadable <= broken
