"""Builders for small person frames, shaped as hub.resolve.frames.entity_frame returns them."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

COLUMNS = ("record_key", "source", "name", "resident_id", "birth_date", "gender", "phone",
           "house_estate", "house_building", "house_unit", "house_room")


def person(key: str, source: str = "renshe_insured", **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(record_key=f"{source}|{key}|person", source=source)
    row.update(values)
    return row


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(dict.fromkeys([*COLUMNS, *(k for r in rows for k in r)])))


@pytest.fixture
def make_frame() -> Any:
    return frame
