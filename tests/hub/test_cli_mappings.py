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


AWKWARD_CSV = (
    '序号,姓名,"备注\n说明: #1 :x:",身份证号\n'
    + "".join(f'{i},张{"伟娜芳"[i % 3]},"第一行\n第二行: {"很长的说明 " * 40}# 不是注释",650102198503071237\n'
              for i in range(1, 6))
)


@pytest.mark.reliability("F8")
def test_suggest_writes_the_same_valid_draft_to_a_file_and_to_standard_output(
        home: Path, monkeypatch: pytest.MonkeyPatch, record_property: Any) -> None:
    """A narrow terminal, a header and values holding line breaks, colons, `#` and an emoji code: the draft
    printed with `--out -` is byte for byte the file `suggest` writes, and it loads."""
    from hub.mapping.loader import parse_mapping

    monkeypatch.setenv("COLUMNS", "80")
    (home / "sources" / "备注.csv").write_text(AWKWARD_CSV, encoding="utf-8")
    printed = runner.invoke(app, ["mappings", "suggest", "备注.csv", "--source-id", "remarks", "--out", "-"])
    assert printed.exit_code == 0, printed.output
    written = runner.invoke(app, ["mappings", "suggest", "备注.csv", "--source-id", "remarks"])
    assert written.exit_code == 0, written.output
    path = home / "mappings" / "remarks.yaml"
    same = printed.stdout_bytes == path.read_bytes()
    record_property("bytes differing between file and standard output", 0 if same else 1)
    assert same
    spec, _ = parse_mapping(path)
    header = "备注\n说明: #1 :x:"
    columns = {c for e in spec.entities.values() for f in e.fields.values() for c in f.source_columns}
    assert header in columns or '#   "备注\\n说明: #1 :x:": ' in path.read_text(encoding="utf-8")
    assert spec.status == "draft"


@pytest.mark.reliability("F13")
def test_check_accepts_a_draft_and_says_it_is_one(home: Path) -> None:
    assert runner.invoke(app, ["mappings", "suggest", "名册.csv", "--source-id", "canlian_test"]).exit_code == 0
    path = home / "mappings" / "canlian_test.yaml"
    checked = runner.invoke(app, ["mappings", "check", str(path)])
    assert checked.exit_code == 0, checked.output
    assert "is a draft (status: draft)" in checked.output and "status: ready" in checked.output
    path.write_text(path.read_text(encoding="utf-8").replace("status: draft", "status: ready"), encoding="utf-8")
    checked = runner.invoke(app, ["mappings", "check", str(path)])
    assert checked.exit_code == 0 and "is a draft" not in checked.output


@pytest.mark.reliability("F1")
def test_check_fails_a_file_whose_source_id_another_file_uses(home: Path) -> None:
    assert runner.invoke(app, ["mappings", "suggest", "名册.csv", "--source-id", "canlian_test"]).exit_code == 0
    first = home / "mappings" / "canlian_test.yaml"
    text = first.read_text(encoding="utf-8").replace("status: draft", "status: ready")
    first.write_text(text, encoding="utf-8")
    second = home / "mappings" / "canlian_copy.yaml"
    second.write_text(text, encoding="utf-8")
    checked = runner.invoke(app, ["mappings", "check", str(second)])
    assert checked.exit_code == 1 and f"source id 'canlian_test' is also used by {first}" in checked.output
