"""The true state of the simulated district, from which every department's records are derived.

`build_world` draws, in order and each from its own random stream, the population and its houses,
organizations and insurance, welfare, property roles (owners, tenants), vehicles, repair tickets and
door-access events. The same seed gives the same world whatever the dirt rates, because defects are
drawn later from other streams.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from hub.demo.clock import stream
from hub.demo.config import Prevalence
from hub.demo.geo import Geography, build_geography
from hub.demo.housing import build_access, build_occupancy, build_tickets, build_vehicles, unregistered_tenants
from hub.demo.orgs import build_insurance, build_organizations
from hub.demo.planted import build_staff, plant_sham_employers, plant_welfare_income
from hub.demo.population import build_population
from hub.demo.presence import Presence, plant_presence
from hub.demo.welfare import build_welfare


@dataclass
class World:
    seed: int
    geo: Geography
    persons: pd.DataFrame
    households: pd.DataFrame
    orgs: pd.DataFrame
    insurance: pd.DataFrame
    welfare: pd.DataFrame
    occupancy: pd.DataFrame
    vehicles: pd.DataFrame
    tickets: pd.DataFrame
    access: pd.DataFrame
    unregistered: npt.NDArray[np.bool_]
    """Per person: a floating tenant public security has no record of (a planted anomaly, see hub.demo.anomalies)."""
    presence: Presence
    """Elderly living alone and their door events, seasonal residents, the property office's house marks."""
    staff: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"person": [], "post": [], "staff_no": []}))
    """The community staff roster (hub.demo.planted.build_staff): person, post, staff number."""


def build_world(seed: int, residents: int, prev: Prevalence | None = None) -> World:
    prev = prev or Prevalence()
    pop, geo = build_population(stream(seed, "population"), residents, build_geography, prev)
    p, hh = pop.persons, pop.households
    orgs = build_organizations(stream(seed, "orgs"), p, residents, prev)
    occupancy = build_occupancy(stream(seed, "occupancy"), p, hh, len(geo.houses))
    welfare = build_welfare(stream(seed, "welfare"), p, hh, prev)
    insurance = plant_welfare_income(stream(seed, "welfare_income"), p, orgs,
                                     build_insurance(stream(seed, "insurance"), p, orgs, prev), welfare, prev)
    orgs = plant_sham_employers(stream(seed, "sham_employers"), orgs, insurance, prev)
    access = build_access(stream(seed, "access"), p, geo, prev)
    presence, access = plant_presence(stream(seed, "presence"), p, hh, geo.houses, occupancy, access, prev)
    return World(
        seed=seed,
        geo=geo,
        persons=p,
        households=hh,
        orgs=orgs,
        insurance=insurance,
        welfare=welfare,
        occupancy=occupancy,
        vehicles=build_vehicles(stream(seed, "vehicles"), p, hh, prev),
        tickets=build_tickets(stream(seed, "tickets"), p, hh, prev),
        access=access,
        unregistered=unregistered_tenants(stream(seed, "unregistered"), p, occupancy, prev),
        staff=build_staff(stream(seed, "staff"), p, hh, welfare, residents, prev),
        presence=presence,
    )
