"""`suggest` measured on department exports it has never seen (tests/hub/onboard/unseen.py): columns mapped
right with no edit, and lines an operator changes, against floors; the generator's own promises checked too.

Ten series are measured: `tuned` (header spellings the dictionary was extended with while the generator was
written: what a draft makes of headers it knows), `held_out_e` to `held_out_i` (spellings never put into the
dictionary; the sixth to ninth rounds of generic rules were worked out on their failures, so they now guard
against regressions), `held_out_j` (written without reading the dictionary, measured before and after the
ninth round, then the tenth round's material), `held_out_k` (written without reading the dictionary and
before J's failures were read, measured blind before and after the tenth round, then the eleventh round's
material), `held_out_l` (written the same way while K's failures drove the eleventh round, with four kinds of
export no other series has: 残联, 市场监管, 高龄津贴, 网格: measured blind, then the twelfth round's material) and
`held_out_m` (written blind the same way while L's failures drove the twelfth round, over L's eight kinds: the one
series still held out). The target of issue 19 is 95 % of columns right and at most 3 changed lines per source;
the floors sit below what was measured at seed 11 (bench/results/onboarding.md); held_out_j's was raised to the
training series' after the tenth round, held_out_k's after the eleventh, held_out_l's after the twelfth, each
worked out on its failures; held_out_m's is its blind measure.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hub.mapping import load_mappings
from hub.mapping.loader import parse_mapping
from hub.onboard import check_mapping, locate_file
from tests.hub.onboard.unseen import KINDS_L, SHAPED_L, SHAPED_M, STYLES, VOCABULARIES, generate, run, table

MAPPINGS = Path(__file__).resolve().parents[3] / "mappings"
EXPORTS, SEED = 24, 11
FLOORS = {"tuned": (0.95, 3.0), "held_out_e": (0.97, 1.0), "held_out_f": (0.97, 1.0), "held_out_g": (0.97, 1.0),
          "held_out_h": (0.97, 1.0), "held_out_i": (0.97, 1.0), "held_out_j": (0.97, 1.0),
          "held_out_k": (0.96, 2.0), "held_out_l": (0.89, 3.3), "held_out_m": (0.75, 11.0)}
"""Per series: (share of columns right with no edit at least, lines changed per source at most)."""


@pytest.mark.parametrize("vocabulary", list(VOCABULARIES))
def test_exports_never_use_the_demo_headers_and_their_final_mappings_check_clean(tmp_path: Path,
                                                                                 vocabulary: str) -> None:
    demo = set().union(*(spec.columns_read for spec in load_mappings(MAPPINGS).ready))
    styles: set[tuple[str, str]] = set()
    for index in range(2 * len(KINDS_L) if vocabulary in SHAPED_L | SHAPED_M else 8):     # each kind in two styles
        export = generate(tmp_path, index, seed=SEED, rows=60, vocabulary=vocabulary)
        styles.add((export.department, export.style))
        headers = set(export.final.columns_read)
        if export.style != "jb":          # 金保 field codes are a national standard, shared by every system
            assert not headers & demo, (export.path.name, headers & demo)
        spec, lines = parse_mapping(export.path.with_suffix(".final.yaml"))
        ref = locate_file(export.path, base_dir=tmp_path)
        findings = check_mapping(spec, lines, ref.sample(500), file=export.path.name)
        if "footer" in export.notes:      # a 合计 row has no record id: quarantined, as an operator would want
            findings = [f for f in findings if not (f.where == "record_id" and "blank record id" in f.message)]
        assert findings == []
    assert {d for d, _ in styles} >= set(STYLES) and len({s for _, s in styles}) >= 3


def test_the_series_is_seeded(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    one, two = (generate(tmp_path / folder, 5, seed=3, rows=20) for folder in ("a", "b"))
    assert one.path.read_bytes() == two.path.read_bytes() and one.final == two.final


@pytest.mark.slow
@pytest.mark.reliability("F15")
@pytest.mark.parametrize("vocabulary", list(FLOORS))
def test_suggest_on_unseen_exports(tmp_path: Path, record_property: Callable[[str, object], None],
                                   vocabulary: str) -> None:
    results = run(tmp_path, EXPORTS, SEED, vocabulary=vocabulary)
    print("\n" + table(results))
    columns = sum(r.columns for _, r in results)
    right = sum(r.right for _, r in results)
    changed = sum(r.lines_changed for _, r in results) / len(results)
    record_property(f"{vocabulary}: share of columns right with no edit", round(right / columns, 3))
    record_property(f"{vocabulary}: lines changed per source", round(changed, 2))
    least, most = FLOORS[vocabulary]
    assert right / columns >= least, table(results)
    assert changed <= most, table(results)
