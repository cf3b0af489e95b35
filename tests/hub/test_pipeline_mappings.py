"""Mapping files and ingest: a file that does not load fails its own source only (F1), and a draft is
never ingested until an operator marks it ready (F13). On both stores: the failure is a run row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from hub.cli import app
from hub.errors import ConfigurationError, MappingError
from hub.onboard import locate_file, render, suggest_mapping
from hub.pipeline import Hub, ingest, resolve
from hub.settings import HubSettings
from hub.store import tables


class RecordProperty(Protocol):
    def __call__(self, name: str, value: Any) -> None: ...


CSV = "编号,姓名,身份证号\n1,张伟,650102198503071237\n2,李娜,65010219850307100X\n3,王芳,650102198503071273\n"


def mapping(source: str, path: str = "people.csv", extra: str = "") -> str:
    return (f"{extra}source: {source}\ndepartment: civil_affairs\nconnector:\n  kind: file\n"
            f"  settings: {{path: {path}}}\nrecord_id: 编号\nentities:\n  person:\n    type: person\n"
            "    required: [name]\n    fields:\n      name: 姓名\n      resident_id: 身份证号\n")


@pytest.fixture
def hub(settings: HubSettings, tmp_path: Path) -> Iterator[Hub]:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "people.csv").write_text(CSV, encoding="utf-8")
    (tmp_path / "mappings" / "good.yaml").write_text(mapping("good_source"), encoding="utf-8")
    hub = Hub.open(settings.model_copy(update={"mappings_dir": tmp_path / "mappings",
                                               "sources_dir": tmp_path / "sources"}))
    yield hub
    hub.engine.dispose()


def _runs(hub: Hub) -> dict[str, tuple[str, str | None]]:
    with hub.engine.connect() as conn:
        rows = conn.execute(select(tables.run.c.source, tables.run.c.status, tables.run.c.error)
                            .where(tables.run.c.stage == "ingest")).all()
    return {r.source: (r.status, r.error) for r in rows}


def _raw_records(hub: Hub, source: str) -> int:
    with hub.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(tables.raw_record)
                                .where(tables.raw_record.c.source == source)).scalar_one())


@pytest.mark.reliability("F1")
def test_a_broken_mapping_fails_its_source_alone(hub: Hub, record_property: RecordProperty) -> None:
    folder = hub.settings.mappings_dir
    (folder / "unparsable.yaml").write_text(mapping("broken_source").replace("record_id: 编号", "record_id: [编号"),
                                            encoding="utf-8")
    (folder / "typo.yaml").write_text(mapping("typo_source").replace("name: 姓名", "nmae: 姓名"), encoding="utf-8")
    (folder / "nul.yaml").write_text(mapping("nul_source") + '"bad\\0key": 1\n', encoding="utf-8")
    results = {r.source: r for r in ingest(hub)}
    good = results["good_source"]
    record_property("sources stopped by another source's broken mapping", 0 if good.status == "succeeded" else 1)
    assert good.status == "succeeded" and good.loaded == 3 and _raw_records(hub, "good_source") == 3
    assert results["broken_source"].status == results["typo_source"].status == "failed"
    runs = _runs(hub)
    assert runs["typo_source"][0] == "failed" and f"{folder / 'typo.yaml'}:12: " in (runs["typo_source"][1] or "")
    assert "did you mean 'name'" in (runs["typo_source"][1] or "")
    assert runs["broken_source"][0] == "failed" and "not valid YAML" in (runs["broken_source"][1] or "")
    assert runs["nul_source"][0] == "failed" and "bad\\x00key: unknown key" in (runs["nul_source"][1] or "")
    assert results["typo_source"].error == runs["typo_source"][1] and results["typo_source"].run_id
    # the good source alone, by name, while the others are still broken; a broken one by name fails again
    [again] = ingest(hub, ["good_source"])
    assert again.status == "succeeded" and _raw_records(hub, "good_source") == 3
    [typo] = ingest(hub, ["typo_source"])
    assert typo.status == "failed" and "did you mean 'name'" in (typo.error or "")


@pytest.mark.reliability("F1")
def test_a_mapping_whose_yaml_does_not_parse_is_named_by_its_source(
        hub: Hub, record_property: RecordProperty) -> None:
    """The run row named minzheng_dibao.yaml's failure `minzheng_dibao` although it says `source: dibao`,
    and `hub ingest dibao` answered "no mapping for source(s) dibao" instead of the file's line."""
    folder = hub.settings.mappings_dir
    broken = mapping("dibao", extra="# 民政 低保\n").replace("record_id: 编号", "record_id: [编号")
    (folder / "minzheng_dibao.yaml").write_text(broken, encoding="utf-8")
    (folder / "wip_broken.yaml").write_text(mapping("wip_broken", extra="status: draft   # under review\n")
                                            .replace("record_id: 编号", "record_id: [编号"), encoding="utf-8")
    (folder / "odd.yaml").write_text(broken.replace("source: dibao", "source: dibao\nsource: 'other'"),
                                     encoding="utf-8")
    results = {r.source: r for r in ingest(hub)}
    runs = _runs(hub)
    record_property("broken mappings reported under their file name", int("minzheng_dibao" in runs))
    assert "minzheng_dibao" not in runs and runs["dibao"][0] == "failed", runs
    where = f"{folder / 'minzheng_dibao.yaml'}:8: not valid YAML"
    assert where in (runs["dibao"][1] or "") and results["dibao"].status == "failed"
    assert results["wip_broken"].status == "skipped" and "wip_broken" not in runs   # a draft, not a failure
    assert "does not load yet (1 problem(s))" in (results["wip_broken"].error or "")
    assert runs["odd"][0] == "failed"   # two different ids on two lines: not guessed, the file's stem
    assert results["good_source"].status == "succeeded"
    for name in ("dibao", "minzheng_dibao"):   # by its source id or by its file's name: its error either way
        [again] = ingest(hub, [name])
        assert again.source == "dibao" and again.status == "failed" and where in (again.error or ""), again


def test_two_files_with_one_source_id_both_fail(hub: Hub) -> None:
    folder = hub.settings.mappings_dir
    (folder / "twin_a.yaml").write_text(mapping("twin"), encoding="utf-8")
    (folder / "twin_b.yaml").write_text(mapping("twin"), encoding="utf-8")
    results = {r.source: r for r in ingest(hub)}
    assert results["good_source"].status == "succeeded"
    assert results["twin"].status == "failed" and _raw_records(hub, "twin") == 0
    assert f"{folder / 'twin_a.yaml'}:1: source: source id 'twin' is also used by {folder / 'twin_b.yaml'}:1" in (
        results["twin"].error or "")
    assert f"{folder / 'twin_b.yaml'}:1: source" in (results["twin"].error or "")
    assert _runs(hub)["twin"][0] == "failed"


@pytest.mark.reliability("F13")
def test_a_suggested_draft_is_not_ingested(hub: Hub, record_property: RecordProperty) -> None:
    """The trial: a replayed `suggest` saved in mappings/ became one more source that duplicated people."""
    sources = hub.settings.sources_dir
    assert sources is not None
    ref = locate_file(sources / "people.csv", base_dir=sources)
    draft = suggest_mapping(ref, ref.sample(), source_id="people_again")
    path = hub.settings.mappings_dir / "people_again.yaml"
    path.write_text(render(draft), encoding="utf-8")
    results = {r.source: r for r in ingest(hub)}
    record_property("records ingested from a draft", _raw_records(hub, "people_again"))
    assert _raw_records(hub, "people_again") == 0 and "people_again" not in _runs(hub)
    assert results["good_source"].status == "succeeded"
    skipped = results["people_again"]
    assert skipped.status == "skipped" and f"{path} is a draft" in (skipped.error or "")
    assert "status: ready" in (skipped.error or "")
    with pytest.raises(ConfigurationError, match=r"people_again\.yaml is a draft .*`status: ready`"):
        ingest(hub, ["people_again"])
    # the operator marks it ready: from then on it is a source like the others
    path.write_text(path.read_text(encoding="utf-8").replace("status: draft", "status: ready"), encoding="utf-8")
    [ready] = ingest(hub, ["people_again"])
    assert ready.status == "succeeded" and ready.loaded == 3


def test_a_draft_that_does_not_load_yet_is_skipped_not_failed(hub: Hub) -> None:
    folder = hub.settings.mappings_dir
    (folder / "wip.yaml").write_text(mapping("wip", extra="status: draft\n").replace("name: 姓名", "nmae: 姓名"),
                                     encoding="utf-8")
    results = {r.source: r for r in ingest(hub)}
    assert results["wip"].status == "skipped" and "does not load yet (2 problem(s))" in (results["wip"].error or "")
    assert "wip" not in _runs(hub) and results["good_source"].status == "succeeded"


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("mappings", "sources"):
        (tmp_path / name).mkdir()
    (tmp_path / "sources" / "people.csv").write_text(CSV, encoding="utf-8")
    (tmp_path / "mappings" / "good.yaml").write_text(mapping("good_source"), encoding="utf-8")
    (tmp_path / "mappings" / "typo.yaml").write_text(mapping("typo_source").replace("name: 姓名", "nmae: 姓名"),
                                                     encoding="utf-8")
    (tmp_path / "mappings" / "wip.yaml").write_text(mapping("wip", extra="status: draft\n"), encoding="utf-8")
    for name, value in (("HOME", tmp_path / "home"), ("SOURCES_DIR", tmp_path / "sources"),
                        ("MAPPINGS_DIR", tmp_path / "mappings")):
        monkeypatch.setenv(f"HUB_{name}", str(value))
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


@pytest.mark.reliability("F1")
def test_cli_ingest_while_another_mapping_is_broken(cli_home: Path) -> None:
    runner = CliRunner()
    one = runner.invoke(app, ["ingest", "good_source"])
    assert one.exit_code == 0, one.output
    every = runner.invoke(app, ["ingest"])
    assert every.exit_code == 1, every.output
    assert "typo_source" in every.output and f"{cli_home / 'mappings' / 'typo.yaml'}:12" in every.output
    assert "did you mean 'name'" in every.output and "good_source" in every.output
    assert "skipped" in every.output and "wip.yaml is a draft" in every.output
    refused = runner.invoke(app, ["ingest", "wip"])
    assert refused.exit_code == 2 and "wip.yaml is a draft" in refused.output and "status: ready" in refused.output
    status = runner.invoke(app, ["status"])
    assert "typo_source" in status.output and "did you mean 'name'" in status.output
    broken = mapping("dibao").replace("record_id: 编号", "record_id: [编号")
    (cli_home / "mappings" / "minzheng_dibao.yaml").write_text(broken, encoding="utf-8")
    named = runner.invoke(app, ["ingest", "dibao"])
    assert named.exit_code == 1 and "no mapping" not in named.output, named.output
    assert "minzheng_dibao.yaml:7" in named.output and "not valid YAML" in named.output, named.output


def test_resolve_refuses_before_any_work_while_a_mapping_is_broken(hub: Hub) -> None:
    """Fusion ranks every source by its mapping's authority: without one, golden values would change silently."""
    ingest(hub)
    (hub.settings.mappings_dir / "typo.yaml").write_text(mapping("typo_source").replace("name: 姓名", "nmae: 姓名"),
                                                         encoding="utf-8")
    with pytest.raises(MappingError, match=r"typo\.yaml:12: .*did you mean 'name'"):
        resolve(hub)
    with hub.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tables.run)
                            .where(tables.run.c.stage != "ingest")).scalar_one() == 0
