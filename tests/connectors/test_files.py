"""File connector: Chinese encodings, title rows, workbooks, text-only cells, bad rows, bad files."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, cast

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import Batch
from connectors.files import FileConnector
from connectors.testing import connector_contract_tests
from hub.errors import ConfigurationError, ConnectorError, SourceDataError, SourceSchemaChanged, SourceUnavailable

HEADER = ["姓名", "身份证号", "联系电话", "民族", "住址"]
PEOPLE = [
    ["阿依古丽·买买提", "650102198503071237", "13800138000", "维吾尔族", "幸福里社区3号楼"],
    ["张伟", "11010519491231002X", "013900139000", "汉族", "和平街道12号"],
    ["李娜", "110105198001010011", "13500135000", "回族", "朝阳路8号"],
]


def write_csv(path: Path, rows: list[list[str]], encoding: str, *, title: str | None = None) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        if title is not None:
            writer.writerow([title, "", "", "", ""])
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def extract(connector: FileConnector, watermark: str | None = None) -> list[Batch]:
    return list(connector.extract(watermark))


def rows_of(batches: list[Batch]) -> list[dict[str, Any]]:
    return [row for batch in batches for row in batch.rows]


def file_source(base: Path, **settings: Any) -> FileConnector:
    return FileConnector("civil_files", settings, base_dir=base, batch_size=settings.pop("batch_size", 100))


def write_workbook(path: Path) -> Path:
    """Two sheets; the first has a merged title cell over its header, IDs as text and one as a number."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "低保"
    sheet["A1"] = "2024年第一季度低保名单"
    sheet.merge_cells("A1:E1")
    sheet.append(["姓名", "身份证号", "联系电话", "认定日期", "金额"])
    sheet.append(["张伟", "11010519491231002X", 13800138000, dt.date(2024, 1, 5), 300])
    sheet.append(["李娜", 6.50102198503071e17, "13500135000", dt.datetime(2024, 2, 1, 9, 30), 412.5])
    sheet.append([None, None, None, None, None])
    sheet.append(["王芳", "110105198001010011", 13700137000, dt.date(2024, 3, 9), 0.1])
    second = book.create_sheet("特困")
    second.append(["姓名", "身份证号"])
    second.append(["赵敏", "110105195001010012"])
    book.save(path)
    return path


@pytest.fixture
def gbk_factory(tmp_path: Path) -> Callable[[], FileConnector]:
    write_csv(tmp_path / "低保.csv", [*PEOPLE, ["坏行", "1"]], "gbk", title="2024年低保名单")
    return lambda: file_source(tmp_path, path="低保.csv", header_row="auto", batch_size=2)


@pytest.fixture
def workbook_factory(tmp_path: Path) -> Callable[[], FileConnector]:
    write_workbook(tmp_path / "救助.xlsx")
    return lambda: file_source(tmp_path, path="救助.xlsx", sheet="*", header_row="auto", batch_size=2)


TestCsvContract = connector_contract_tests("gbk_factory", expected_rows=4)
TestWorkbookContract = connector_contract_tests("workbook_factory", expected_rows=4)


# -- encodings ------------------------------------------------------------------------------------


@pytest.mark.reliability("G5")
@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_chinese_headers_and_values_decode_in_every_common_encoding(tmp_path: Path, encoding: str) -> None:
    write_csv(tmp_path / "people.csv", PEOPLE, encoding)
    connector = file_source(tmp_path, path="people.csv")
    schema = connector.discover()
    assert schema.names == HEADER                       # no BOM left on the first header
    assert schema.detail["encoding"] == {"gbk": "gb18030"}.get(encoding, encoding)
    assert [list(r.values()) for r in rows_of(extract(connector))] == PEOPLE


def test_the_middle_dot_survives_even_when_the_file_says_gb2312(tmp_path: Path) -> None:
    write_csv(tmp_path / "people.csv", PEOPLE[:1], "gb18030")
    for setting in ("auto", "gb2312", "gbk"):
        row = rows_of(extract(file_source(tmp_path, path="people.csv", encoding=setting)))[0]
        assert row["姓名"] == "阿依古丽·买买提"           # U+00B7, not gb2312's U+30FB
        assert "\u30fb" not in row["姓名"]


@pytest.mark.reliability("G5")
def test_undecodable_bytes_reject_only_their_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "people.csv", PEOPLE * 10, "gbk")
    path.write_bytes(path.read_bytes().replace("李娜".encode("gbk"), b"\xff\xfe", 1))
    batches = extract(file_source(tmp_path, path="people.csv"))
    rejected = [r for b in batches for r in b.rejected]
    assert [(r.position, r.reason) for r in rejected] == [("line 4", "invalid bytes for encoding gb18030")]
    assert len(rows_of(batches)) == 29


# -- headers and rows -----------------------------------------------------------------------------


def test_a_title_row_above_the_header_is_skipped(tmp_path: Path) -> None:
    write_csv(tmp_path / "people.csv", PEOPLE, "gbk", title="2024年低保名单（第一季度）")
    connector = file_source(tmp_path, path="people.csv", header_row="auto")
    assert connector.discover().names == HEADER
    assert connector.discover().detail["header_row"] == 2
    batches = extract(connector)
    assert batches[0].positions == ["line 3", "line 4", "line 5"]
    assert file_source(tmp_path, path="people.csv", header_row=2).discover().names == HEADER


def test_id_numbers_and_phones_stay_text(tmp_path: Path) -> None:
    write_csv(tmp_path / "people.csv", PEOPLE, "utf-8")
    rows = rows_of(extract(file_source(tmp_path, path="people.csv")))
    assert rows[1]["身份证号"] == "11010519491231002X"
    assert rows[1]["联系电话"] == "013900139000"         # the leading zero is kept
    assert all(isinstance(v, str) for row in rows for v in row.values())


@pytest.mark.reliability("G5")
def test_a_malformed_line_is_rejected_with_its_line_number(tmp_path: Path) -> None:
    text = (
        "姓名,身份证号,备注\n"
        '张伟,110105194912310021,"两行\n的备注"\n'
        "李娜,多,了,一列\n"
        "王芳,110105198001010011,\n"
    )
    (tmp_path / "people.csv").write_text(text, encoding="utf-8")
    batches = extract(file_source(tmp_path, path="people.csv"))
    rejected = [r for b in batches for r in b.rejected]
    assert [(r.position, r.reason) for r in rejected] == [("line 4", "expected 3 fields, found 4")]
    assert rejected[0].raw is not None and "李娜" in rejected[0].raw
    assert [b.positions for b in batches] == [["line 2", "line 5"]]
    assert rows_of(batches)[0]["备注"] == "两行\n的备注"


def test_trailing_empty_cells_are_tolerated_and_repeated_headers_kept_apart(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("姓名,备注,备注,\n张伟,甲,乙,,\n", encoding="utf-8")
    connector = file_source(tmp_path, path="p.csv")
    assert connector.discover().names == ["姓名", "备注", "备注_2"]
    assert rows_of(extract(connector)) == [{"姓名": "张伟", "备注": "甲", "备注_2": "乙"}]


@pytest.mark.parametrize("delimiter", ["\t", ";", "|"])
def test_the_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    lines = [delimiter.join(HEADER), *(delimiter.join(p) for p in PEOPLE)]
    (tmp_path / "p.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    connector = file_source(tmp_path, path="p.txt")
    assert connector.discover().detail["delimiter"] == delimiter
    assert rows_of(extract(connector))[0]["姓名"] == "阿依古丽·买买提"


@pytest.mark.reliability("G4")
def test_columns_select_and_require(tmp_path: Path) -> None:
    write_csv(tmp_path / "people.csv", PEOPLE, "gbk")
    rows = rows_of(extract(file_source(tmp_path, path="people.csv", columns=["姓名", "民族"])))
    assert rows[0] == {"姓名": "阿依古丽·买买提", "民族": "维吾尔族"}
    with pytest.raises(SourceSchemaChanged, match="'户籍地'"):
        extract(file_source(tmp_path, path="people.csv", columns=["姓名", "户籍地"]))


# -- workbooks ------------------------------------------------------------------------------------


def test_a_workbook_with_a_merged_title_and_two_sheets(tmp_path: Path) -> None:
    write_workbook(tmp_path / "救助.xlsx")
    connector = file_source(tmp_path, path="救助.xlsx", sheet="*", header_row="auto")
    schema = connector.discover()
    assert schema.names[:5] == ["姓名", "身份证号", "联系电话", "认定日期", "金额"]
    assert "_sheet" in schema.names and schema.detail["header_row"] == 2
    batches = extract(connector)
    rows = rows_of(batches)
    assert [(r["姓名"], r["_sheet"]) for r in rows] == [
        ("张伟", "低保"), ("李娜", "低保"), ("王芳", "低保"), ("赵敏", "特困"),
    ]
    assert batches[0].positions == [
        "sheet 低保 row 3", "sheet 低保 row 4", "sheet 低保 row 6", "sheet 特困 row 2",
    ]


def test_workbook_cells_become_the_text_excel_shows(tmp_path: Path) -> None:
    write_workbook(tmp_path / "救助.xlsx")
    rows = rows_of(extract(file_source(tmp_path, path="救助.xlsx", header_row=2)))
    assert rows[0] == {"姓名": "张伟", "身份证号": "11010519491231002X", "联系电话": "13800138000",
                       "认定日期": "2024-01-05", "金额": "300"}
    assert rows[1]["身份证号"] == "6.50102198503071e+17"   # already damaged by Excel: left recognisable
    assert rows[1]["认定日期"] == "2024-02-01T09:30:00" and rows[1]["金额"] == "412.5"
    assert rows[2]["金额"] == "0.1"


@pytest.mark.reliability("G4")
def test_sheets_by_name_and_index(tmp_path: Path) -> None:
    write_workbook(tmp_path / "救助.xlsx")
    by_name = rows_of(extract(file_source(tmp_path, path="救助.xlsx", sheet="特困")))
    by_index = rows_of(extract(file_source(tmp_path, path="救助.xlsx", sheet=1)))
    assert by_name == by_index == [{"姓名": "赵敏", "身份证号": "110105195001010012"}]
    with pytest.raises(SourceSchemaChanged, match="sheet '残疾' not found"):
        extract(file_source(tmp_path, path="救助.xlsx", sheet="残疾"))


@pytest.mark.reliability("G5")
def test_a_corrupt_workbook_is_a_data_error(tmp_path: Path) -> None:
    good = write_workbook(tmp_path / "good.xlsx").read_bytes()
    (tmp_path / "bad.xlsx").write_bytes(good[: len(good) // 2])
    with pytest.raises(SourceDataError, match=r"bad\.xlsx"):
        extract(file_source(tmp_path, path="bad.xlsx"))


# -- JSON -----------------------------------------------------------------------------------------


@pytest.mark.reliability("G5")
def test_json_records_at_a_dotted_path_and_a_non_object_item(tmp_path: Path) -> None:
    document = {"data": {"items": [{"姓名": "张伟", "年龄": 40}, "not a record", {"姓名": "李娜"}]}}
    (tmp_path / "r.json").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    connector = file_source(tmp_path, path="r.json", records_path="data.items")
    assert connector.discover().names == ["姓名", "年龄"]
    batches = extract(connector)
    assert rows_of(batches) == [{"姓名": "张伟", "年龄": 40}, {"姓名": "李娜"}]
    rejected = [(r.position, r.reason) for b in batches for r in b.rejected]
    assert rejected == [("item 2", "item is a str, not an object")]
    with pytest.raises(SourceSchemaChanged, match="records_path"):
        extract(file_source(tmp_path, path="r.json", records_path="data.rows"))


@pytest.mark.reliability("G5")
def test_broken_json_is_a_data_error_and_a_broken_jsonl_line_a_rejected_row(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text('{"data": [{"a": 1}', encoding="utf-8")
    with pytest.raises(SourceDataError, match="not valid JSON"):
        extract(file_source(tmp_path, path="r.json"))
    (tmp_path / "r.jsonl").write_text('{"a": 1}\n{"a": \n\n[1]\n{"a": 2}\n', encoding="utf-8")
    batches = extract(file_source(tmp_path, path="r.jsonl"))
    assert rows_of(batches) == [{"a": 1}, {"a": 2}]
    assert [r.position for b in batches for r in b.rejected] == ["line 2", "line 4"]


# -- whole files ----------------------------------------------------------------------------------


@pytest.mark.reliability("G5")
def test_an_empty_file_gives_no_batches_and_no_error(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    connector = file_source(tmp_path, path="empty.csv")
    assert extract(connector) == []
    assert connector.discover().columns == ()
    (tmp_path / "header_only.csv").write_text("姓名,身份证号\n", encoding="utf-8")
    assert rows_of(extract(file_source(tmp_path, path="header_only.csv"))) == []


@pytest.mark.reliability("G4")
def test_a_missing_file_or_an_empty_glob_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match=r"'missing\.csv' not found"):
        extract(file_source(tmp_path, path="missing.csv"))
    with pytest.raises(SourceUnavailable, match="no file matches"):
        file_source(tmp_path, path="exports/*.csv").discover()


def test_a_glob_reads_every_file_and_names_it_in_positions(tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    write_csv(tmp_path / "exports" / "a.csv", PEOPLE[:2], "gbk")
    write_csv(tmp_path / "exports" / "b.csv", PEOPLE[2:], "utf-8")
    batches = extract(file_source(tmp_path, path="exports/*.csv"))
    assert len(rows_of(batches)) == 3
    assert batches[0].positions == ["exports/a.csv line 2", "exports/a.csv line 3", "exports/b.csv line 2"]


def test_an_unchanged_file_extracts_nothing_and_a_changed_one_everything(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "people.csv", PEOPLE, "gbk")
    last = extract(file_source(tmp_path, path="people.csv"))[-1].watermark
    assert extract(file_source(tmp_path, path="people.csv"), last) == []
    write_csv(path, [*PEOPLE, ["新居民", "110105199001010013", "13600136000", "汉族", "新村1号"]], "gbk")
    assert len(rows_of(extract(file_source(tmp_path, path="people.csv"), last))) == 4


def test_a_run_stopped_half_way_resumes_after_the_last_landed_batch(tmp_path: Path) -> None:
    write_csv(tmp_path / "people.csv", PEOPLE * 4, "gbk")
    batches = cast(Generator[Batch], file_source(tmp_path, path="people.csv", batch_size=5).extract())
    landed = next(batches)
    batches.close()
    assert landed.watermark is not None and landed.watermark.endswith("#5")
    rest = extract(file_source(tmp_path, path="people.csv", batch_size=5), landed.watermark)
    assert len(landed.rows) + len(rows_of(rest)) == 12
    assert rest[0].positions is not None and rest[0].positions[0] == "line 7"
    assert "#" not in (rest[-1].watermark or "#")


def test_wrong_settings_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"settings\.encoding"):
        file_source(tmp_path, path="a.csv", encoding="klingon")
    with pytest.raises(ConfigurationError, match=r"settings\.header_row"):
        file_source(tmp_path, path="a.csv", header_row=0)
    (tmp_path / "a.dat").write_text("x", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"set settings\.format"):
        extract(file_source(tmp_path, path="a.dat"))


@pytest.mark.reliability("G5")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=400), header_row=st.sampled_from([1, 2, "auto"]))
def test_arbitrary_bytes_never_raise_and_every_record_is_accounted(
    tmp_path: Path, content: bytes, header_row: int | str
) -> None:
    (tmp_path / "any.csv").write_bytes(content)
    connector = file_source(tmp_path, path="any.csv", header_row=header_row, batch_size=3)
    connector.discover()
    batches = extract(connector)
    for batch in batches:
        assert batch.positions is not None and len(batch.positions) == len(batch.rows)
        assert all(isinstance(v, str) for row in batch.rows for v in row.values())
    if batches:
        assert extract(connector, batches[-1].watermark) == []


@pytest.mark.reliability("G5")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=12),
       keep=st.floats(0.05, 1))
def test_a_damaged_workbook_reads_or_fails_as_a_data_error(
    tmp_path: Path, flips: list[tuple[float, int]], keep: float
) -> None:
    damaged = bytearray(write_workbook(tmp_path / "good.xlsx").read_bytes())
    for where, value in flips:
        damaged[int(where * (len(damaged) - 1))] = value
    (tmp_path / "bad.xlsx").write_bytes(bytes(damaged[: max(1, int(len(damaged) * keep))]))
    try:
        batches = extract(file_source(tmp_path, path="bad.xlsx", sheet="*", header_row="auto"))
    except (SourceDataError, SourceSchemaChanged):
        return
    assert all(isinstance(v, str) for b in batches for row in b.rows for v in row.values())


@pytest.mark.reliability("F3")
def test_a_recursive_glob_through_a_linked_folder_is_refused_before_reading(
        tmp_path: Path, record_property: pytest.RecordProperty) -> None:
    sources, outside, extra = tmp_path / "sources", tmp_path / "outside", tmp_path / "extra"
    for folder in (sources / "exports", outside, extra):
        folder.mkdir(parents=True)
    write_csv(sources / "exports" / "a.csv", PEOPLE[:1], "utf-8")
    write_csv(outside / "b.csv", PEOPLE[1:], "utf-8")
    (sources / "exports" / "linked").symlink_to(outside, target_is_directory=True)
    connector = FileConnector("civil_files", {"path": "exports/**/*.csv"}, base_dir=sources)
    with pytest.raises(ConnectorError) as caught:
        connector.discover()
    message = str(caught.value)
    record_property("outside files read", int("张伟" in message))
    assert "'exports/**/*.csv' matches 'exports/linked', which leads outside" in message, message
    assert str(sources) in message and "b.csv" not in message   # the linked folder is named, not what is in it
    allowed = FileConnector("civil_files", {"path": "exports/**/*.csv"}, base_dir=sources, source_roots=[outside])
    assert len(rows_of(extract(allowed))) == 3


def _refusal(written: str, base: Path) -> str:
    with pytest.raises(ConnectorError) as caught:
        FileConnector("civil_files", {"path": written}, base_dir=base).discover()
    assert not isinstance(caught.value, SourceUnavailable)
    return str(caught.value).replace(repr(written), "<path>")


@pytest.mark.reliability("F3")
def test_a_refused_glob_says_the_same_whether_or_not_something_is_there(
        tmp_path: Path, record_property: pytest.RecordProperty) -> None:
    """Globbing first and checking the matches after told `/etc/pass*` ("matches '/etc/passwd'") apart from
    `/etc/nonexist*` ("no file matches"): a mapping could list any folder through check or preview."""
    sources, outside = tmp_path / "sources", tmp_path / "outside"
    for folder in (sources / "exports", outside / "folder"):
        folder.mkdir(parents=True)
    write_csv(outside / "secret.csv", PEOPLE, "utf-8")
    pairs = [(f"{outside}/secr*.csv", f"{outside}/nothing*.csv"), ("../outside/*.csv", "../no_such_folder/*.csv"),
             ("../outside/*/*.csv", "../outside/no_such_folder/*/*.csv"), ("/etc/pass*", "/etc/no_such_file_h18*")]
    said = [(_refusal(there, sources), _refusal(absent, sources)) for there, absent in pairs]
    named = sum(name in text for pair in said for text in pair for name in ("secret", "passwd", "folder'"))
    record_property("names outside revealed", named)
    assert named == 0 and all(a == b for a, b in said), said
    assert all("leads outside the folders file sources are read from" in a for a, _ in said)
    # a link inside that points out is refused by its own name, whether its target exists or not
    (sources / "exports" / "b.csv").symlink_to(outside / "secret.csv")
    other = tmp_path / "other"
    (other / "exports").mkdir(parents=True)
    (other / "exports" / "b.csv").symlink_to(outside / "no_such_file.csv")
    to_existing = _refusal("exports/*.csv", sources).replace(str(sources), "<sources>")
    to_missing = _refusal("exports/*.csv", other).replace(str(other), "<sources>")
    assert to_existing == to_missing and "matches 'exports/b.csv', which leads outside" in to_existing
    assert "secret" not in to_existing


def test_dots_after_a_wildcard_are_refused_before_listing(tmp_path: Path) -> None:
    (tmp_path / "sources" / "a").mkdir(parents=True)
    write_csv(tmp_path / "people.csv", PEOPLE, "utf-8")
    with pytest.raises(ConnectorError, match=r"'\*/\.\./\.\./people\.csv' has '\.\.' after a wildcard") as caught:
        file_source(tmp_path / "sources", path="*/../../people.csv").discover()
    assert not isinstance(caught.value, SourceUnavailable)
