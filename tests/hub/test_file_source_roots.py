"""F3 of issue 18: a file source is read only inside HUB_SOURCES_DIR or a folder of HUB_SOURCE_ROOTS.

Each way out (`../`, an absolute path, /etc/passwd, a link in the sources folder, a glob matching a link)
is tried through every command that opens a mapping's or the command line's file: ingest, `hub mappings
check`, `preview` and `suggest`. The refusal names the source, the path as written and the allowed
folders, and nothing of the file's content reaches the terminal or the store; a folder listed in
HUB_SOURCE_ROOTS is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from hub.cli import app
from hub.pipeline import Hub, ingest
from hub.protect import new_key_text
from hub.settings import HubSettings
from hub.store import tables

SECRET = "序号,机密姓名\n1,绝密内容\n"
ROSTER = "序号,姓名\n1,张伟\n2,李娜\n"
runner = CliRunner()


@dataclass
class Place:
    root: Path      # the test's folder
    sources: Path   # HUB_SOURCES_DIR
    extra: Path     # listed in HUB_SOURCE_ROOTS


@dataclass(frozen=True)
class Case:
    name: str
    written: str          # {root} is replaced by the test's folder
    allowed: bool
    leak_marker: str      # text of the file that must never show if it is refused


CASES = [
    Case("parent_traversal", "../outside/secret.csv", False, "机密"),
    Case("absolute_path", "{root}/outside/secret.csv", False, "机密"),
    Case("etc_passwd", "/etc/passwd", False, "root:"),
    Case("link_pointing_out", "link.csv", False, "机密"),
    Case("glob_matching_a_link_out", "exports/*.csv", False, "机密"),
    Case("extra_root", "{root}/extra/roster.csv", True, ""),
]


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Place:
    sources, outside, extra, work = (tmp_path / n for n in ("sources", "outside", "extra", "work"))
    for folder in (sources / "exports", outside, extra, work, tmp_path / "mappings"):
        folder.mkdir(parents=True)
    (outside / "secret.csv").write_text(SECRET, encoding="utf-8")
    (extra / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (sources / "link.csv").symlink_to(outside / "secret.csv")
    (sources / "exports" / "a.csv").write_text(ROSTER, encoding="utf-8")
    (sources / "exports" / "b.csv").symlink_to(outside / "secret.csv")
    for name, value in (("HOME", tmp_path / "home"), ("SOURCES_DIR", sources), ("MAPPINGS_DIR", tmp_path / "mappings"),
                        ("SOURCE_ROOTS", extra), ("SECRET_KEY", new_key_text()),
                        ("DATABASE_URL", f"sqlite:///{tmp_path / 'hub.db'}")):
        monkeypatch.setenv(f"HUB_{name}", str(value))
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.chdir(work)   # from here "../outside/secret.csv" exists too: suggest must refuse it as well
    return Place(tmp_path, sources, extra)


def _mapping(place: Place, written: str) -> Path:
    path = place.root / "mappings" / "probe.yaml"
    path.write_text(f"source: probe\ndepartment: grid\nconnector:\n  kind: file\n  settings: {{path: '{written}'}}\n"
                    "record_id: 序号\nentities:\n  p:\n    type: person\n    fields:\n      name: 姓名\n",
                    encoding="utf-8")
    return path


def _assert_refused(text: str, case: Case, written: str, source: str, place: Place) -> None:
    assert f"source {source!r}" in text, text
    assert repr(written) in text or f"'{Path(written).absolute()}'" in text, text
    assert str(place.sources.resolve()) in text and str(place.extra.resolve()) in text, text
    assert "HUB_SOURCE_ROOTS" in text, text


@pytest.mark.reliability("F3")
@pytest.mark.parametrize("command", ["check", "preview", "suggest"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_onboarding_commands_read_only_inside_the_allowed_folders(
        place: Place, case: Case, command: str, record_property: pytest.RecordProperty) -> None:
    written = case.written.format(root=place.root)
    if command == "suggest":
        result = runner.invoke(app, ["mappings", "suggest", written, "--source-id", "probe", "--out", "-"])
    else:
        result = runner.invoke(app, ["mappings", command, str(_mapping(place, written))])
    output = result.output
    if case.allowed:
        record_property("files in an extra root refused", int(result.exit_code != 0))
        assert result.exit_code == 0, output
        assert "张伟" in output or command != "preview", output
        return
    leaked = int(case.leak_marker in output or result.exit_code == 0)
    record_property("outside files read", leaked)
    assert result.exit_code == 1, output   # README's exit codes: a source that could not be read
    _assert_refused(output, case, written, "onboarding" if command == "suggest" else "probe", place)
    assert case.leak_marker not in output


@pytest.mark.reliability("F3")
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_ingest_reads_only_inside_the_allowed_folders(place: Place, case: Case,
                                                     record_property: pytest.RecordProperty) -> None:
    written = case.written.format(root=place.root)
    _mapping(place, written)
    hub = Hub.open(HubSettings())
    try:
        [result] = ingest(hub, ["probe"])
        with hub.engine.connect() as conn:
            landed = conn.execute(select(func.count()).select_from(tables.raw_record)).scalar_one()
    finally:
        hub.engine.dispose()
    if case.allowed:
        record_property("rows read from the extra root", landed)
        assert result.status == "succeeded" and landed == 2, result
        return
    record_property("outside files read", int(landed > 0 or case.leak_marker in (result.error or "")))
    assert result.status == "failed" and landed == 0, result
    _assert_refused(result.error or "", case, written, "probe", place)
    assert case.leak_marker not in (result.error or "")


# What a refusal says must not depend on what lies outside: otherwise `check` and `preview` list folders.
PROBES = [
    ("{root}/outside/secr*.csv", "{root}/outside/nothing*.csv"),   # a file outside that exists, one that does not
    ("../outside/*.csv", "../no_such_folder/*.csv"),                # a folder outside that exists, one that does not
    ("/etc/pass*", "/etc/no_such_file_h18*"),
]


def _refusal(place: Place, command: str, written: str) -> tuple[int, str]:
    """Exit code and output of one command refusing `written`, the path itself replaced by a marker."""
    if command == "ingest":   # the run's error, as `hub status` shows it (the ingest table folds lines)
        _mapping(place, written)
        hub = Hub.open(HubSettings())
        try:
            [ran] = ingest(hub, ["probe"])
        finally:
            hub.engine.dispose()
        return int(ran.status == "failed"), (ran.error or "").replace(repr(written), "<path>")
    if command == "suggest":
        result = runner.invoke(app, ["mappings", "suggest", written, "--source-id", "probe", "--out", "-"])
    else:
        result = runner.invoke(app, ["mappings", command, str(_mapping(place, written))])
    return result.exit_code, result.output.replace(repr(written), "<path>").replace(written, "<path>")


@pytest.mark.reliability("F3")
@pytest.mark.parametrize("command", ["check", "preview", "suggest", "ingest"])
@pytest.mark.parametrize(("existing", "missing"), PROBES, ids=["file", "folder", "etc"])
def test_a_glob_outside_says_the_same_whatever_is_there(
        place: Place, command: str, existing: str, missing: str, record_property: pytest.RecordProperty) -> None:
    existing, missing = existing.format(root=place.root), missing.format(root=place.root)
    code, said = _refusal(place, command, existing)
    code_missing, said_missing = _refusal(place, command, missing)
    named = [name for name in ("secret.csv", "passwd", "no file matches") if name in said + said_missing]
    record_property("names outside revealed", len(named))
    assert code == code_missing == 1, (said, said_missing)
    assert said == said_missing and not named, (said, said_missing)
    assert "leads outside the folders" in said and "HUB_SOURCE_ROOTS" in said, said
