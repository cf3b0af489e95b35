"""Fellegi–Sunter training: EM converges, agreement on an ID weighs for a match, weights round-trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hub.resolve.compare import Prepared
from hub.resolve.keys import candidate_pairs
from hub.resolve.model import Model, weights_frame
from hub.resolve.persons import PERSONS
from hub.resolve.training import random_pairs, train
from tests.hub.resolve.conftest import frame, person

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"


def _population(n: int = 300) -> Prepared:
    rng = np.random.default_rng(5)
    rows = []
    for i in range(n):
        name = SURNAMES[rng.integers(20)] + GIVEN[rng.integers(20)] + GIVEN[rng.integers(20)]
        dob = f"19{rng.integers(40, 99)}-0{rng.integers(1, 9)}-1{rng.integers(0, 9)}"
        pid = f"650102{dob.replace('-', '')}{i:03d}"
        from hub.normalize.resident_id import check_char
        pid += check_char(pid)
        phone = f"138{i:08d}"
        rows.append(person(f"g{i}", source="gongan_population", name=name, resident_id=pid, birth_date=dob))
        if i % 2:
            rows.append(person(f"r{i}", source="renshe_insured", name=name, resident_id=pid, birth_date=dob,
                               phone=phone))
        if i % 3 == 0:
            rows.append(person(f"w{i}", source="wuye_owners", name=name, phone=phone))
    return Prepared(PERSONS.features(frame(*rows)))


def test_em_learns_positive_weights_for_agreement_and_negative_for_conflict() -> None:
    data = _population()
    a, b, _ = candidate_pairs(data.features, PERSONS.rules)
    model = train(PERSONS, data, a, b)
    table = weights_frame(model).set_index(["comparison", "level"])["weight"]
    assert table[("resident_id", "exact")] > 5
    assert table[("name", "exact")] > 3
    assert table[("resident_id", "different_valid")] < -5
    assert table[("name", "else")] < 0
    assert 0 < model.prior < 1
    assert all(s.get("em_iterations", 0) < 60 for s in model.training["sessions"])


def test_weights_round_trip_through_json(tmp_path: Path) -> None:
    data = _population(60)
    a, b, _ = candidate_pairs(data.features, PERSONS.rules)
    model = train(PERSONS, data, a, b)
    model.save(tmp_path / "w.json")
    again = Model.load(tmp_path / "w.json")
    assert again == model


def test_random_pairs_never_pair_a_row_with_itself() -> None:
    a, b = random_pairs(5, 1000)
    assert (a != b).all() and a.max() < 5 and b.max() < 5
