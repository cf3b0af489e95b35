"""Stable canonical ids: unchanged data keeps every id; merges, splits and new records follow the rule."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from hub.resolve.stable_ids import Assignment, Previous, assign_ids, make_minter


def _hash(data: bytes) -> str:
    return hashlib.blake2b(data, key=b"test-key", digest_size=16).hexdigest()


MINT = make_minter("person", _hash)


def clusters(*groups: str) -> pd.DataFrame:
    """`clusters("a b", "c")`: records a and b together, c alone (labels are arbitrary)."""
    rows = [(key, f"label{i}") for i, group in enumerate(groups) for key in group.split()]
    return pd.DataFrame(rows, columns=["record_key", "cluster"])


def after(previous: Previous, run: Assignment, run_number: int) -> Previous:
    """The state the store holds once `run` is written (what hub.resolve.store reads back)."""
    entities = previous.entities.set_index("id")
    for row in run.entities.itertuples():
        if row.state != "active":
            entities = entities.drop(index=row.id, errors="ignore")
        elif row.new:
            entities.loc[row.id] = [row.founding_record, run_number]
        else:
            entities.loc[row.id, "founding_record"] = row.founding_record
    return Previous(run.links, entities.reset_index(names="id"), set(previous.taken) | set(run.minted))


def ids(run: Assignment) -> dict[str, str]:
    return dict(zip(run.links["record_key"], run.links["entity_id"], strict=True))


def changes(run: Assignment) -> set[tuple[str, str, str | None]]:
    return {(r.entity_id, r.change, r.other_id) for r in run.changes.itertuples()}


def test_a_fresh_store_mints_ids_from_the_founding_record_and_twice_gives_the_same() -> None:
    first = assign_ids(clusters("b a", "c"), Previous.empty(), MINT)
    again = assign_ids(clusters("c", "a b"), Previous.empty(), MINT)
    assert ids(first) == ids(again)
    assert ids(first)["a"] == ids(first)["b"] == MINT("a", 0) and ids(first)["c"] == MINT("c", 0)
    assert ids(first)["a"].startswith("P-") and len(ids(first)["a"]) == 18
    assert changes(first) == {(MINT("a", 0), "created", None), (MINT("c", 0), "created", None)}


@pytest.mark.reliability("G2")
def test_unchanged_data_changes_nothing() -> None:
    state = after(Previous.empty(), assign_ids(clusters("a b", "c"), Previous.empty(), MINT), 1)
    rerun = assign_ids(clusters("a b", "c"), state, MINT)
    assert ids(rerun) == dict(zip(state.links["record_key"], state.links["entity_id"], strict=True))
    assert rerun.changes.empty and rerun.entities.empty and rerun.minted == []


def test_a_new_record_attaches_to_the_entity_it_joins() -> None:
    state = after(Previous.empty(), assign_ids(clusters("b c", "d"), Previous.empty(), MINT), 1)
    run = assign_ids(clusters("a b c", "d"), state, MINT)   # a sorts first but did not found the entity
    assert ids(run)["a"] == MINT("b", 0)
    [change] = run.changes.itertuples()
    assert (change.entity_id, change.change) == (MINT("b", 0), "updated")
    assert json.loads(change.detail) == {"added": 1, "removed": 0}


def test_a_merge_keeps_the_older_id_and_records_the_other_as_merged_into_it() -> None:
    state = after(Previous.empty(), assign_ids(clusters("x"), Previous.empty(), MINT), 1)
    state = after(state, assign_ids(clusters("x", "a"), state, MINT), 2)   # a founded later: younger
    run = assign_ids(clusters("a x"), state, MINT)
    older, younger = MINT("x", 0), MINT("a", 0)
    assert set(ids(run).values()) == {older}
    assert changes(run) == {(younger, "merged_into", older), (older, "updated", None)}
    merged = run.entities.set_index("id").loc[younger]
    assert merged["state"] == "merged" and merged["merged_into"] == older


def test_a_split_leaves_the_id_with_the_founding_record_and_the_rest_split_from_it() -> None:
    state = after(Previous.empty(), assign_ids(clusters("a b c"), Previous.empty(), MINT), 1)
    run = assign_ids(clusters("a c", "b"), state, MINT)
    kept, split = MINT("a", 0), MINT("b", 0)
    assert ids(run) == {"a": kept, "c": kept, "b": split}
    assert changes(run) == {(split, "split_from", kept), (kept, "updated", None)}


def test_ids_are_never_reused_after_a_merge_is_undone() -> None:
    state = after(Previous.empty(), assign_ids(clusters("x"), Previous.empty(), MINT), 1)
    state = after(state, assign_ids(clusters("x", "a"), state, MINT), 2)
    state = after(state, assign_ids(clusters("a x"), state, MINT), 3)        # a's entity merged into x's
    run = assign_ids(clusters("x", "a"), state, MINT)                        # a reviewer splits them again
    assert ids(run)["x"] == MINT("x", 0)
    assert ids(run)["a"] not in (MINT("a", 0), MINT("x", 0)) and ids(run)["a"] == MINT("a", 1)
    assert (MINT("a", 1), "split_from", MINT("x", 0)) in changes(run)


def test_an_entity_whose_founding_record_is_gone_keeps_its_id_through_its_other_records() -> None:
    state = after(Previous.empty(), assign_ids(clusters("a b c", "z"), Previous.empty(), MINT), 1)
    run = assign_ids(clusters("b c"), state, MINT)
    assert ids(run) == {"b": MINT("a", 0), "c": MINT("a", 0)}
    by_id = {(c.entity_id, c.change): c for c in run.changes.itertuples()}
    assert json.loads(by_id[MINT("a", 0), "updated"].detail)["founding_record"] == "b"
    assert (MINT("z", 0), "retired") in by_id
