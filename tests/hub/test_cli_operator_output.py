"""What an operator reads: source text printed as it is (F7) and counts labelled for what they count (F14)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import create_engine
from typer.testing import CliRunner, Result

from hub.cli import app
from hub.protect import new_key_text
from hub.status import source_status

MARKUP = ("[/bold]", "[red]x", ":x:")
CSV = """\
编号,姓名,[/bold],[red]x,:x:,性别,联系电话
[/bold],张伟,[red]x,:x:,[/bold],2,13800138000
2,[red]x,:x:,[/bold],[red]x,1,[red]x
3,:x:,:x:,[red]x,:x:,女,:x:
"""
MAPPING = """\
source: {source}
department: grid
connector: {{kind: file, settings: {{path: "{file}"}}}}
record_id: 编号
entities:
  person:
    type: person
    required: [name]
    fields:
      name: 姓名
      gender: 性别
      phone: 联系电话
      {extra}
"""
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, store_url: str) -> dict[str, str]:
    for folder in ("sources", "mappings"):
        (tmp_path / folder).mkdir()
    (tmp_path / "sources" / "markup.csv").write_text(CSV, encoding="utf-8")
    return {"HUB_HOME": str(tmp_path / "home"), "HUB_SOURCES_DIR": str(tmp_path / "sources"),
            "HUB_MAPPINGS_DIR": str(tmp_path / "mappings"), "HUB_DATABASE_URL": store_url,
            "HUB_SECRET_KEY": new_key_text()}


def write_mapping(env: dict[str, str], source: str, file: str = "markup.csv", extra: str = "") -> Path:
    path = Path(env["HUB_MAPPINGS_DIR"]) / f"{source}.yaml"
    path.write_text(MAPPING.format(source=source, file=file, extra=extra), encoding="utf-8")
    return path


def hub(env: dict[str, str], *args: str) -> Result:
    return runner.invoke(app, list(args), env=env)


def printed_as_is(result: Result, *texts: str) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "❌" not in result.output                      # `:x:` is not an emoji
    for text in texts:
        assert text in result.output, (text, result.output)


@pytest.mark.reliability("F7")
def test_source_text_is_printed_as_it_is_never_as_markup(env: dict[str, str], record_property: Any) -> None:
    suggested = hub(env, "mappings", "suggest", "markup.csv", "--source-id", "drafted", "--out",
                    str(Path(env["HUB_HOME"]) / "drafted.yaml"))
    printed_as_is(suggested, *MARKUP)
    assert suggested.exit_code == 0
    typo = write_mapping(env, "typo", extra='remark_missing: {column: "[/bold]y"}'.replace("remark_missing",
                                                                                         "ethnicity"))
    checked = hub(env, "mappings", "check", str(typo))
    printed_as_is(checked, "'[/bold]y'")                  # the finding names the column as it is written
    assert checked.exit_code == 1
    typo.unlink()
    good = write_mapping(env, "markup_source", extra='ethnicity: "[red]x"')
    previewed = hub(env, "mappings", "preview", str(good), "--rows", "3")
    printed_as_is(previewed, "record [/bold]", "[red]x", ":x:")
    assert previewed.exit_code == 0
    write_mapping(env, "missing_file", file="[/bold]:x:.csv")
    ingested = hub(env, "ingest")
    printed_as_is(ingested, "'[/bold]:x:.csv'", "markup_source")
    assert ingested.exit_code == 1                        # one source failed, the other landed
    status = hub(env, "status")
    printed_as_is(status, "missing_file", "'[/bold]:x:.csv'")
    record_property("crashes on markup in source text", 0)


@pytest.mark.reliability("F14")
def test_counts_say_what_they_count_and_a_no_op_run_keeps_the_store_totals(
        env: dict[str, str], record_property: Any) -> None:
    """F14a: "quarantined 0" printed beside a list of reasons that were value rejections; F14b: after a
    run that found nothing new, `hub status` showed "loaded 0" and nothing of what the store holds."""
    write_mapping(env, "values_only")
    first = hub(env, "ingest")
    assert first.exit_code == 0, first.output
    assert "records quarantined" in first.output and "values rejected" in first.output
    again = hub(env, "ingest")
    assert again.exit_code == 0, again.output
    status = hub(env, "status")
    assert status.exit_code == 0, status.output
    out = status.output
    assert "succeeded (nothing new)" in out and "unchanged" in out                 # what the last run did
    assert "in the store" in out and "raw records" in out and "new records last loaded" in out  # the store's
    # the first run rejected two phones and two names, and so quarantined the two records whose only entity
    # lost its name: each group is labelled with its own total, never a record count beside value reasons
    assert re.search(r"values_only values rejected in the store \(4\), commonest reasons: .*phone: ", out), out
    assert re.search(r"values_only records quarantined in the store \(2\), commonest reasons: no entity", out)
    assert "quarantine reasons" not in out
    engine = create_engine(env["HUB_DATABASE_URL"])
    [row] = source_status(engine)
    engine.dispose()
    record_property("records shown in the store after a no-op run", row.raw_records_total)
    assert (row.extracted, row.loaded, row.raw_records_total) == (0, 0, 3)
    assert row.rejected_total == {"record": 2, "entity": 2, "value": 4}


@pytest.mark.reliability("F14")
def test_preview_never_cuts_a_field_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         record_property: Any) -> None:
    """F14e: at 80 columns preview printed `disability.sta…`."""
    import hub.cli_mappings

    address = "新疆乌鲁木齐市天山区和平北路明珠花园" * 4
    (tmp_path / "long.csv").write_text(f"编号,姓名,性别,住址\n1,张伟,2,{address}\n", encoding="utf-8")
    mapping = tmp_path / "long.yaml"
    mapping.write_text(MAPPING.format(source="long", file="long.csv", extra="residence_address: 住址")
                       .replace("  person:", "  disability_person:").replace("      phone: 联系电话\n", ""),
                       encoding="utf-8")
    narrow = Console(width=80, record=True, emoji=False)
    monkeypatch.setattr(hub.cli_mappings, "console", narrow)
    result = runner.invoke(app, ["mappings", "preview", str(mapping)],
                           env={"HUB_HOME": str(tmp_path / "home"), "HUB_SOURCES_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    text = narrow.export_text()
    names = [f"disability_person.{a}" for a in ("name", "gender", "residence_address")]
    cut = [name for name in names if name not in text]
    record_property("field names cut", len(cut))
    assert not cut and "…" not in text, text
