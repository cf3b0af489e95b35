"""Normalizers: pure, total functions from one raw value to a `Normalized` value or a reason.

Mappings name a normalizer per field; `NORMALIZERS` is the registry those names resolve in.
The matching keys built on normalized names (pinyin, loose, sorted) are in `name_keys`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from rapidfuzz import process

from hub.normalize.addresses import normalize_address
from hub.normalize.base import EMPTY, Normalized, Normalizer, normalize_column
from hub.normalize.codes import (
    normalize_ethnicity,
    normalize_gender,
    normalize_population_type,
    normalize_relation_to_head,
)
from hub.normalize.credit_code import normalize_credit_code
from hub.normalize.dates import normalize_date, normalize_date_dmy, normalize_datetime
from hub.normalize.houses import (
    normalize_building_no,
    normalize_community_name,
    normalize_estate_name,
    normalize_room_no,
    normalize_unit_no,
)
from hub.normalize.misc import (
    normalize_boolean,
    normalize_decimal,
    normalize_integer,
    normalize_plate,
    normalize_text,
)
from hub.normalize.names import normalize_org_name, normalize_person_name
from hub.normalize.phones import normalize_phone
from hub.normalize.resident_id import normalize_resident_id

NORMALIZERS: Mapping[str, Normalizer] = MappingProxyType({
    "resident_id": normalize_resident_id,
    "credit_code": normalize_credit_code,
    "person_name": normalize_person_name,
    "org_name": normalize_org_name,
    "phone": normalize_phone,
    "date": normalize_date,
    "date_dmy": normalize_date_dmy,
    "datetime": normalize_datetime,
    "gender": normalize_gender,
    "ethnicity": normalize_ethnicity,
    "population_type": normalize_population_type,
    "relation_to_head": normalize_relation_to_head,
    "address": normalize_address,
    "building_no": normalize_building_no,
    "unit_no": normalize_unit_no,
    "room_no": normalize_room_no,
    "estate_name": normalize_estate_name,
    "community_name": normalize_community_name,
    "text": normalize_text,
    "decimal": normalize_decimal,
    "integer": normalize_integer,
    "plate": normalize_plate,
    "boolean": normalize_boolean,
})
"""Every normalizer by the name a mapping uses for it."""


def get_normalizer(name: str) -> Normalizer:
    """The normalizer registered under `name`; KeyError naming the closest valid names otherwise."""
    try:
        return NORMALIZERS[name]
    except (KeyError, TypeError):
        nearest = [match for match, _, _ in process.extract(str(name), list(NORMALIZERS), limit=3)]
        raise KeyError(f"unknown normalizer {name!r}; did you mean {', '.join(nearest)}?") from None


__all__ = [
    "EMPTY",
    "NORMALIZERS",
    "Normalized",
    "Normalizer",
    "get_normalizer",
    "normalize_column",
]
