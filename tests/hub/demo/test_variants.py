"""The written forms of one true value are the ones department exports show."""

from __future__ import annotations

import numpy as np

from hub.demo import variants as v
from hub.demo.names import homophone_variant, respell


def test_dates_in_every_style() -> None:
    dates = np.array(["1985-03-07"] * 8, dtype="datetime64[s]")
    out = list(v.format_dates(dates, np.arange(8)))
    assert out[:6] == ["1985-03-07", "1985年3月7日", "19850307", "1985/3/7", "1985.03.07", "1985-03-07 00:00:00"]
    assert out[6] == 31113  # Excel serial of 1985-03-07
    assert str(out[7]) == "1985-03-07"


def test_house_numbers_in_every_style() -> None:
    assert list(v.building_text(np.full(6, 3), np.arange(6))) == ["3号楼", "3栋", "三栋", "3幢", "3#楼", "3"]
    assert list(v.unit_text(np.full(3, 2), np.arange(3))) == ["2单元", "二单元", "2"]
    assert list(v.room_text(np.full(4, 1502), np.arange(4))) == ["1502室", "1502", "15楼02", "15层02室"]


def test_id_defects_break_the_check_character() -> None:
    rng = np.random.default_rng(1)
    ids = np.array(["650102198503071237"] * 200, dtype=object)
    for broken in (v.mistype_digit(ids, rng), v.transpose_adjacent(ids, rng)):
        assert all(len(s) == 18 and s != "650102198503071237" for s in broken)
    assert v.masked(ids[:1])[0] == "650102********1237"
    assert v.excel_number(ids[:1])[0] == 650102198503071000
    assert v.fullwidth(np.array(["65010219700101123X"], dtype=object))[0] == "６５０１０２１９７００１０１１２３Ｘ"


def test_phone_forms_keep_the_digits() -> None:
    rng = np.random.default_rng(2)
    forms = v.format_phones(np.array(["13800138000"] * 50, dtype=object), rng)
    assert {"".join(c for c in f if c.isdigit()).removeprefix("0086").removeprefix("86") for f in forms} == {
        "13800138000"
    }
    assert len(set(forms)) > 3


def test_name_variants() -> None:
    rng = np.random.default_rng(3)
    assert homophone_variant("王伟", rng) in {"王玮", "王炜", "王纬"}
    assert homophone_variant("欧阳明", rng, surname_len=2) in {"欧阳铭", "欧阳鸣"}
    assert respell("买买提·艾力", rng) != "买买提·艾力"
    assert list(v.traditional(np.array(["张伟", "沈静芳"], dtype=object))) == ["張偉", "沈靜芳"]
