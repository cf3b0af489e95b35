"""The ground truth written beside the department systems (out_dir/truth/*.csv).

- persons.csv, houses.csv, organizations.csv, things.csv, situations.csv: the true entities;
- records.csv: for every source record and every entity it describes, the true id, the defects
  it received (`dirt`, ';'-separated tags) and whether it is truly broken;
- source_counts.csv: per source the number of records it holds, of broken rows and of duplicates;
- hard_negatives.csv: pairs that look alike but are different persons (twins, same name and birth
  date, father and son with reversed Uyghur names).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from hub.demo.anomalies import anomalies_table, anomaly_counts
from hub.demo.people import RELATION_NAMES
from hub.demo.records import SourceExport
from hub.demo.reference import reference
from hub.demo.world import World


def _date(values: npt.NDArray[np.datetime64]) -> npt.NDArray[np.object_]:
    d = values.astype("datetime64[D]")
    out = np.datetime_as_string(d, unit="D").astype(object)
    out[np.isnat(d)] = ""
    return out


def _ref(ids: npt.NDArray[np.object_], idx: npt.NDArray[np.int64]) -> npt.NDArray[np.object_]:
    return np.where(idx >= 0, ids[np.maximum(idx, 0)], "")


def persons_table(world: World) -> pd.DataFrame:
    p = world.persons
    houses = world.geo.houses["house_id"].to_numpy(dtype=object)
    ids = p["person_id"].to_numpy(dtype=object)
    residence = p["house"].to_numpy()
    return pd.DataFrame(
        {
            "person_id": ids,
            "name": p["name"],
            "resident_id": p["resident_id"],
            "gender": np.where(p["male"], "1", "2"),
            "ethnicity": p["ethnicity"],
            "birth_date": _date(p["birth"].to_numpy()),
            "phone": p["phone"],
            "household_no": p["household_no"],
            "relation_to_head": np.where(
                p["floating"], "", np.array(RELATION_NAMES, dtype=object)[p["relation"].to_numpy()]
            ),
            "residence_house_id": _ref(houses, residence),
            "hukou_house_id": _ref(houses, p["hukou_house"].to_numpy()),
            "population_type": np.where(~p["in_district"], "", np.where(p["floating"], "floating", "registered")),
            "death_date": _date(p["death"].to_numpy()),
            "in_district": p["in_district"],
            "twin_of": _ref(ids, p["twin_of"].to_numpy()),
            "namesake_of": _ref(ids, p["namesake_of"].to_numpy()),
        }
    )


def houses_table(world: World) -> pd.DataFrame:
    g = world.geo
    h = g.houses
    e = g.estates.iloc[h["estate"].to_numpy()]
    c = g.communities.iloc[e["community"].to_numpy()]
    return pd.DataFrame(
        {
            "house_id": h["house_id"],
            "district_code": reference()["district"]["code"],
            "street": np.array(g.streets, dtype=object)[c["street"].to_numpy()],
            "community": c["name"].to_numpy(),
            "grid": h["grid"],
            "estate": e["name"].to_numpy(),
            "building": h["building"],
            "unit": h["unit"],
            "room": h["room"],
            "floor_area": h["area"],
            "address": g.address(np.arange(len(h))).to_numpy(),
        }
    )


def organizations_table(world: World) -> pd.DataFrame:
    o = world.orgs
    ids = world.persons["person_id"].to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "org_id": o["org_id"],
            "name": o["name"],
            "credit_code": o["credit_code"],
            "org_type": o["org_type"],
            "legal_rep_person_id": _ref(ids, o["legal_rep"].to_numpy()),
            "address": o["address"],
            "registered_on": _date(o["registered_on"].to_numpy()),
            "unit_no": o["unit_no"],
        }
    )


def things_table(world: World) -> pd.DataFrame:
    v = world.vehicles
    return pd.DataFrame(
        {
            "thing_id": v["thing_id"],
            "thing_type": "vehicle",
            "plate_no": v["plate"],
            "owner_person_id": world.persons["person_id"].to_numpy(dtype=object)[v["person"].to_numpy()],
            "house_id": world.geo.houses["house_id"].to_numpy()[v["house"].to_numpy()],
            "parking_space_no": v["parking_space"],
            "brand": v["brand"],
            "color": v["color"],
        }
    )


def situations_table(world: World) -> pd.DataFrame:
    w = world.welfare
    ins = world.insurance
    pid = world.persons["person_id"].to_numpy(dtype=object)
    houses = world.geo.houses["house_id"].to_numpy(dtype=object)
    welfare = pd.DataFrame(
        {
            "person_id": pid[w["person"].to_numpy()],
            "situation_type": w["kind"],
            "level": w["level"],
            "amount": w["amount"],
            "status": w["status"],
            "start_date": _date(w["start"].to_numpy()),
            "house_id": _ref(houses, w["house"].to_numpy()),
        }
    )
    status = ins["status"].map({"1": "active", "2": "suspended", "3": "ended"})
    insured = pd.DataFrame(
        {
            "person_id": pid[ins["person"].to_numpy()],
            "situation_type": "insured",
            "level": "",
            "amount": "",
            "status": status,
            "start_date": "",
            "house_id": "",
        }
    )
    drawing = ins["pension"] != "0"
    pension = pd.DataFrame(
        {
            "person_id": pid[ins["person"].to_numpy()[drawing]],
            "situation_type": "pension",
            "level": "",
            "amount": "",
            "start_date": "",
            "house_id": "",
            "status": ins.loc[drawing, "pension"].map({"1": "active", "2": "suspended", "3": "ended"}),
        }
    )
    return pd.concat([welfare, insured, pension], ignore_index=True)


def hard_negatives(world: World) -> pd.DataFrame:
    p = world.persons
    ids = p["person_id"].to_numpy(dtype=object)
    twin = p["twin_of"].to_numpy()
    name = p["namesake_of"].to_numpy()
    parts = [
        pd.DataFrame({"kind": "twins", "person_id_a": ids[twin[twin >= 0]], "person_id_b": ids[twin >= 0]}),
        pd.DataFrame(
            {"kind": "same_name_and_birth_date", "person_id_a": ids[name[name >= 0]], "person_id_b": ids[name >= 0]}
        ),
    ]
    translit = p[p["father_part"] != ""]
    forward = pd.DataFrame({"b": translit.index, "key": translit["given"] + "\x1f" + translit["father_part"]})
    backward = pd.DataFrame({"a": translit.index, "key": translit["father_part"] + "\x1f" + translit["given"]})
    pairs = backward.merge(forward, on="key")
    pairs = pairs[pairs["a"] < pairs["b"]]
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    same_household = (p["household"].to_numpy()[a] == p["household"].to_numpy()[b]) & (
        p["household"].to_numpy()[a] >= 0
    )
    parts.append(
        pd.DataFrame(
            {
                "kind": np.where(same_household, "father_son_reversed_name", "reversed_name"),
                "person_id_a": ids[a],
                "person_id_b": ids[b],
            }
        )
    )
    return pd.concat(parts, ignore_index=True)


def write_truth(world: World, exports: list[SourceExport], truth_dir: Path) -> dict[str, int]:
    """Write the truth tables; returns the number of persons carrying each planted anomaly."""
    truth_dir.mkdir(parents=True, exist_ok=True)
    tables = {
        "persons": persons_table(world),
        "houses": houses_table(world),
        "organizations": organizations_table(world),
        "things": things_table(world),
        "situations": situations_table(world),
        "hard_negatives": hard_negatives(world),
        "anomalies": anomalies_table(world),
    }
    for name, frame in tables.items():
        frame.to_csv(truth_dir / f"{name}.csv", index=False)
    records = pd.concat([e.truth for e in exports], ignore_index=True)
    records.to_csv(truth_dir / "records.csv", index=False)
    counts = []
    for e in exports:
        per_record = e.truth.drop_duplicates("source_record_id")
        counts.append(
            {
                "source": e.source,
                "records": e.records,
                "broken": int(per_record["broken"].sum()),
                "duplicates": int(per_record["dirt"].str.contains("duplicate").sum()),
            }
        )
    pd.DataFrame(counts).to_csv(truth_dir / "source_counts.csv", index=False)
    return anomaly_counts(tables["anomalies"])
