"""`hub mappings suggest | check | preview` from the command line, on a file source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hub.cli import app

CSV = """\
某某社区残疾人名册
序号,姓名,身份证号,性别,联系电话,残疾等级,人员状态
1,张伟,650102198503071237,1,13800138000,2,正常
2,李娜,65010219850307100X,2,13900139000,4,正常
3,王芳,650102198503071273,2,13700137000,1,停发
"""
runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "sources").mkdir()
    (tmp_path / "mappings").mkdir()
    (tmp_path / "sources" / "名册.csv").write_text(CSV, encoding="gb18030")
    for name, value in (("HOME", tmp_path / "home"), ("SOURCES_DIR", tmp_path / "sources"),
                        ("MAPPINGS_DIR", tmp_path / "mappings"), ("COLUMNS", "160")):
        monkeypatch.setenv(f"HUB_{name}" if name != "COLUMNS" else name, str(value))
    return tmp_path


def test_suggest_check_preview(home: Path) -> None:
    result = runner.invoke(app, ["mappings", "suggest", "名册.csv", "--source-id", "canlian_test",
                                 "--district-code", "650102"])
    assert result.exit_code == 0, result.output
    path = home / "mappings" / "canlian_test.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=") and "mapping.schema.json" in text.splitlines()[0]
    assert "resident_id: 身份证号" in text and "department: disabled_persons_federation" in text
    assert "draft written to" in result.output and "person.resident_id" in result.output
    again = runner.invoke(app, ["mappings", "suggest", "名册.csv", "--source-id", "canlian_test"])
    assert again.exit_code == 2 and "--force" in again.output
    checked = runner.invoke(app, ["mappings", "check", str(path)])
    assert checked.exit_code == 0 and "ok: 3 rows sampled" in checked.output, checked.output
    shown = runner.invoke(app, ["mappings", "preview", str(path), "--rows", "2"])
    assert shown.exit_code == 0 and "2 rows: 2 would load" in shown.output, shown.output
    assert "650102198503071237" not in shown.output and "650102********1237" in shown.output


def test_suggest_to_standard_output(home: Path) -> None:
    result = runner.invoke(app, ["mappings", "suggest", str(home / "sources" / "名册.csv"), "--out", "-"])
    assert result.exit_code == 0 and result.output.startswith("# yaml-language-server")
    assert not list((home / "mappings").iterdir())


@pytest.mark.reliability("F9")
def test_check_fails_with_file_line_and_cause(home: Path, record_property: Any) -> None:
    """Exit code 1 on errors, as the README says, a file that does not load included (it was 2)."""
    path = home / "mappings" / "bad.yaml"
    path.write_text("source: t\ndepartment: grid\nconnector: {kind: file, settings: {path: 名册.csv, header_row: 2}}\n"
                    "record_id: 序号\nentities:\n  p:\n    type: person\n    fields:\n      nmae: 姓名\n",
                    encoding="utf-8")
    result = runner.invoke(app, ["mappings", "check", str(path)])
    record_property("exit code of check on a file that does not load", result.exit_code)
    assert result.exit_code == 1 and f"{path}:9" in result.output and "did you mean 'name'" in result.output
    path.write_text(path.read_text(encoding="utf-8").replace("nmae: 姓名", "name: 名字"), encoding="utf-8")
    result = runner.invoke(app, ["mappings", "check", str(path)])
    assert result.exit_code == 1 and f"{path}:9" in result.output and "did you mean '姓名'" in result.output
    path.write_text(path.read_text(encoding="utf-8").replace(", header_row: 2", ""), encoding="utf-8")
    result = runner.invoke(app, ["mappings", "check", str(path)])
    assert result.exit_code == 1 and "header_row: auto" in result.output
