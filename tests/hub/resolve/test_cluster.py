"""Clustering guards: twins, register duplicates, reversed Uyghur names, judgements; determinism."""

from __future__ import annotations

import numpy as np

from hub.resolve.cluster import MATCH, cluster, labels_from_roots
from hub.resolve.engine import resolve
from hub.resolve.entity_types import default_model
from tests.hub.resolve.conftest import frame, person

HOUSE = {"house_estate": "盛世花苑", "house_building": "3", "house_unit": "2", "house_room": "1502"}


def _clusters(f, judgements=()):  # type: ignore[no-untyped-def]
    result = resolve(f, "person", model=default_model("person"), judgements=judgements)
    return dict(zip(result.clusters["record_key"], result.clusters["cluster"], strict=True)), result


def test_twins_with_different_valid_ids_are_never_merged() -> None:
    twins = frame(
        person("1", source="gongan_population", name="李思雨", resident_id="650102201003071237",
               birth_date="2010-03-07", phone="13800138000", **HOUSE),
        person("2", source="gongan_population", name="李思雪", resident_id="650102201003071253",
               birth_date="2010-03-07", phone="13800138000", **HOUSE),
        person("3", source="wuye_owners", name="李思雨", phone="13800138000", **HOUSE),
    )
    labels, _result = _clusters(twins)
    assert labels["gongan_population|1|person"] != labels["gongan_population|2|person"]
    assert labels["wuye_owners|3|person"] == labels["gongan_population|1|person"]


def test_father_and_son_with_reversed_names_are_not_merged() -> None:
    f = frame(
        person("1", name="买买提·艾力", birth_date="1960-05-01", gender="1", **HOUSE),
        person("2", source="wuye_owners", name="艾力·买买提", birth_date="1988-11-20", gender="1", **HOUSE),
    )
    labels, _ = _clusters(f)
    assert len(set(labels.values())) == 2


def test_same_name_same_birth_date_in_other_buildings_without_ids_go_apart() -> None:
    f = frame(
        person("1", name="王伟", birth_date="1985-03-07", house_estate="盛世花苑", house_building="3",
               house_unit="1", house_room="101"),
        person("2", source="minzheng_allowance", name="王伟", birth_date="1985-03-07", house_estate="盛世花苑",
               house_building="9", house_unit="2", house_room="502"),
    )
    labels, _ = _clusters(f)
    assert len(set(labels.values())) == 2


def test_register_holds_one_record_per_person() -> None:
    f = frame(
        person("1", source="gongan_population", name="张伟", birth_date="1985-03-07", phone="13800138000", **HOUSE),
        person("2", source="gongan_population", name="张伟", birth_date="1985-03-07", phone="13800138000", **HOUSE),
    )
    labels, result = _clusters(f)
    assert len(set(labels.values())) == 2
    assert result.pairs["reason"].tolist() == ["register_duplicate"]


def test_judgements_win_both_ways() -> None:
    f = frame(
        person("1", name="张伟", resident_id="650102198503071237", phone="13800138000"),
        person("2", name="张伟", resident_id="650102198503071237", phone="13800138000"),
        person("3", name="刘洋", phone="13900139000"),
        person("4", name="柳杨", phone="13700137000"),
    )
    keys = sorted(f["record_key"])
    labels, _ = _clusters(f, judgements=[(keys[0], keys[1], False), (keys[2], keys[3], True)])
    assert labels[keys[0]] != labels[keys[1]]
    assert labels[keys[2]] == labels[keys[3]]


def test_a_cluster_never_holds_two_valid_ids_even_through_a_third_record() -> None:
    keys = ["a", "b", "c"]
    a, b = np.array([0, 1]), np.array([2, 2])
    roots, decided = cluster(keys, a, b, np.array([20.0, 19.0]), np.array([MATCH, MATCH], dtype=object),
                             unique=["650102198503071237", "650102198503071253", None], register=[False] * 3,
                             same_unique=np.zeros(2, dtype=bool))
    assert roots[0] == roots[2] != roots[1]
    assert decided.reason.tolist() == [None, "different_ids"]
    assert labels_from_roots(keys, roots).tolist() == ["a", "b", "a"]


def test_same_input_gives_the_same_clusters() -> None:
    f = frame(*[person(str(i), name=n, phone=p, birth_date="1990-01-01") for i, (n, p) in enumerate(
        [("张伟", "1"), ("张伟", "1"), ("王芳", "2"), ("王芳", "2"), ("李娜", "1")])])
    first, _ = _clusters(f)
    second, _ = _clusters(f.sample(frac=1.0, random_state=3))
    assert first == second


def test_existing_clusters_are_never_joined_and_stay_the_root() -> None:
    # rows 0 and 1 stand for two clusters of the last run; rows 2 and 3 are new records
    keys = ["E1", "E2", "n1", "n2"]
    a, b = np.array([2, 2, 3]), np.array([0, 1, 2])
    roots, decided = cluster(keys, a, b, np.array([20.0, 18.0, 15.0]), np.array([MATCH] * 3, dtype=object),
                             unique=[None] * 4, register=[False] * 4, same_unique=np.zeros(3, dtype=bool),
                             existing=2)
    assert roots.tolist() == [0, 1, 0, 0]   # n1 joins the stronger cluster, n2 follows n1
    assert decided.decision.tolist() == [MATCH, "review", MATCH]
    assert decided.reason.tolist() == [None, "joins_existing_clusters", None]


def test_judged_rows_win_like_judgements_by_key() -> None:
    keys = ["a", "b", "c"]
    a, b = np.array([0, 1]), np.array([1, 2])
    roots, decided = cluster(keys, a, b, np.array([20.0, 20.0]), np.array([MATCH, MATCH], dtype=object),
                             unique=[None] * 3, register=[False] * 3, same_unique=np.zeros(2, dtype=bool),
                             judged_rows=[(0, 1, False)])
    assert roots[0] != roots[1] == roots[2]
    assert decided.reason.tolist() == ["judged_different", None]
