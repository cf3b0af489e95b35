"""Life around the houses: who owns or rents them (as the property office knows it), the cars parked
there, repair requests and complaints, and door-access events at the estate gates."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from hub.demo.clock import SNAPSHOT, random_times
from hub.demo.config import Prevalence
from hub.demo.geo import Geography
from hub.demo.orgs import ages
from hub.demo.reference import reference


def build_occupancy(rng: np.random.Generator, p: pd.DataFrame, hh: pd.DataFrame, n_houses: int) -> pd.DataFrame:
    """Who the property office knows per house: owners (业主) and tenants (租户)."""
    heads = hh["head"].to_numpy()
    house = hh["house"].to_numpy()
    floating = hh["floating"].to_numpy()
    own = rng.random(len(hh)) < np.where(floating, 0.1, 0.8)
    spouse = np.where(hh["kind"].isin([2, 3, 5, 6, 7]).to_numpy(), heads + 1, -1)
    owner = np.where((spouse >= 0) & (rng.random(len(hh)) < 0.3), spouse, heads)
    outsiders = np.flatnonzero(~p["in_district"].to_numpy())
    adults = np.flatnonzero(p["in_district"].to_numpy() & (ages(p) >= 25))

    def landlords(k: int) -> npt.NDArray[np.int64]:
        from_out = rng.random(k) < 0.65
        return np.where(
            from_out, outsiders[rng.integers(0, len(outsiders), k)], adults[rng.integers(0, len(adults), k)]
        )

    vacant = np.setdiff1d(np.arange(n_houses), house)
    vacant = vacant[rng.random(len(vacant)) < 0.85]
    rows = [
        pd.DataFrame({"person": owner[own], "house": house[own], "role": "owner"}),
        pd.DataFrame({"person": landlords(int((~own).sum())), "house": house[~own], "role": "owner"}),
        pd.DataFrame({"person": heads[~own], "house": house[~own], "role": "tenant"}),
        pd.DataFrame({"person": landlords(len(vacant)), "house": vacant, "role": "owner"}),
    ]
    co = own & (spouse >= 0) & (rng.random(len(hh)) < 0.2)
    rows.append(
        pd.DataFrame(
            {"person": np.where(owner[co] == heads[co], spouse[co], heads[co]), "house": house[co], "role": "owner"}
        )
    )
    occ = pd.concat(rows, ignore_index=True)
    tenant = occ["role"].eq("tenant").to_numpy()
    occ["move_in"] = SNAPSHOT - np.where(
        tenant, rng.integers(30, 5 * 365, len(occ)), rng.integers(180, 25 * 365, len(occ))
    ).astype("timedelta64[D]")
    return occ.sort_values(["house", "role"], kind="stable").reset_index(drop=True)


def unregistered_tenants(rng: np.random.Generator, p: pd.DataFrame, occ: pd.DataFrame, prev: Prevalence
                         ) -> npt.NDArray[np.bool_]:
    """Per person: a floating tenant whom public security never registered (`unregistered_tenant_share` of
    the floating persons who rent), left out of 实有人口 but known to the property office and the gates."""
    tenant = np.zeros(len(p), dtype=bool)
    tenant[occ.loc[occ["role"].eq("tenant"), "person"].to_numpy()] = True
    candidates = np.flatnonzero(tenant & p["floating"].to_numpy() & p["in_district"].to_numpy())
    out = np.zeros(len(p), dtype=bool)
    out[candidates[rng.random(len(candidates)) < prev.unregistered_tenant_share]] = True
    return out


def build_vehicles(rng: np.random.Generator, p: pd.DataFrame, hh: pd.DataFrame, prev: Prevalence) -> pd.DataFrame:
    ref = reference()
    floating = hh["floating"].to_numpy()
    has = rng.random(len(hh)) < np.where(floating, prev.vehicle_household_share / 2, prev.vehicle_household_share)
    count = has + (has & (rng.random(len(hh)) < 0.12))
    owner_hh = np.repeat(np.arange(len(hh)), count)
    heads = hh["head"].to_numpy()[owner_hh]
    age = ages(p)
    spouse_ok = hh["kind"].isin([2, 3, 5, 6, 7]).to_numpy()[owner_hh]
    owner = np.where((age[heads] > 75) & spouse_ok, heads + 1, heads)
    n = len(owner)
    county = p["county"].to_numpy()[owner]
    home = np.where(
        np.char.startswith(county.astype(str), "65") | (rng.random(n) < 0.6),
        "新A",
        pd.Series(county).str[:2].map(ref["plate_of_prefix"]).fillna("新A").to_numpy(),
    )
    letters = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ"))
    alnum = np.array(list("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"))
    nev = rng.random(n) < 0.1
    tail = np.where(
        nev,
        np.where(rng.random(n) < 0.7, "D", "F")
        + pd.Series(rng.integers(0, 10**5, n)).astype(str).str.zfill(5).to_numpy(),
        letters[rng.integers(0, len(letters), n)]
        + _join(
            rng,
            np.where(
                rng.random((n, 4)) < 0.8, rng.integers(0, 10, (n, 4)).astype(str), alnum[rng.integers(10, 34, (n, 4))]
            ),
        ),
    )
    plate = pd.Series(home + tail).drop_duplicates()
    keep = plate.index.to_numpy()
    space = np.where(
        rng.random(n) < 0.6,
        np.where(
            rng.random(n) < 0.6,
            "B1-" + pd.Series(rng.integers(1, 600, n)).astype(str).str.zfill(3).to_numpy(),
            "地上-" + pd.Series(rng.integers(1, 200, n)).astype(str).str.zfill(3).to_numpy(),
        ),
        "",
    )
    brands, colors = np.array(ref["vehicle_brands"]), np.array(ref["vehicle_colors"])
    v = pd.DataFrame(
        {
            "plate": plate.to_numpy(),
            "person": owner[keep],
            "house": hh["house"].to_numpy()[owner_hh][keep],
            "parking_space": space[keep],
            "brand": brands[rng.integers(0, len(brands), n)][keep],
            "color": colors[rng.integers(0, len(colors), n)][keep],
        }
    )
    v["thing_id"] = [f"T{k:07d}" for k in range(1, len(v) + 1)]
    return v


def _join(rng: np.random.Generator, chars: npt.NDArray[np.str_]) -> npt.NDArray[np.str_]:
    out = chars[:, 0].astype(object)
    for j in range(1, chars.shape[1]):
        out = out + chars[:, j]
    return out.astype(str)


def build_tickets(rng: np.random.Generator, p: pd.DataFrame, hh: pd.DataFrame, prev: Prevalence) -> pd.DataFrame:
    ref = reference()
    n = rng.poisson(prev.tickets_per_household * len(hh))
    which = rng.integers(0, len(hh), n)
    heads = hh["head"].to_numpy()[which]
    spouse_ok = hh["kind"].isin([2, 3, 5, 6, 7]).to_numpy()[which]
    reporter = np.where(spouse_ok & (rng.random(n) < 0.35), heads + 1, heads)
    repair = rng.random(n) < 0.7
    subject = np.where(
        repair,
        np.array(ref["repairs"])[rng.integers(0, len(ref["repairs"]), n)],
        np.array(ref["complaints"])[rng.integers(0, len(ref["complaints"]), n)],
    )
    created = random_times(rng, n, 730)
    status = rng.choice(["已完成", "处理中", "待处理"], n, p=[0.75, 0.15, 0.1])
    closed = np.where(
        status == "已完成", created + (rng.random(n) * 10 * 86400 + 3600).astype("timedelta64[s]"), np.datetime64("NaT")
    )
    return pd.DataFrame(
        {
            "house": hh["house"].to_numpy()[which],
            "person": reporter,
            "type": np.where(repair, "报修", "投诉"),
            "subject": subject,
            "created": created,
            "status": status,
            "closed": closed,
        }
    )


def build_access(rng: np.random.Generator, p: pd.DataFrame, geo: Geography, prev: Prevalence) -> pd.DataFrame:
    alive = p["in_district"].to_numpy() & p["death"].isna().to_numpy() & (ages(p) >= 10)
    pool = np.flatnonzero(alive)
    n = rng.poisson(prev.access_events_per_resident * len(pool))
    who = pool[rng.integers(0, len(pool), n)]
    estate = geo.houses["estate"].to_numpy()[p["house"].to_numpy()[who]]
    gate = rng.integers(1, 4, n)
    device = "MJ" + pd.Series(estate + 1).astype(str).str.zfill(4).to_numpy() + "-" + gate.astype(str)
    return (
        pd.DataFrame(
            {"person": who, "device": device, "time": random_times(rng, n, 30), "direction": rng.choice(["1", "2"], n)}
        )
        .sort_values("time", kind="stable")
        .reset_index(drop=True)
    )
