"""A record id must tell the rows of an extract apart (issue 18, finding 2): `check` fails when it
repeats in the sample (unless the mapping declares a change log), and `suggest` never proposes a
column, or set of columns, that repeats."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.mapping.loader import parse_mapping
from hub.onboard import check_mapping, locate_file, mapping_sample, suggest_mapping
from hub.onboard.suggest import CHOOSE_RECORD_ID
from hub.settings import HubSettings

# one row per person and year: 编号 is the person's number, so it repeats; only 编号 + 年度 tell rows apart
CSV = """\
编号,姓名,身份证号,年度,补贴金额,变更时间
1,张伟,650102198503071237,2023,300,2023-01-05
1,张伟,650102198503071237,2024,320,2024-01-05
2,李娜,65010219850307100X,2023,300,2023-01-05
2,李娜,65010219850307100X,2024,300,2024-01-05
3,王芳,11010519491231002X,2024,280,2024-01-05
"""
MAPPING = """\
source: subsidy
department: civil_affairs
connector: {kind: file, settings: {path: subsidy.csv}}
record_id: 编号
entities:
  person:
    type: person
    fields:
      name: 姓名
      resident_id: 身份证号
"""
runner = CliRunner()


@pytest.fixture
def sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "subsidy.csv").write_text(CSV, encoding="utf-8")
    for name, value in (("HOME", tmp_path / "home"), ("SOURCES_DIR", tmp_path), ("MAPPINGS_DIR", tmp_path)):
        monkeypatch.setenv(f"HUB_{name}", str(value))
    return tmp_path


@pytest.mark.reliability("F2")
def test_check_fails_on_a_record_id_that_repeats(sources: Path, record_property: Callable[[str, object], None]) -> None:
    path = sources / "subsidy.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    result = runner.invoke(app, ["mappings", "check", str(path)])
    record_property("exit code on a repeating record id", result.exit_code)
    assert result.exit_code == 1, result.output
    assert f"{path}:4: error: record_id: the record id repeats in 2 sampled row(s)" in " ".join(result.output.split())
    assert "record_versions" in result.output
    path.write_text(MAPPING.replace("record_id: 编号", "record_id: [编号, 年度]"), encoding="utf-8")
    assert runner.invoke(app, ["mappings", "check", str(path)]).exit_code == 0


def test_a_change_log_may_repeat_ids_but_its_ordering_column_must_exist(sources: Path) -> None:
    path = sources / "subsidy.yaml"
    path.write_text(MAPPING + "record_versions: {ordered_by: 变更时间}\n", encoding="utf-8")
    spec, lines = parse_mapping(path)
    assert spec.columns_read >= {"编号", "变更时间"}
    assert check_mapping(spec, lines, mapping_sample(spec, HubSettings()), file=str(path)) == []
    path.write_text(MAPPING + "record_versions: {ordered_by: 更新时间}\n", encoding="utf-8")
    spec, lines = parse_mapping(path)
    [finding] = check_mapping(spec, lines, mapping_sample(spec, HubSettings()), file=str(path))
    assert finding.level == "error" and finding.line == 11 and "did you mean '变更时间'" in finding.message


def test_a_record_id_cannot_order_its_own_versions(sources: Path) -> None:
    path = sources / "subsidy.yaml"
    path.write_text(MAPPING + "record_versions: {ordered_by: 编号}\n", encoding="utf-8")
    result = runner.invoke(app, ["mappings", "check", str(path)])
    assert result.exit_code == 1 and "is a record id column" in result.output


@pytest.mark.reliability("F2")
def test_suggest_never_chooses_a_column_that_repeats(sources: Path) -> None:
    ref = locate_file(sources / "subsidy.csv", base_dir=sources)
    sample = ref.sample(100)
    draft = suggest_mapping(ref, sample)
    assert draft.record_id == ["编号", "年度"]            # 编号 alone repeats; 身份证号 is unique but personal
    assert "together" in draft.notes["record_id"]


def test_suggest_asks_for_a_choice_when_rows_repeat_whole(sources: Path) -> None:
    (sources / "subsidy.csv").write_text(CSV + CSV.splitlines()[-1] + "\n", encoding="utf-8")
    ref = locate_file(sources / "subsidy.csv", base_dir=sources)
    draft = suggest_mapping(ref, ref.sample(100))
    assert draft.record_id == [CHOOSE_RECORD_ID] and "NO column" in draft.notes["record_id"]


def test_check_warns_of_versions_it_cannot_order(sources: Path) -> None:
    same_time = "3,王芳,11010519491231002X,2025,290,2024-01-05\n"   # line 6's time, other content: quarantined
    line_6_again = "3,王芳,11010519491231002X,2024,280,2024-01-05\n"   # an exact repeat: unchanged
    (sources / "subsidy.csv").write_text(CSV + same_time + line_6_again, encoding="utf-8")
    path = sources / "subsidy.yaml"
    path.write_text(MAPPING + "record_versions: {ordered_by: 变更时间}\n", encoding="utf-8")
    spec, lines = parse_mapping(path)
    [finding] = check_mapping(spec, lines, mapping_sample(spec, HubSettings()), file=str(path))
    assert finding.level == "warning" and finding.line == 11
    assert finding.message.startswith("1 sampled row(s) repeat a record id with a blank 变更时间 or the same 变更时间")
