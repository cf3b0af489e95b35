"""The knobs of the simulated district: how common things are (`Prevalence`) and how dirty each
department's copy of them is (`DirtRates`).

Rates are shares of records (0..1) that receive a defect, drawn independently per record, so one
record can carry several. Each department applies the defects that its kind of system produces;
the table in hub/demo/README.md says which. Public security is the reference register (second-
generation ID cards are printed from it) and receives every name/ID defect at a fifth of the rate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Prevalence:
    """How the population and its circumstances are distributed (not defects)."""

    floating_share: float = 0.22  # households of floating population (流动人口)
    ethnic_shares: tuple[float, float, float, float, float] = (0.84, 0.09, 0.03, 0.03, 0.01)
    """Households by group: Han, Uyghur, Kazakh, Hui, other (蒙古/满/锡伯); ~12 % Uyghur/Kazakh."""
    twin_share: float = 0.03  # households with ≥ 2 children whose first two are twins
    namesake_share: float = 0.003  # residents given the name and birth date of another resident
    grandfather_name_share: float = 0.12  # Uyghur/Kazakh sons named after the grandfather (reversed name)
    outsider_share: float = 0.12  # persons known to departments but living outside the district
    separated_hukou_share: float = 0.12  # registered households whose hukou house is another house (人户分离)
    dibao_household_share: float = 0.03  # registered households receiving 低保
    tekun_share: float = 0.002  # residents receiving 特困供养
    disability_share: float = 0.03  # residents with a disability certificate
    employment_share: float = 0.62  # residents aged 18–59 in employment
    insured_share: float = 0.85  # employed persons insured through their unit
    pension_share: float = 0.7  # residents of pension age drawing a pension
    vehicle_household_share: float = 0.3  # households with a car registered at the property office
    tickets_per_household: float = 0.3  # repair requests and complaints per occupied house
    access_events_per_resident: float = 1.0
    unregistered_tenant_share: float = 0.1  # floating tenants (heads of renting households) missing from 公安实有人口
    welfare_high_base_share: float = 0.25  # working-age active 低保/特困 recipients with a contribution base > 10,000
    staff_per_1000: float = 6.0  # community staff (社区工作者, 网格员, cadres) on the roster per 1,000 residents
    staff_outsider_share: float = 0.3  # of the staff not planted: living outside the district
    staff_relative_share: float = 0.3  # active 低保 households with a relative of the applicant on the staff roster
    sham_employer_share: float = 0.08  # businesses insuring employees that no register holds (空壳/挂靠参保)
    sham_invalid_code_share: float = 0.5  # of those: quoting a made-up credit code (check character fails)
    care_stop_share: float = 0.15  # elderly living alone (70+) whose door events stopped 50 h to 10 days ago
    seasonal_share: float = 0.01  # registered adults who spend part of the year elsewhere (候鸟), away now
    stale_vacancy_share: float = 0.02  # occupied houses the property office still marks 空置
    group_rent_share: float = 0.15  # renting floating households of 3+ in a partitioned flat (3–6 m² each)
    enterprises_per_1000: float = 25.0
    social_orgs_per_1000: float = 2.5


@dataclass(frozen=True)
class DirtRates:
    """Defects and their rates. Defaults follow what exports of such systems look like."""

    traditional_name: float = 0.05  # civil affairs: name typed with traditional characters (張偉)
    fullwidth_digits: float = 0.02  # civil affairs, property: ID or phone in full-width digits (６５…)
    old_id_15: float = 0.20  # social insurance: persons born before 1984 kept with a 15-digit ID
    old_id_15_other: float = 0.02  # the same elsewhere (civil affairs, public security)
    id_typo: float = 0.01  # one digit mistyped: the check character fails
    id_transposed: float = 0.005  # two adjacent characters swapped: the check character fails
    id_missing: float = 0.03  # ID left blank (civil affairs, social insurance)
    id_lowercase_x: float = 0.3  # of IDs ending in X, written with a lower-case x
    id_excel_number: float = 0.01  # xlsx: ID stored as a number, digits past the 15th lost
    head_id_on_member: float = 0.02  # allowance rows of a household member carrying the head's ID
    homophone_name: float = 0.02  # one character replaced by a homophone (王伟 → 王玮)
    translit_variant: float = 0.25  # transliterated names in another spelling (买买提 → 麦麦提)
    separator_variant: float = 0.30  # transliterated names with a separator other than U+00B7
    father_name_dropped: float = 0.03  # property: transliterated name without the father's name part
    name_swapped: float = 0.003  # given name written before the surname (伟王)
    honorific_name: float = 0.05  # property tickets: reporter written as 王先生 / 王女士
    date_nonstandard: float = 0.5  # civil affairs: dates in a format other than YYYY-MM-DD
    excel_serial_date: float = 0.15  # xlsx: dates stored as Excel serial numbers (31113)
    phone_formatted: float = 0.15  # phones with +86, spaces or dashes
    phone_shared: float = 0.03  # welfare rows carrying the community office's phone
    address_variant: float = 0.4  # building/unit/room in another form (三栋, 3-2-1502, 15楼02)
    estate_missing: float = 0.1  # free-text address without the estate name
    duplicate: float = 0.01  # the same person entered twice in one source, slightly different
    broken_rate: float = 0.001  # truly broken rows (unparseable date, ID with letters, no name)
    broken_min: int = 3  # … but at least this many per source
    property_id_masked: float = 0.3  # property residents: masked ID 650102********1237
    property_id_present: float = 0.1  # property residents: full ID (the rest carry none)

    def scaled(self, factor: float) -> DirtRates:
        """The same defects at `factor` times the rate (counts stay as they are)."""
        values: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            values[f.name] = value if isinstance(value, int) else min(1.0, value * factor)
        return DirtRates(**values)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_NONE: dict[str, Any] = {f.name: (0 if f.type == "int" else 0.0) for f in fields(DirtRates)}
CLEAN = DirtRates(**_NONE)
"""No defects at all: useful to test a pipeline on the clean world."""
