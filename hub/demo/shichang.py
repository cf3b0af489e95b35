"""市场监管 market regulation: the register of market entities (市场主体名录), enterprises and individual businesses
with their credit code, as a district bureau exports it (UTF-8 CSV).

A register, so it is clean; what matters is who is missing: the units social insurance knows as employers that
were never registered (hub.demo.planted.plant_sham_employers), which rules/insured_employer_unregistered finds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hub.demo.records import SourceExport, truth_rows
from hub.demo.world import World

REGISTER_CSV = "市场主体名录.csv"


def export_shichang(world: World, out: Path) -> list[SourceExport]:
    out.mkdir(parents=True, exist_ok=True)
    o = world.orgs
    kept = o[o["org_type"].isin(["enterprise", "individual_business"]).to_numpy() & o["registered"].to_numpy()]
    reps = kept["legal_rep"].to_numpy()
    names = world.persons["name"].to_numpy(dtype=object)
    rows = pd.DataFrame({
        "统一社会信用代码": kept["credit_code"].to_numpy(dtype=object),
        "企业名称": kept["name"].to_numpy(dtype=object),
        "市场主体类型": kept["org_kind_zh"].to_numpy(dtype=object),
        "法定代表人": np.where(reps >= 0, names[np.maximum(reps, 0)], ""),
        "住所": kept["address"].to_numpy(dtype=object),
        "成立日期": pd.to_datetime(kept["registered_on"]).dt.strftime("%Y-%m-%d").to_numpy(dtype=object),
        "登记状态": "存续",
    })
    rows.to_csv(out / REGISTER_CSV, index=False, encoding="utf-8-sig")
    n = len(rows)
    truth = truth_rows("shichang_entities", rows["统一社会信用代码"].to_numpy(dtype=object),
                       {"organization": ("organization", kept["org_id"].to_numpy(dtype=object))},
                       np.full(n, "", dtype=object), np.zeros(n, dtype=bool))
    return [SourceExport("shichang_entities", str(out / REGISTER_CSV), n, truth)]
