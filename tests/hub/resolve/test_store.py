"""Persistence of resolution on both stores: the migration matches the tables, writes are differences."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.pipeline import Hub
from hub.resolve.entity_types import default_model
from hub.resolve.model import Model
from hub.resolve.store import (
    last_run,
    latest_model,
    link_rows,
    save_model,
    split_record_key,
    start_run,
    statement_watermark,
    write_links,
    write_review_pairs,
)
from hub.settings import HubSettings
from hub.store import tables
from hub.store.runs import finish_counted


@pytest.fixture
def hub(settings: HubSettings) -> Hub:
    return Hub.open(settings)


def test_the_migrations_build_exactly_the_tables_of_the_code(hub: Hub) -> None:
    with hub.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), tables.metadata)
    assert diffs == []


def test_record_keys_split_even_when_the_record_id_holds_a_bar() -> None:
    assert split_record_key("minzheng_assistance|低保|12|person") == ("minzheng_assistance", "低保|12", "person")


def _links(*rows: tuple[str, str, float | None]) -> pd.DataFrame:
    return pd.DataFrame([{"record_key": k, "entity_id": e, "score": s, "linked_to": None,
                          "decided_by": "key" if s is None else "model"} for k, e, s in rows])


def test_links_are_written_as_differences(hub: Hub) -> None:
    links = _links(("a|1|person", "P-1", 7.123456789), ("a|2|person", "P-1", None), ("b|1|person", "P-2", None))
    with hub.engine.begin() as conn:
        assert write_links(conn, "person", links, "run1", complete=True) == 3
    with hub.engine.begin() as conn:
        assert write_links(conn, "person", links, "run2", complete=True) == 0          # nothing differs
    moved = _links(("a|1|person", "P-1", 7.123456789), ("a|2|person", "P-2", None))
    with hub.engine.begin() as conn:
        assert write_links(conn, "person", moved, "run3", complete=True) == 1          # b|1 dropped, a|2 moved
    stored = link_rows(hub.engine, ["a|1|person", "a|2|person", "b|1|person"]).set_index("record_key")
    assert stored["entity_id"].to_dict() == {"a|1|person": "P-1", "a|2|person": "P-2"}
    with hub.engine.connect() as conn:
        runs = dict(conn.execute(sa.select(tables.record_link.c.record_key, tables.record_link.c.run_id)).all())
        source = conn.execute(sa.select(tables.record_link.c.source_record_id)
                              .where(tables.record_link.c.record_key == "a|2|person")).scalar()
    assert runs == {"a|1|person": "run1", "a|2|person": "run3"} and source == "2"


def test_a_full_run_replaces_the_review_queue_an_increment_adds_to_it(hub: Hub) -> None:
    def queue() -> set[tuple[str, str]]:
        with hub.engine.connect() as conn:
            return {tuple(r) for r in conn.execute(sa.select(tables.review_pair.c.record_a,
                                                             tables.review_pair.c.record_b))}

    pairs = pd.DataFrame({"a": ["x|2|p", "x|3|p"], "b": ["x|1|p", "x|4|p"], "weight": [3.0, 2.0],
                          "reason": [None, "different_ids"]})
    with hub.engine.begin() as conn:
        write_review_pairs(conn, "person", pairs, "r1", replace=True)
    assert queue() == {("x|1|p", "x|2|p"), ("x|3|p", "x|4|p")}         # smaller key first
    with hub.engine.begin() as conn:
        write_review_pairs(conn, "person", pairs.iloc[:1].assign(a="x|5|p"), "r2", replace=False)
    assert len(queue()) == 3
    with hub.engine.begin() as conn:
        write_review_pairs(conn, "person", pairs.iloc[:0], "r3", replace=True)
    assert queue() == set()


def test_runs_and_models_round_trip(hub: Hub) -> None:
    assert last_run(hub.engine, "person") is None and latest_model(hub.engine, "person") is None
    run = start_run(hub.engine, "person")
    assert last_run(hub.engine, "person") is None                   # running is not done
    model = default_model("person")
    with hub.engine.begin() as conn:
        save_model(conn, run.id, model)
        finish_counted(conn, run.id, status="succeeded", records=10, changed=4, watermark=run.started_at)
    done = last_run(hub.engine, "person")
    assert done is not None and done.id == run.id and done.watermark is not None
    stored = latest_model(hub.engine, "person")
    assert isinstance(stored, Model) and stored.to_json() == model.to_json()


def test_the_watermark_stays_behind_an_ingest_still_running(hub: Hub) -> None:
    assert statement_watermark(hub.engine) is None                   # nothing ingested yet
    started = start_run(hub.engine, "some_source", stage="ingest")
    with hub.engine.begin() as conn:
        conn.execute(tables.raw_record.insert().values(   # a record version landed by another, finished run
            id="r1", source="x", source_record_id="1", content_hash="h1", payload=b"sealed", run_id="other",
            extracted_at=started.started_at + timedelta(seconds=5)))
    mark = statement_watermark(hub.engine)
    assert mark is not None and mark.replace(tzinfo=None) < started.started_at.replace(tzinfo=None)
    with hub.engine.begin() as conn:
        finish_counted(conn, started.id, status="succeeded")
    mark = statement_watermark(hub.engine)
    assert mark is not None and mark.replace(tzinfo=None) == (started.started_at + timedelta(seconds=5)).replace(
        tzinfo=None)
