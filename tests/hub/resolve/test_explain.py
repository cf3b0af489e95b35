"""explain_pair: one line per comparison, weights adding up to the total, values masked."""

from __future__ import annotations

import pandas as pd
import pytest

from hub.resolve.entity_types import default_model
from hub.resolve.explain import explain_pair
from tests.hub.resolve.conftest import person

A = pd.Series(person("1", source="gongan_population", name="王伟", resident_id="650102198503071237",
                     birth_date="1985-03-07", gender="1", phone="13800138000"))
B = pd.Series(person("2", name="王玮", resident_id="650102198503071237", birth_date="1985-03-07", gender="1"))


def test_explanation_sums_its_lines_and_decides() -> None:
    model = default_model("person")
    explanation = explain_pair(A, B, model)
    table = explanation.table.set_index("comparison")
    assert table.loc["name", "level"] == "pinyin"
    assert table.loc["resident_id", "level"] == "exact"
    assert table.loc["phone", "level"] == "null" and table.loc["phone", "weight"] == 0
    assert explanation.total == pytest.approx(table["weight"].sum())
    assert explanation.decision == "match"


def test_explanation_never_shows_a_clear_id_or_phone() -> None:
    text = explain_pair(A, B, default_model("person")).table.to_string()
    assert "650102198503071237" not in text and "13800138000" not in text


def test_twins_are_never_explained_as_a_match() -> None:
    twin = pd.Series(person("3", name="王玮", resident_id="650102198503071253", birth_date="1985-03-07"))
    explanation = explain_pair(A, twin, default_model("person"))
    assert explanation.decision in ("review", "non_match")
    assert explanation.table.set_index("comparison").loc["resident_id", "level"] == "different_valid"
