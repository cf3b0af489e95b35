"""G3: an ingest process killed with SIGKILL at a random moment loses, doubles and half-lands nothing.

The ingest runs in a forked child (the test process has already paid for the imports, so a trial
costs the ingest alone), on a real SQL source of a generated district, with small batches so that a
kill lands inside a run. Each trial starts from an empty store, kills the child after a random delay
drawn over the length of a whole uninterrupted ingest (so kills fall anywhere: before the run row,
inside a batch's transaction, between batches, while indexes are rebuilt, after the end), checks
what the kill left, then lets one run complete the source and compares the raw zone with the source
system itself (tests/reliability/ledger.py) and with a clean ingest of the same source.
tests/hub/ingest/test_kill_during_ingest.py kills a real `hub ingest` command several times in a row
instead (a long case).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from hub.pipeline import Hub, ingest
from hub.protect import new_key_text
from hub.settings import HubSettings
from hub.store import tables
from tests.conftest import MakeDistrict
from tests.reliability.ledger import ledger, source_ids

SOURCE = "gongan_population"
SOURCE_IDS = "SELECT RYBH FROM RK_SYRK"
MAPPINGS = Path(__file__).parents[2] / "mappings"


def _ingest_in_child(settings: HubSettings) -> None:
    hub = Hub.open(settings)
    ingest(hub, [SOURCE])


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in (tables.statement, tables.quarantine, tables.raw_record, tables.run, tables.source_state):
            conn.execute(table.delete())


@pytest.mark.slow
@pytest.mark.reliability("G3")
@pytest.mark.parametrize("trials", [3, pytest.param(30, marks=pytest.mark.reliability("G3", long=True))])
def test_sigkill_at_a_random_moment_then_one_run_loses_and_doubles_nothing(
        trials: int, store_url: str, tmp_path: Path, make_district: MakeDistrict,
        record_property: Callable[[str, object], None]) -> None:
    manifest = make_district(tmp_path / "district", 400, seed=13)
    connections = tmp_path / "connections.yaml"
    connections.write_text(f"gongan: {manifest.gongan_url}\n", encoding="utf-8")
    key = new_key_text()

    def settings(home: str, url: str) -> HubSettings:
        return HubSettings(home=tmp_path / home, database_url=url, secret_key=key, sources_dir=manifest.out_dir,
                           mappings_dir=MAPPINGS, connections_file=connections, batch_size=20)

    clean = Hub.open(settings("clean", f"sqlite:///{tmp_path / 'clean.db'}"))
    started = time.monotonic()
    [reference] = ingest(clean, [SOURCE])
    whole_run = time.monotonic() - started
    assert reference.status == "succeeded" and reference.batches > 10, "the source must take many batches"
    ids = source_ids(manifest.gongan_url, SOURCE_IDS)
    expected = ledger(clean.engine, SOURCE, ids)
    assert (expected.lost, expected.duplicated, expected.half_batches) == (0, 0, 0)   # the ledger agrees: clean

    killed_settings = settings("killed", store_url)
    hub = Hub.open(killed_settings)
    rng = random.Random(f"G3 {trials}")
    context = multiprocessing.get_context("fork")     # the child shares the imports, not the engines
    killed = lost = duplicated = half = other = 0
    for _ in range(trials):
        _empty(hub.engine)
        hub.engine.dispose()
        gc.collect()     # no garbage of the parent's connections left for the child to close
        child = context.Process(target=_ingest_in_child, args=(killed_settings,))
        child.start()
        time.sleep(rng.uniform(0, whole_run))
        if child.is_alive():
            assert child.pid is not None
            os.kill(child.pid, signal.SIGKILL)
            killed += 1
        child.join()
        left = ledger(hub.engine, SOURCE, ids)              # what the kill left: whole batches only
        [final] = ingest(hub, [SOURCE])
        after = ledger(hub.engine, SOURCE, ids)
        lost += after.lost
        duplicated += left.duplicated + after.duplicated
        half += left.half_batches + after.half_batches
        other += final.status != "succeeded" or not final.reconciled or (
            after.raw_records, after.statement_entries) != (expected.raw_records, expected.statement_entries)
    record_property("trials", trials)
    record_property("killed mid-run", killed)
    record_property("records lost", lost)
    record_property("records duplicated", duplicated)
    record_property("half batches", half)
    assert (lost, duplicated, half) == (0, 0, 0)
    assert other == 0, "a completing run failed, or its raw zone or statements differ from a clean ingest"
    assert killed >= trials // 2, "most kills came after the end: the source is too small"
    hub.engine.dispose()
    clean.engine.dispose()
