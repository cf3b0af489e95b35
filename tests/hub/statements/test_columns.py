"""Reading a field out of a batch: maps with folded keys, what a map misses, composite values, normalizers."""

from __future__ import annotations

import pandas as pd

from hub.mapping import FieldSpec, MappingSpec
from hub.statements.columns import field_values, map_values, normalizer_name, raw_values, unmapped_values


def _mapping(**extra: object) -> MappingSpec:
    return MappingSpec.model_validate({
        "source": "t", "department": "grid", "connector": {"kind": "file"}, "record_id": "id",
        "entities": {"p": {"type": "person", "fields": {"name": "n"}}}, **extra})


def test_inline_map_keys_fold_like_codes() -> None:
    values = pd.Series(["1", "01", "1.0", " 2 ", "正常", "x", None], dtype=object)
    mapped = map_values(values, {"1": "active", "2": "suspended", "正常": "active"})
    assert mapped.tolist() == ["active", "active", "active", "suspended", "active", "x", None]
    assert unmapped_values(values, {"1": "a", "2": "b"}) == {"正常": 1, "x": 1}
    assert unmapped_values(pd.Series(["01", "汉", "Uyghur", "??"]), "gb_3304") == {"??": 1}


def test_field_values_apply_map_then_default_then_when() -> None:
    frame = pd.DataFrame({"t": ["1", "", "2"], "k": ["a", "a", "b"]})
    spec = FieldSpec.model_validate({"column": "t", "map": {"1": "x"}, "default": "d", "when": "k == a"})
    assert field_values(frame, spec).tolist() == ["x", "d", None]


def test_raw_values_of_composites_and_joins() -> None:
    frame = pd.DataFrame({"a": ["幸福小区", None], "b": [3, "3栋"], "c": ["2", ""], "d": [1502.0, "1502"]})
    parts = FieldSpec.model_validate({"parts": {"estate": "a", "building": "b", "unit": "c", "room": "d"}})
    assert raw_values(frame, parts).tolist() == ["幸福小区3号楼2单元1502室", "3栋1502室"]
    joined = FieldSpec.model_validate({"columns": ["a", "c"], "join": "-"})
    assert raw_values(frame, joined).tolist() == ["幸福小区-2", None]
    assert raw_values(frame, FieldSpec.model_validate({"column": "missing"})).isna().all()


def test_normalizer_follows_the_attribute_the_field_and_the_date_hint() -> None:
    plain, dmy = _mapping(), _mapping(dates={"order": "dmy"})
    column = FieldSpec(column="x")
    assert normalizer_name(plain, "person", "birth_date", column) == "date"
    assert normalizer_name(dmy, "person", "birth_date", column) == "date_dmy"
    assert normalizer_name(dmy, "event", "occurred_at", column) == "datetime"
    assert normalizer_name(dmy, "person", "birth_date", FieldSpec(column="x", normalize="date")) == "date"
    assert normalizer_name(plain, "person", "ethnicity", column) == "ethnicity"
