"""`hub export` on the session's fused district (both stores): masked by default, clear only with a reason
that the audit log records, every resolved record linked, CSV readable as UTF-8 (with a BOM for Excel).

It lives beside the API tests to share their fused district (tests/hub/api/conftest.py); it adds only audit
rows, export run rows and files in its own temporary folders.
"""

from __future__ import annotations

import getpass
import io
import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from hub.audit import query
from hub.cli import app
from hub.export import ExportRefused, export, parquet_available, published_version, reason_hash
from hub.export.frames import GOLDEN_COLUMNS
from hub.pipeline import Hub
from hub.settings import HubSettings
from hub.store import runs, tables
from tests.hub.api.conftest import FusedDistrict
from tests.reliability.clear_values import clear_hits, truth_values

REASON = "区民政局核对低保名单 工单 2026-118"


def _env(fused: FusedDistrict, tmp_path: Path) -> dict[str, str]:
    s = fused.settings
    assert s.secret_key is not None
    return {"HUB_HOME": str(s.home), "HUB_DATABASE_URL": s.database_url,
            "HUB_SECRET_KEY": s.secret_key.get_secret_value(), "HUB_MAPPINGS_DIR": str(s.mappings_dir),
            "HUB_SOURCES_DIR": str(s.sources_dir)}


def _hub_export(fused: FusedDistrict, tmp_path: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, ["export", *args], env=_env(fused, tmp_path))
    assert result.exit_code == code, result.output
    return result.output


def _file_bytes(folder: Path) -> list[bytes]:
    return [path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()]


def test_masked_by_default_links_cover_every_linked_record(fused: FusedDistrict, tmp_path: Path) -> None:
    out = tmp_path / "masked"
    printed = _hub_export(fused, tmp_path, str(out))
    needles = truth_values(fused.manifest.truth_dir)
    assert needles and not clear_hits(needles, [*_file_bytes(out), printed])
    assert sorted(p.name for p in out.iterdir()) == ["conflicts.csv", "golden.csv", "links.csv", "manifest.json"]
    assert all(p.stat().st_mode & 0o077 == 0 for p in out.iterdir())       # private: 0600 files
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["values"] == "masked" and manifest["reason_sha256"] is None
    with fused.hub.engine.connect() as conn:
        linked = conn.execute(sa.select(sa.func.count()).select_from(tables.record_link)).scalar_one()
        per_type = dict(conn.execute(sa.select(tables.record_link.c.entity_type, sa.func.count())
                                     .group_by(tables.record_link.c.entity_type)).all())
    links = pd.read_csv(out / "links.csv", dtype=str, encoding="utf-8")
    assert len(links) == linked == manifest["tables"]["links"]["rows"] and linked > 0
    assert links.groupby("entity_type").size().to_dict() == per_type
    assert links["canonical_id"].notna().all() and links["record_id"].notna().all()
    golden = pd.read_csv(out / "golden.csv", dtype=str, keep_default_na=False)
    ids = golden[(golden["entity_type"] == "person") & (golden["attribute"] == "resident_id")]
    assert len(ids) > 0 and set(ids["shown"]) == {"masked"} and ids["value"].str.contains(r"\*{8}").all()
    assert set(links.loc[links["entity_type"] == "person", "canonical_id"]) >= set(ids["canonical_id"])
    assert manifest["tables"]["golden"]["rows"] == len(golden)
    assert manifest["version"] == fused.hub.engine.connect().execute(
        sa.select(sa.func.max(tables.publication.c.version))).scalar_one()
    conflicts = pd.read_csv(out / "conflicts.csv", dtype=str, keep_default_na=False)
    with fused.hub.engine.connect() as conn:
        k = tables.conflict.c
        disputed = set(conn.execute(sa.select(k.entity_id, k.attribute)).tuples())
    assert disputed and set(zip(conflicts["canonical_id"], conflicts["attribute"], strict=True)) == disputed
    assert (conflicts.groupby(["canonical_id", "attribute"]).size() >= 2).all()   # a dispute has two sides
    assert set(conflicts["chosen"]) == {"True", "False"}
    assert "CLEAR" not in printed and "masked" in printed


def test_clear_needs_a_reason_and_is_audited(fused: FusedDistrict, tmp_path: Path) -> None:
    refused = tmp_path / "refused"
    printed = _hub_export(fused, tmp_path, str(refused), "--clear", code=2)
    assert "reason" in printed and not refused.exists()
    out = tmp_path / "clear"
    printed = _hub_export(fused, tmp_path, str(out), "--clear", "--reason", REASON)
    needles = truth_values(fused.manifest.truth_dir)
    assert clear_hits(needles, _file_bytes(out))                 # the files hold clear values …
    assert not clear_hits(needles, [printed]) and REASON not in printed   # … the console neither them nor the reason
    manifest_text = (out / "manifest.json").read_text(encoding="utf-8")
    manifest = json.loads(manifest_text)
    assert manifest["values"] == "clear" and manifest["reason_sha256"] == reason_hash(REASON)
    assert REASON not in manifest_text
    rows = query(fused.hub.engine, actor=getpass.getuser(), limit=50).rows
    row = next(r for r in rows if r.id == manifest["audit_row"])
    assert row.action == "hub export" and row.role == "operator" and row.purpose == REASON
    assert row.detail is not None and row.detail["reason"] == REASON and row.detail["values"] == "clear"
    assert row.seq is not None                                   # sealed into the chain before the files existed
    with fused.hub.engine.connect() as conn:
        run = conn.execute(sa.select(tables.run).where(tables.run.c.id == manifest["run_id"])).mappings().one()
    assert run["stage"] == "export" and run["status"] == "succeeded"
    assert reason_hash(REASON) in run["watermark_after"] and f"audit row {row.id}" in run["watermark_after"]


def test_csv_is_utf8_and_excel_gets_a_bom(fused: FusedDistrict, tmp_path: Path) -> None:
    plain, excel = tmp_path / "plain", tmp_path / "excel"
    _hub_export(fused, tmp_path, str(plain), "--table", "golden")
    _hub_export(fused, tmp_path, str(excel), "--table", "golden", "--excel")
    raw, marked = (plain / "golden.csv").read_bytes(), (excel / "golden.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and marked.startswith(b"\xef\xbb\xbf")
    assert marked[3:] == raw                                     # the same text, one mark in front
    frame = pd.read_csv(io.BytesIO(marked), encoding="utf-8-sig", dtype=str)
    assert tuple(frame.columns) == GOLDEN_COLUMNS                # the mark is not read into the first name
    assert frame["value"].dropna().str.contains(r"[\u4e00-\u9fff]").any()   # Chinese text survives
    assert not (excel / "links.csv").exists()


def test_parquet_when_pyarrow_is_there_else_a_clear_error(fused: FusedDistrict, tmp_path: Path) -> None:
    out = tmp_path / "parquet"
    if not parquet_available():
        printed = _hub_export(fused, tmp_path, str(out), "--format", "parquet", code=2)
        assert "pyarrow" in printed and not out.exists()
        return
    _hub_export(fused, tmp_path, str(out), "--format", "parquet")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for name in ("links", "golden", "conflicts"):
        frame = pd.read_parquet(out / f"{name}.parquet")
        assert len(frame) == manifest["tables"][name]["rows"] and list(frame.columns) == \
            manifest["tables"][name]["columns"]
    needles = truth_values(fused.manifest.truth_dir)
    assert not clear_hits(needles, [pd.read_parquet(out / "golden.parquet").to_csv()])


def _run(hub: Hub, stage: str, changed: int) -> str:
    run = runs.start_run(hub.engine, stage, "all")
    with hub.engine.begin() as conn:
        runs.finish_run(conn, run.id, "succeeded", loaded=changed)
    return run.id


def test_refused_unless_the_publication_holds_the_latest_resolution(settings: HubSettings, tmp_path: Path) -> None:
    """Nothing published; then published; then a resolution that changed links after it (its links and
    conflicts would describe another state than the published golden values): only the middle one exports."""
    hub = Hub.open(settings)
    try:
        with pytest.raises(ExportRefused, match="hub resolve"):
            export(hub.engine, hub.vault, tmp_path / "none", actor="tester")
        _run(hub, "fuse", 3)
        publish_run = _run(hub, "publish", 0)
        with hub.engine.begin() as conn:
            conn.execute(tables.publication.insert().values(version=1, run_id=publish_run, state="published",
                                                            started_at=runs.now(), published_at=runs.now()))
        _run(hub, "resolve", 0)                           # a resolution that changed nothing: still current
        assert published_version(hub.engine) == 1
        result = export(hub.engine, hub.vault, tmp_path / "empty", actor="tester")
        assert result.rows == {"links": 0, "golden": 0, "conflicts": 0}
        assert (tmp_path / "empty" / "links.csv").read_text(encoding="utf-8").startswith("entity_type,source,")
        _run(hub, "resolve", 5)
        with pytest.raises(ExportRefused, match="changed links"):
            export(hub.engine, hub.vault, tmp_path / "stale", actor="tester")
    finally:
        hub.engine.dispose()
    assert not (tmp_path / "none").exists() and not (tmp_path / "stale").exists()
