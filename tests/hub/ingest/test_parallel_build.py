"""One source whose batches are built in worker processes lands exactly what a serial ingest lands."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bench.one_source import generate
from hub.ingest import ingest_source
from hub.mapping import load_mapping
from hub.pipeline import Hub, build_connector, ingest
from hub.protect import Vault, new_key_text
from hub.quality import batch as quality_batch
from hub.settings import HubSettings
from hub.statements.entries import ciphertext_bytes
from hub.store import tables
from tests.conftest import fresh_pg_schema

ROWS = 2400


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one-file GBK export of bench.one_source, with rows that quarantine appended: a blank record id,
    an id repeated with other content, an exact repeat, a birth date and a phone that do not parse."""
    out = tmp_path_factory.mktemp("export")
    path = generate(out, ROWS, seed=3)
    lines = path.read_text(encoding="gbk").splitlines()
    header, first, second = lines[0], lines[1], lines[2]
    cells = first.split(",")
    blank = ",".join(["", *cells[1:]])
    repeated = ",".join([cells[0], "王小明", *cells[2:]])
    bad = second.split(",")
    bad[0], bad[5], bad[6] = "SY650102X0000001", "1990-13-45", "12345"
    lines[1200:1200] = [blank, repeated, first, ",".join(bad)]
    path.write_text("\n".join([header, *lines[1:]]) + "\n", encoding="gbk")
    return out


@contextmanager
def _store(kind: str, tmp_path: Path, name: str) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / f'{name}.db'}"
    else:
        with fresh_pg_schema() as url:
            yield url


def _landed(hub: Hub) -> dict[str, Any]:
    """Everything a run wrote, ciphertexts opened (their nonces differ from run to run), run ids and times left out."""
    vault: Vault = hub.vault
    with hub.engine.connect() as conn:
        raw = sorted((r.id, r.source_record_id, r.content_hash, r.position, vault.decrypt(r.payload))
                     for r in conn.execute(select(tables.raw_record)))
        statements = []
        for r in conn.execute(select(tables.statement)):
            entries = [(*e[:2], vault.decrypt(ciphertext_bytes(e[2])).decode() if e[2] else None, *e[3:])
                       for e in orjson.loads(r.statements)]
            statements.append((r.id, r.source_record_id, r.entity_type, r.entity_ref, r.raw_record_id, entries))
        quarantine = sorted((r.source_record_id or "", r.raw_record_id or "", r.position or "", r.entity_ref or "",
                             r.field or "", r.kind, r.reason) for r in conn.execute(select(tables.quarantine)))
        q = tables.quality_result.c
        quality = sorted((r.suite, r.success, r.evaluated, r.failed, r.rows, r.detail)
                         for r in conn.execute(select(q.suite, q.success, q.evaluated, q.failed, q.rows, q.detail)))
    return {"raw": raw, "statements": sorted(statements), "quarantine": quarantine, "quality": quality}


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_one_source_built_in_two_processes_lands_what_one_lands(export: Path, tmp_path: Path, kind: str,
                                                                caplog: pytest.LogCaptureFixture,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The same rows, quarantine and quality gate outcome; the gate of the parallel run checks the landed
    records in parts (several, here) in the build processes, the serial run's gate here, whole."""
    monkeypatch.setattr(quality_batch, "CHECK_PART", 700)
    key = new_key_text()
    landed, counts = [], []
    for workers in (1, 2):
        with _store(kind, tmp_path, f"w{workers}") as url:
            hub = Hub.open(HubSettings(home=tmp_path / f"home{workers}", database_url=url, secret_key=SecretStr(key),
                                       sources_dir=export, mappings_dir=export / "mappings", batch_size=500))
            caplog.clear()
            with caplog.at_level(logging.INFO, logger="hub.ingest.parallel"), \
                    caplog.at_level(logging.INFO, logger="hub.quality.batch"):
                [result] = ingest(hub, workers=workers)
            assert result.status == "succeeded" and result.reconciled, result.error
            assert result.gate == "published" and result.builders is None
            checked_elsewhere = [r.getMessage() for r in caplog.records
                                 if r.name == "hub.quality.batch" and " checking " in r.getMessage()]
            assert checked_elsewhere == ([f"source gongan_one_source: checking {ROWS + 3} landed records in 4 "
                                          "part(s) in the build processes"] if workers == 2 else [])
            counts.append((result.extracted, result.loaded, result.unchanged, result.quarantined,
                           result.quarantined_values, result.statements, result.batches, result.watermark))
            landed.append(_landed(hub))
            hub.engine.dispose()
        built_elsewhere = [r for r in caplog.records if r.name == "hub.ingest.parallel"]
        assert bool(built_elsewhere) == (workers == 2)   # the serial run builds here; the other in 2 processes
    assert counts[0] == counts[1]
    extracted, loaded, unchanged, quarantined, values_rejected, statements, batches, _ = counts[0]
    assert (extracted, batches) == (ROWS + 4, 5) and unchanged == 1 and quarantined == 2 and values_rejected >= 2
    assert loaded == ROWS + 1 and statements > 20 * ROWS
    assert landed[0] == landed[1]
    reasons = " | ".join(q[-1] for q in landed[1]["quarantine"])
    assert "record id column(s) " in reasons and " blank" in reasons and "duplicate record id" in reasons


class _Crashing:
    """The file connector, dying after a number of batches as a killed process would."""

    kind: ClassVar[str] = "file"

    def __init__(self, inner: Any, after: int):
        self.inner, self.after = inner, after

    def discover(self) -> Any:
        return self.inner.discover()

    def extract(self, watermark: str | None = None) -> Iterator[Any]:
        for n, batch in enumerate(self.inner.extract(watermark)):
            if n == self.after:
                raise KeyboardInterrupt("simulated crash")
            yield batch


def test_a_parallel_run_killed_midway_leaves_whole_batches_and_the_next_run_completes(
        export: Path, tmp_path: Path, store_url: str) -> None:
    hub = Hub.open(HubSettings(home=tmp_path / "home", database_url=store_url, secret_key=SecretStr(new_key_text()),
                               sources_dir=export, mappings_dir=export / "mappings", batch_size=500))
    spec = load_mapping(export / "mappings" / "gongan_one_source.yaml")
    with pytest.raises(KeyboardInterrupt):
        ingest_source(spec, _Crashing(build_connector(spec, hub.settings), after=3), engine=hub.engine,
                      vault=hub.vault, workers=2)
    with hub.engine.connect() as conn:
        landed = len(conn.execute(select(tables.raw_record.c.id)).all())
    assert landed in (500, 1000, 1499)   # whole batches (the third holds the exact repeat), the last maybe not
    [result] = ingest(hub, workers=2)
    assert result.status == "succeeded" and result.reconciled, result.error
    with hub.engine.connect() as conn:
        assert len(conn.execute(select(tables.raw_record.c.id)).all()) == ROWS + 3   # nothing lost, nothing doubled
    hub.engine.dispose()
