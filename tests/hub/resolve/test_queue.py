"""The review queue holds questions only, one item per pair of entities, ranked by what a decision moves."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from hub.resolve.cluster import MATCH, NON_MATCH, REVIEW, cluster, questions
from hub.resolve.engine import resolve
from hub.resolve.entity_types import default_model
from hub.resolve.explain import explain_pair
from hub.resolve.queue import queue_items, rank_items
from tests.hub.resolve.conftest import frame, person

HOUSE = {"house_estate": "盛世花苑", "house_building": "3", "house_unit": "2", "house_room": "1502"}


def _pending(*rows: tuple[str, str, float, str | None, str | None, str | None]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["record_a", "record_b", "weight", "reason", "entity_a", "entity_b"])


def test_pairs_of_the_same_two_entities_are_one_item_and_pairs_inside_one_entity_none() -> None:
    pending = _pending(("a1", "b1", 9.0, None, "A", "B"), ("b2", "a2", 10.0, None, "B", "A"),
                       ("a1", "a3", 11.0, None, "A", "A"))
    items = rank_items(pending, pd.Series({"A": 3, "B": 2}))
    assert list(zip(items["record_a"], items["record_b"], items["pairs"], items["moves"], strict=True)) == [
        ("b2", "a2", 2, 2)]   # the strongest pair stands for both; accepting moves B's two records


def test_items_rank_by_records_moved_and_guard_held_pairs_last() -> None:
    pending = _pending(("x", "y", 11.0, None, "X", "Y"), ("p", "q", 9.0, None, "P", "Q"),
                       ("g", "h", 30.0, "conflicting_fields", "G", "H"), ("n", "m", 10.0, None, None, None))
    items = rank_items(pending, pd.Series({"X": 1, "Y": 4, "P": 3, "Q": 5, "G": 9, "H": 9}))
    assert list(items["record_a"]) == ["p", "x", "n", "g"]   # moves 3, then 1 by weight, the guard's pair last
    assert list(items["moves"]) == [3, 1, 1, 9]             # an unlinked record is an entity of one


def test_only_review_pairs_across_two_clusters_are_questions() -> None:
    decision = np.array([REVIEW, REVIEW, MATCH, NON_MATCH], dtype=object)
    assert questions(decision, np.array([0, 0, 0, 0]), np.array([1, 0, 1, 1])).tolist() == [True, False, False, False]


def test_a_refused_merge_is_a_non_match_when_the_refusal_settles_it() -> None:
    keys = ["a", "b", "c"]
    a, b = np.array([0, 1]), np.array([1, 2])
    _, decided = cluster(keys, a, b, np.array([20.0, 20.0]), np.array([MATCH, MATCH], dtype=object),
                         unique=["650102198503071237", "650102198503071253", None], register=[False] * 3,
                         same_unique=np.zeros(2, dtype=bool))
    assert decided.decision.tolist() == [NON_MATCH, MATCH] and decided.reason.tolist() == ["different_ids", None]


def test_two_valid_ids_and_a_household_member_are_not_questions() -> None:
    f = frame(
        person("1", name="张伟", resident_id="650102198503071237", birth_date="1985-03-07", phone="13900139000",
               **HOUSE),
        person("2", source="minzheng_allowance", name="张伟", resident_id="650102198503071253",
               birth_date="1985-03-07", phone="13900139000", **HOUSE),
        person("3", source="wuye_owners", name="刘洋", phone="13800138000", **HOUSE),
        person("4", source="wuye_tenants", name="王芳", phone="13800138000", **HOUSE),
    )
    # a band down to 0 log-odds: without the vetoes both pairs would be matches or questions
    model = replace(default_model("person"), lower=0.0)
    result = resolve(f, "person", model=model)
    assert (result.pairs["weight"] > 0).all() and not result.pairs["queued"].any()
    seen = {(a, b): (decision, reason, name, resident_id) for a, b, decision, reason, name, resident_id in zip(
        result.pairs["a"], result.pairs["b"], result.pairs["decision"], result.pairs["reason"],
        result.pairs["name"], result.pairs["resident_id"], strict=True)}
    assert seen[("minzheng_allowance|2|person", "renshe_insured|1|person")] == (
        NON_MATCH, "contradiction", "exact", "different_valid")
    assert seen[("wuye_owners|3|person", "wuye_tenants|4|person")] == (NON_MATCH, "contradiction", "else", "null")
    ordered = f.sort_values("record_key").reset_index(drop=True)
    assert explain_pair(ordered.iloc[2], ordered.iloc[3], model).decision == NON_MATCH


def test_an_engine_run_leaves_its_uncertain_pairs_as_items() -> None:
    f = frame(person("1", name="王建国", birth_date="1985-03-07"),
              person("2", source="wuye_owners", name="王建国", birth_date="1985-03-07"),
              person("3", name="李娜"), person("4", name="刘洋"))
    weight = float(resolve(f, "person", model=default_model("person")).pairs["weight"].iloc[0])
    unsure = replace(default_model("person"), lower=weight - 1, upper=weight + 1)   # the pair is in the band
    result = resolve(f, "person", model=unsure)
    assert result.pairs["decision"].tolist() == [REVIEW] and result.pairs["queued"].tolist() == [True]
    items = queue_items(result.pairs, result.clusters.set_index("record_key")["cluster"])
    assert list(zip(items["record_a"], items["record_b"], items["moves"], strict=True)) == [
        ("renshe_insured|1|person", "wuye_owners|2|person", 1)]
    accepted = resolve(f, "person", model=unsure, judgements=[("renshe_insured|1|person", "wuye_owners|2|person",
                                                               True)])
    assert not accepted.pairs["queued"].any()   # decided: the two records are one entity, nothing left to ask
