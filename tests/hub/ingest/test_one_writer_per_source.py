"""One writer per source across processes (hub.pipeline.ingest_one takes the source's store-wide lock): while
another writer holds the source, an ingest waits, and after its wait it fails as a run of its own that says the
source is busy, landing nothing; once the lock is free, the same ingest lands the file."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hub import pipeline
from hub.store import make_engine, tables
from tests.hub.ingest.conftest import OneFileSource
from tests.hub.store.lock_holder import lock_held_elsewhere

MAPPING = """\
source: test_locked
department: civil_affairs
connector:
  kind: file
  settings: {path: FILE, encoding: auto}
record_id: 编号
entities:
  person:
    type: person
    required: [name]
    fields:
      name: 姓名
"""
CSV = "编号,姓名\n1,张伟\n2,李娜\n".encode()


def test_an_ingest_waits_for_the_source_then_gives_up_as_busy(one_file_source: OneFileSource,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    hub = one_file_source(MAPPING, "people.csv", CSV)
    other = make_engine(str(hub.engine.url.render_as_string(hide_password=False)))   # another process's engine
    try:
        with lock_held_elsewhere(other, "test_locked") as let_go:
            monkeypatch.setattr(pipeline, "SOURCE_LOCK_WAIT", 0.3)
            [busy] = pipeline.ingest(hub, ["test_locked"], workers=1)
            assert busy.status == "failed" and busy.loaded == 0
            assert "test_locked" in (busy.error or "") and "retry" in (busy.error or "")
            with hub.engine.connect() as conn:
                assert conn.execute(select(func.count()).select_from(tables.raw_record)).scalar() == 0
            let_go()
            [landed] = pipeline.ingest(hub, ["test_locked"], workers=1)
            assert landed.status == "succeeded" and landed.loaded == 2
    finally:
        other.dispose()
