"""A held-out series is only worth measuring if `suggest` has never met its spellings: not in the tuned vocabulary
(the dictionary was extended with it), not in the earlier series (rounds were tuned on them: A–F for G, A–G for
H, A–H for I, A–I for J, A–J for K, A–K for L, A–L for M), not in the demo district's mappings. A spelling that
differs from a known one only by case, spaces, underscores, bracket width, a trailing colon, a required-mark
asterisk or traditional characters is the known one, so spellings are compared after folding those away. G to M
must also be usable wherever F is: every key, as many spellings per style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.mapping import load_mappings
from tests.hub.onboard.unseen import H
from tests.hub.onboard.unseen_held_out import (
    HELD_OUT_A,
    HELD_OUT_B,
    HELD_OUT_C,
    HELD_OUT_D,
    HELD_OUT_E,
    HELD_OUT_F,
    HELD_OUT_G,
    HELD_OUT_H,
    HELD_OUT_I,
    HELD_OUT_J,
    HELD_OUT_K,
    HELD_OUT_L,
    HELD_OUT_M,
)

MAPPINGS = Path(__file__).resolve().parents[3] / "mappings"
EARLIER = {"tuned": H, "a": HELD_OUT_A, "b": HELD_OUT_B, "c": HELD_OUT_C, "d": HELD_OUT_D, "e": HELD_OUT_E,
           "f": HELD_OUT_F}
SERIES = {"g": (HELD_OUT_G, EARLIER), "h": (HELD_OUT_H, {**EARLIER, "g": HELD_OUT_G}),
          "i": (HELD_OUT_I, {**EARLIER, "g": HELD_OUT_G, "h": HELD_OUT_H}),
          "j": (HELD_OUT_J, {**EARLIER, "g": HELD_OUT_G, "h": HELD_OUT_H, "i": HELD_OUT_I}),
          "k": (HELD_OUT_K, {**EARLIER, "g": HELD_OUT_G, "h": HELD_OUT_H, "i": HELD_OUT_I, "j": HELD_OUT_J}),
          "l": (HELD_OUT_L, {**EARLIER, "g": HELD_OUT_G, "h": HELD_OUT_H, "i": HELD_OUT_I, "j": HELD_OUT_J,
                             "k": HELD_OUT_K}),
          "m": (HELD_OUT_M, {**EARLIER, "g": HELD_OUT_G, "h": HELD_OUT_H, "i": HELD_OUT_I, "j": HELD_OUT_J,
                             "k": HELD_OUT_K, "l": HELD_OUT_L})}
"""Each held-out series and the vocabularies written before it."""
TRADITIONAL = str.maketrans("參證號別機區戶稱採時間項類碼業記", "参证号别机区户称采时间项类码业记")
"""The traditional characters G's spellings use, folded to the simplified ones a known spelling would have."""


def _fold(spelling: str) -> str:
    text = "".join(spelling.split()).casefold().translate(TRADITIONAL)
    text = text.replace("（", "(").replace("）", ")").replace("_", "").replace("-", "")
    return re.sub(r"[:：*]+$", "", text.lstrip("*"))


def _spellings(vocabulary: dict[str, dict[str, tuple[str, ...]]]) -> set[str]:
    return {s for styles in vocabulary.values() for spellings in styles.values() for s in spellings}


@pytest.mark.parametrize("series", list(SERIES))
def test_series_covers_every_key_of_f_with_as_many_spellings_per_style(series: str) -> None:
    vocabulary = SERIES[series][0]
    for key, styles in HELD_OUT_F.items():
        assert key in vocabulary, key
        for style, spellings in styles.items():
            assert len(vocabulary[key].get(style, ())) >= len(spellings), (key, style)
    assert all("jb" not in styles for styles in vocabulary.values())     # 金保 codes come from the tuned table


@pytest.mark.parametrize("series", list(SERIES))
def test_series_spellings_are_new_even_after_folding(series: str) -> None:
    vocabulary_of_series, earlier = SERIES[series]
    mine = _spellings(vocabulary_of_series)
    for name, vocabulary in earlier.items():
        known = _spellings(vocabulary)
        folded = {_fold(s) for s in known}
        assert not mine & known, (name, sorted(mine & known))
        assert not {s for s in mine if _fold(s) in folded}, (name, sorted(s for s in mine if _fold(s) in folded))


@pytest.mark.parametrize("series", list(SERIES))
def test_series_spellings_are_not_the_demo_districts_headers(series: str) -> None:
    # a pushed source (grid_collection: form write-backs) names its columns after the hub's own attributes; it
    # is no department's export that suggest was tuned on
    demo = {_fold(c) for spec in load_mappings(MAPPINGS).ready if spec.connector.kind != "submissions"
            for c in spec.columns_read}
    clashes = sorted(s for s in _spellings(SERIES[series][0]) if _fold(s) in demo)
    assert not clashes, clashes


@pytest.mark.parametrize("series", list(SERIES))
def test_each_spelling_names_one_key_and_survives_a_gbk_export(series: str) -> None:
    owner: dict[str, str] = {}
    for key, styles in SERIES[series][0].items():
        for spelling in {s for spellings in styles.values() for s in spellings}:
            assert owner.setdefault(_fold(spelling), key) == key, (spelling, key, owner[_fold(spelling)])
            spelling.encode("gbk")
