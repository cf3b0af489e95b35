"""Blocking keys: typo-tolerant and masked IDs meet their valid form; oversized blocks are capped."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hub.resolve.features import person_features
from hub.resolve.keys import BlockingRule, candidate_pairs, column_keys, wildcard_keys
from hub.resolve.persons import RULES
from tests.hub.resolve.conftest import frame, person

VALID = "650102198503071237"


def _shared(first: str, second: str) -> set[int]:
    keys = wildcard_keys(["id"])(pd.DataFrame({"id": [first, second]}))
    rows, values = keys
    return set(values[rows == 0].tolist()) & set(values[rows == 1].tolist())


def test_one_wrong_digit_shares_a_wildcard_key() -> None:
    assert _shared(VALID, "650102198503071287")


def test_adjacent_swap_shares_a_wildcard_key() -> None:
    assert _shared(VALID, "650102198503071273")


def test_far_apart_ids_share_no_wildcard_key() -> None:
    assert not _shared(VALID, "650102199912319876")


def test_masked_id_with_birth_date_is_rebuilt_into_the_id_key() -> None:
    f = person_features(frame(person("1", resident_id_masked="650102********1237", birth_date="1985-03-07")))
    assert f.loc[0, "id_masked_full"] == VALID


def test_typo_and_masked_records_become_candidates_of_the_valid_one() -> None:
    f = person_features(frame(
        person("1", name="张伟", resident_id=VALID),
        person("2", name="李娜", resident_id_unchecked="650102198503071273"),
        person("3", name="王芳", resident_id_masked="650102********1237", birth_date="1985-03-07"),
        person("4", name="赵磊", resident_id="110105194912310021"),
    ))
    a, b, stats = candidate_pairs(f, RULES)
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    assert (0, 1) in pairs and (0, 2) in pairs
    assert not any(3 in p for p in pairs)
    assert stats.pairs_by_rule["id_typo"] >= 1 and stats.pairs_by_rule["id_masked"] >= 1


def test_valid_ids_do_not_pair_through_wildcards() -> None:
    twins = person_features(frame(person("1", resident_id="650102198503071237"),
                                  person("2", resident_id="650102198503071253")))
    a, _, _ = candidate_pairs(twins, [r for r in RULES if r.name == "id_typo"])
    assert len(a) == 0


def test_oversized_blocks_are_skipped_and_counted() -> None:
    f = pd.DataFrame({"phone": ["13800138000"] * 5 + ["13900139000"] * 2})
    a, b, stats = candidate_pairs(f, [BlockingRule("phone", column_keys("phone"), cap=3)])
    assert list(zip(a, b, strict=True)) == [(5, 6)]
    assert stats.capped_blocks["phone"] == 1 and stats.capped_rows["phone"] == 5


def test_new_records_only_probe_the_index() -> None:
    f = pd.DataFrame({"phone": ["1", "1", "2", "2", "1"]})
    new = np.array([False, False, False, False, True])
    a, b, _ = candidate_pairs(f, [BlockingRule("phone", column_keys("phone"))], new=new)
    assert set(zip(a.tolist(), b.tolist(), strict=True)) == {(0, 4), (1, 4)}


def test_key_index_probe_finds_the_same_pairs_as_a_join() -> None:
    from hub.resolve.blocking_index import KeyIndex
    from hub.resolve.keys import join_keys

    old = (np.array([0, 1, 2, 3, 4]), np.array(["a", "b", "a", "c", "a"], dtype=object))
    new = (np.array([5, 6, 7]), np.array(["a", "c", "z"], dtype=object))
    (left, right), capped = KeyIndex.build(old).probe(new, cap=10, star=False)
    a, b, _, _ = join_keys(new, old, cap=10)
    assert sorted(zip(left.tolist(), right.tolist(), strict=True)) == sorted(zip(a.tolist(), b.tolist(), strict=True))
    assert capped == 0
    (_, right), capped = KeyIndex.build(old).probe(new, cap=2, star=False)
    assert capped == 1 and right.tolist() == [3]
    (left, right), _ = KeyIndex.build(old).probe(new, cap=1, star=True)
    assert list(zip(left.tolist(), right.tolist(), strict=True)) == [(5, 0), (6, 3)]
