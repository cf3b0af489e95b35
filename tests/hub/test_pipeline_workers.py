"""Sources ingested in parallel worker processes land exactly what a sequential run lands."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.pipeline import Hub, ingest
from hub.protect import new_key_text
from hub.settings import HubSettings
from hub.store import tables
from tests.conftest import MakeDistrict

SQL_AND_FILE_SOURCES = ["gongan_population", "renshe_insured", "minzheng_allowance", "minzheng_assistance"]


@pytest.mark.slow
def test_parallel_workers_land_the_same_as_sequential(tmp_path: Path, make_district: MakeDistrict,
                                                      store_url: str) -> None:
    manifest = make_district(tmp_path / "district", 1500, seed=3)
    connections = tmp_path / "connections.yaml"
    connections.write_text(f"gongan: {manifest.gongan_url}\nrenshe: {manifest.renshe_url}\n", encoding="utf-8")
    key = new_key_text()
    counts = []
    for name, workers, url in (("seq", 1, f"sqlite:///{tmp_path / 'seq.db'}"), ("par", 2, store_url)):
        hub = Hub.open(HubSettings(home=tmp_path / name, database_url=url, secret_key=key,
                                   sources_dir=manifest.out_dir, connections_file=connections,
                                   mappings_dir=Path(__file__).parents[2] / "mappings"))
        results = ingest(hub, SQL_AND_FILE_SOURCES, workers=workers)
        assert all(r.status == "succeeded" and r.reconciled for r in results), [r.error for r in results]
        with hub.engine.connect() as conn:
            counts.append(tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()
                                for t in (tables.raw_record, tables.statement, tables.quarantine)))
        hub.engine.dispose()
    assert counts[0] == counts[1]
