"""G11: after ingest and resolution of a whole district, a copy of the store reveals no clear
resident ID or phone of the district's truth.

What an attacker with a backup holds: on PostgreSQL the output of pg_dump of the store's schema, on
SQLite the file's bytes together with its write-ahead log. The resolution's state files beside the
store (HUB_HOME/state) are searched too: G18 promises no state outside the database except the key.
tests/test_end_to_end.py holds the same search after ingest only.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa

from hub.demo import running_property_api, write_connections_file
from hub.pipeline import Hub, ingest, resolve
from hub.protect import new_key_text
from hub.settings import HubSettings
from hub.store import tables
from tests.conftest import MakeDistrict
from tests.reliability.clear_values import clear_hits, truth_values


def _dump(hub: Hub, out: Path) -> bytes:
    url = hub.engine.url
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        store = Path(url.database)
        return b"".join(p.read_bytes() for p in sorted(store.parent.glob(store.name + "*")))   # file, -wal, -shm
    with hub.engine.connect() as conn:
        schema = conn.exec_driver_sql("show search_path").scalar_one()
    subprocess.run(["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "-n", schema, "-f", str(out), "test"],
                   check=True)
    return out.read_bytes()


@pytest.mark.slow
@pytest.mark.reliability("G11")
@pytest.mark.parametrize("crypto_profile", ["standard", "gm"])
def test_a_dump_after_ingest_and_resolution_holds_no_clear_id_or_phone(
        store_url: str, tmp_path: Path, make_district: MakeDistrict, crypto_profile: str,
        record_property: Callable[[str, object], None]) -> None:
    """Also the whole pipeline (ingest, resolution, fusion) under each crypto profile (HUB_CRYPTO_PROFILE)."""
    manifest = make_district(tmp_path / "district", 400, seed=17)
    needles = truth_values(manifest.truth_dir)
    with running_property_api(manifest.property_db, manifest.property_token) as base_url:
        settings = HubSettings(home=tmp_path / "home", database_url=store_url, sources_dir=manifest.out_dir,
                               secret_key=new_key_text(), mappings_dir=Path(__file__).parents[2] / "mappings",
                               crypto_profile=crypto_profile)
        assert settings.connections_file is not None
        write_connections_file(manifest, settings.connections_file, port=urlparse(base_url).port or 0)
        hub = Hub.open(settings)
        results = ingest(hub)
    report = resolve(hub)
    hub.engine.dispose()        # SQLite: the write-ahead log is kept beside the file, and searched with it
    dump = _dump(hub, tmp_path / "dump.sql")
    state = [p.read_bytes() for p in (settings.home / "state").rglob("*") if p.is_file()]
    in_dump, in_state = clear_hits(needles, [dump]), clear_hits(needles, state)
    record_property("clear values found", len(in_dump) + len(in_state))
    record_property("max values searched", len(needles))
    record_property("MB searched", round((len(dump) + sum(map(len, state))) / 1e6, 1))
    assert all(r.status == "succeeded" for r in results), [(r.source, r.error) for r in results]
    assert sum(run.links_written for run in report.runs) > 0 and len(dump) > 500_000
    assert hub.vault.profile.name == crypto_profile
    with hub.engine.connect() as conn:
        golden = conn.execute(sa.select(tables.golden_value.c.value_enc, tables.golden_value.c.token).where(
            tables.golden_value.c.attribute == "resident_id")).all()
    assert len(golden) > 100 and all(hub.vault.token(hub.vault.decrypt_text(bytes(enc))) == token
                                     for enc, token in golden)   # fused values open and keep their tokens
    assert clear_hits({"13800138000"}, [b"\x00x+86 138-0013-8000\x01"]) == {"13800138000"}   # the search works
    assert len(needles) > 500
    assert in_dump == set(), f"{len(in_dump)} clear values in the dump"
    assert in_state == set(), f"{len(in_state)} clear values in the resolution's state files"
