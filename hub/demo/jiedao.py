"""街道 street office: the community staff roster (社区工作人员花名册), a spreadsheet kept by hand and saved as CSV.

One row per staff member: name, ID number, post and the community (社区居委会) they work for. Typed by hand, so
names and IDs carry the usual defects; the roster knows nothing of households or welfare, which is why only the
fused data can tell that a 低保 applicant's relative sits on the committee (rules/welfare_staff_relative.yaml).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hub.demo.config import DirtRates
from hub.demo.dirt import Defects
from hub.demo.records import SourceExport, person_frame, truth_rows
from hub.demo.world import World

ROSTER_CSV = "社区工作人员花名册.csv"


def committee_names(world: World) -> np.ndarray:
    """The residents' committee of each community: 幸福社区 → 幸福社区居民委员会."""
    return (world.geo.communities["name"].astype(str) + "居民委员会").to_numpy(dtype=object)


def export_jiedao(world: World, out: Path, rng: np.random.Generator, rates: DirtRates) -> list[SourceExport]:
    out.mkdir(parents=True, exist_ok=True)
    s = world.staff
    persons = s["person"].to_numpy(dtype=np.int64)
    f = person_frame(world, persons)
    f["_dup"] = False
    g = world.geo
    house = world.persons["house"].to_numpy()[persons]
    community_of_house = g.estates["community"].to_numpy()[g.houses["estate"].to_numpy()]
    community = np.where(house >= 0, community_of_house[np.maximum(house, 0)],
                         rng.integers(0, len(g.communities), len(persons)))
    d = Defects(rng, rates, f)
    d.ids("resident_id", old15=0.0, missing=rates.id_missing * 0.5)
    d.names("name", traditional=rates.traditional_name * 0.5)
    d.phones("own_phone")   # no broken rows: a roster of a few dozen names is checked by hand each year
    f = d.frame
    committees = committee_names(world)[community]
    rows = pd.DataFrame({
        "序号": np.arange(1, len(f) + 1),
        "工号": s["staff_no"].to_numpy(dtype=object),
        "姓名": f["name"],
        "性别": np.where(f["male"].to_numpy(dtype=bool), "男", "女"),
        "身份证号": f["resident_id"],
        "所在社区": committees,
        "职务": s["post"].to_numpy(dtype=object),
        "联系电话": f["own_phone"],
    })
    rows.to_csv(out / ROSTER_CSV, index=False, encoding="utf-8-sig")
    truth = truth_rows(
        "jiedao_staff",
        rows["工号"].to_numpy(dtype=object),
        {"person": ("person", f["_person_id"].to_numpy(dtype=object))},
        d.tag_column(),
        d.broken,
    )
    return [SourceExport("jiedao_staff", str(out / ROSTER_CSV), len(rows), truth)]
