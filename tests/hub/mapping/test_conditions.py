"""`when`: the condition expressions, their folding of codes, and their errors."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from hub.mapping.conditions import Condition, conditions_hold, fold, parse_condition


@pytest.mark.parametrize(("text", "expected"), [
    ("证件类型 in (居民身份证, 户口簿)", {"column": "证件类型", "in": ["居民身份证", "户口簿"]}),
    ("证件类型 not in [护照, '其他, 未知']", {"column": "证件类型", "not_in": ["护照", "其他, 未知"]}),
    ("证件类型 == 1", {"column": "证件类型", "equals": "1"}),
    ("证件类型 = '01'", {"column": "证件类型", "equals": "01"}),
    ("状态 != 注销", {"column": "状态", "not_equals": "注销"}),
    ("备注 is blank", {"column": "备注", "blank": True}),
    ("备注 is not empty", {"column": "备注", "blank": False}),
    ("'证件 类型' == 护照", {"column": "证件 类型", "equals": "护照"}),
    ("证件号码 matches '[0-9]{17}[0-9Xx]'", {"column": "证件号码", "matches": "[0-9]{17}[0-9Xx]"}),
])
def test_expressions_parse(text: str, expected: dict[str, object]) -> None:
    assert parse_condition(text) == expected
    condition = Condition.model_validate(text)
    assert Condition.model_validate(condition.describe()) == condition     # written back, it reads the same


@pytest.mark.parametrize("text", ["证件类型", "证件类型 in ()", "证件类型 like 身份证", "== 1"])
def test_bad_expressions_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match="cannot read condition"):
        parse_condition(text)


def test_mapping_form_needs_exactly_one_operator() -> None:
    with pytest.raises(ValidationError, match="exactly one of"):
        Condition.model_validate({"column": "a", "equals": "1", "blank": True})
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        Condition.model_validate({"column": "a", "matches": "[0-9"})
    assert Condition.model_validate({"column": "a", "in": [1, "02"]}).in_ == ["1", "02"]


def test_codes_fold_as_excel_and_office_software_write_them() -> None:
    assert fold("01") == fold(1) == fold("1.0") == fold(" 1 ") == "1"
    assert fold("０１") == "1"                 # full-width digits
    assert fold("居民身份證") == fold("居民身份证")   # traditional characters
    cells = pd.Series(["1", "01", "1.0", "2", None, "", "居民身份證"])
    assert Condition.model_validate("t == 01").holds(cells).tolist() == [True, True, True, False, False, False, False]
    assert Condition.model_validate("t in (居民身份证)").holds(cells).tolist()[-1]
    assert Condition.model_validate("t is blank").holds(cells).tolist() == [False] * 4 + [True, True, False]
    assert Condition.model_validate("t != 2").holds(cells).tolist()[4]      # a blank differs from 2


def test_all_conditions_must_hold_and_a_missing_column_is_blank() -> None:
    frame = pd.DataFrame({"a": ["1", "1", "2"], "b": ["x", "", "x"]})
    both = [Condition.model_validate("a == 1"), Condition.model_validate("b is not blank")]
    assert conditions_hold(frame, both).tolist() == [True, False, False]
    assert conditions_hold(frame, [Condition.model_validate("gone is blank")]).all()
    assert conditions_hold(frame, []).all()
