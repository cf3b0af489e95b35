"""Review: uncertain pairs queued, judgements persisted and winning over the model in every later run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from hub.pipeline import Hub, resolve
from hub.resolve.review import (
    ReviewError,
    judge,
    load_judgements,
    mask,
    queue,
    queue_size,
    review_items,
    view_pairs,
)
from hub.resolve.store import write_review_pairs
from hub.settings import HubSettings
from hub.store import tables
from tests.hub.fuse.world import ROWS, ZHANG, build_world, change_rows

OWNER, REGISTER, WELFARE = "t_vehicles|V1|owner", "t_register|R1|person", "t_welfare|1|person"


@pytest.fixture
def hub(settings: HubSettings, tmp_path: Path) -> Iterator[Hub]:
    hub = build_world(settings, tmp_path)
    resolve(hub)
    yield hub
    hub.engine.dispose()


def entity(hub: Hub, record_key: str) -> str:
    with hub.engine.connect() as conn:
        return str(conn.execute(sa.select(tables.record_link.c.entity_id)
                                .where(tables.record_link.c.record_key == record_key)).scalar_one())


def changes(hub: Hub, kind: str) -> list[tuple[str, str | None]]:
    c = tables.entity_change.c
    with hub.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(c.entity_id, c.other_id).where(c.change == kind))]


def test_masks_show_only_the_ends_of_ids_and_phones() -> None:
    assert mask("person", "resident_id", "650102198503071237") == "650102********1237"
    assert mask("person", "phone", "13800138000") == "138****8000"
    assert mask("person", "ethnicity", "01") == "***" and mask("person", "name", "张伟") == "张伟"


def queue_pair(hub: Hub, a: str, b: str, weight: float, reason: str | None = None) -> None:
    """Put a pair in the queue as a run would (the toy world is too small for the engine to doubt)."""
    with hub.engine.begin() as conn:
        write_review_pairs(conn, "person", pd.DataFrame({"a": [a], "b": [b], "weight": [weight], "reason": [reason]}),
                           "test-run", replace=False)


def test_pairs_a_guard_sent_come_after_the_pairs_the_model_doubted(hub: Hub) -> None:
    queue_pair(hub, OWNER, REGISTER, 18.0, reason="conflicting_fields")
    queue_pair(hub, REGISTER, WELFARE, 9.0)
    pending = queue(hub.engine, "person")
    assert list(pending["reason"].fillna("")) == ["", "conflicting_fields"]


def test_the_queue_shows_uncertain_pairs_masked_with_their_scores(hub: Hub) -> None:
    queue_pair(hub, OWNER, REGISTER, 5.0)
    queue_pair(hub, REGISTER, WELFARE, 9.0)
    pending = queue(hub.engine, "person")
    assert list(zip(pending["record_a"], pending["record_b"], strict=True)) == [(REGISTER, WELFARE), (REGISTER, OWNER)]
    assert pending["entity_a"].iloc[1] != pending["entity_b"].iloc[1]
    assert pending["entity_a"].iloc[0] == pending["entity_b"].iloc[0]     # other links joined them already
    [view] = view_pairs(hub.engine, hub.vault, [(REGISTER, OWNER)])
    assert view.judgement is None
    assert list(view.explanation.table["comparison"][:3]) == ["prior", "name", "resident_id"]
    assert view.explanation.table["weight"].sum() == pytest.approx(view.explanation.total)
    shown = view.side_by_side.to_string() + view.explanation.table.to_string()
    assert "138****8000" in shown and "13800138000" not in shown and ZHANG not in shown
    with pytest.raises(ReviewError):
        view_pairs(hub.engine, hub.vault, [(REGISTER, "t_register|R9|person")])


def test_one_item_per_pair_of_entities_and_a_judged_entity_pair_leaves_the_list(hub: Hub) -> None:
    queue_pair(hub, OWNER, REGISTER, 5.0)
    queue_pair(hub, OWNER, WELFARE, 7.0)      # REGISTER and WELFARE are one entity: the same entity pair
    queue_pair(hub, REGISTER, WELFARE, 9.0)   # within one entity: nothing to decide, not an item
    items = review_items(hub.engine, "person")
    assert len(queue(hub.engine, "person")) == 3
    assert list(zip(items["record_a"], items["record_b"], items["pairs"], strict=True)) == [
        (OWNER, WELFARE, 2)]     # the strongest record pair stands for its entity pair
    judge(hub.engine, OWNER, REGISTER, positive=False, who="test")   # settles OWNER's entity against the other
    assert review_items(hub.engine, "person").empty


@pytest.mark.reliability("F14")
def test_a_pair_already_in_one_entity_is_not_waiting_for_review(hub: Hub, record_property: Any) -> None:
    """F14c: `hub review list` showed such pairs as "(same entity now)" and counted them as waiting."""
    assert entity(hub, REGISTER) == entity(hub, WELFARE)
    queue_pair(hub, REGISTER, WELFARE, 9.0)
    items = review_items(hub.engine, "person")
    record_property("items of one entity waiting", len(items))
    assert items.empty and queue_size(hub.engine).get("person", 0) == 0


def test_judging_needs_two_known_records_of_one_type(hub: Hub) -> None:
    with pytest.raises(ReviewError):
        judge(hub.engine, REGISTER, "nowhere|1|person", positive=True, who="test")
    with pytest.raises(ReviewError):
        judge(hub.engine, REGISTER, "t_register|R1|home", positive=True, who="test")
    queue_pair(hub, REGISTER, OWNER, 5.0)
    judge(hub.engine, OWNER, REGISTER, positive=True, who="test")
    judge(hub.engine, REGISTER, OWNER, positive=False, who="test", why="second look")
    assert load_judgements(hub.engine, "person") == [(REGISTER, OWNER, False)]     # the latest is in force
    assert queue(hub.engine, "person").empty                                       # judged pairs leave the queue


@pytest.mark.reliability("G15")
def test_an_accepted_pair_merges_and_is_never_split_again(hub: Hub,
                                                          record_property: Callable[[str, object], None]) -> None:
    kept, merged = entity(hub, REGISTER), entity(hub, OWNER)
    judge(hub.engine, REGISTER, OWNER, positive=True, who="审核员", why="same phone, same car park")
    report = resolve(hub)
    assert report.runs[0].mode == "full"                      # a new judgement: the type is resolved again
    assert entity(hub, OWNER) == kept
    assert (merged, kept) in changes(hub, "merged_into")
    with hub.engine.connect() as conn:
        state, into = conn.execute(sa.select(tables.entity.c.state, tables.entity.c.merged_into)
                                   .where(tables.entity.c.id == merged)).one()
        decided = conn.execute(sa.select(tables.record_link.c.decided_by)
                               .where(tables.record_link.c.record_key == OWNER)).scalar_one()
    assert (state, into, decided) == ("merged", kept, "judgement")
    vehicles = [r[:] for r in ROWS["vehicles.csv"]]
    vehicles[1][3] = "13500135000"                             # re-import: the owner's phone changes
    change_rows(hub, "vehicles.csv", vehicles)
    resolve(hub)
    resolve(hub, full=True)
    record_property("accepted pairs split", int(entity(hub, OWNER) != entity(hub, REGISTER)))
    assert entity(hub, OWNER) == kept


@pytest.mark.reliability("G15")
def test_a_rejected_pair_splits_and_is_never_merged_again(hub: Hub,
                                                          record_property: Callable[[str, object], None]) -> None:
    before = entity(hub, REGISTER)
    assert entity(hub, WELFARE) == before                      # the same ID: the model merged them
    judge(hub.engine, REGISTER, WELFARE, positive=False, who="审核员", why="ID reused by mistake")
    resolve(hub)
    apart = {entity(hub, REGISTER), entity(hub, WELFARE)}
    assert len(apart) == 2 and before in apart                 # the part with the founding record kept the id
    [split] = [new for new, origin in changes(hub, "split_from") if origin == before]
    assert split in apart
    welfare = [r[:] for r in ROWS["welfare.csv"]]
    welfare[1][5] = "900"                                      # re-import: a new version of the welfare row
    change_rows(hub, "welfare.csv", welfare)
    resolve(hub)
    resolve(hub, full=True)
    record_property("rejected pairs merged", int(entity(hub, REGISTER) == entity(hub, WELFARE)))
    assert entity(hub, REGISTER) != entity(hub, WELFARE)
    assert {entity(hub, REGISTER), entity(hub, WELFARE)} == apart
