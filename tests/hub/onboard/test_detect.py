"""Value shapes of a column: shares of IDs, codes, dates in either order; never the values of identifiers."""

from __future__ import annotations

from hub.onboard.detect import profile


def test_identifiers_phones_plates_and_credit_codes() -> None:
    ids = profile("x", ["650102198503071237", "", "650102198503071273", "650102********1237"])
    assert ids.shares["resident_id"] == 1 / 3 and ids.shares["masked_id"] == 1 / 3 and ids.codes is None
    assert ids.filled == 3 and not ids.unique
    phones = profile("x", ["13800138000", "+86 139-0013-9000", "0991-4600037"])
    assert phones.shares["phone"] == 1.0 and round(phones.shares["mobile"], 2) == 0.67 and phones.codes is None
    assert profile("x", ["新A12345", "新AD12345"]).shares["plate"] == 1.0
    codes = profile("x", ["91650102MA77T5FM4P", "91650102MA77T5FM4E"])     # valid, then a wrong check character
    assert codes.shares["credit_code"] == 0.5


def test_code_lists_are_kept_and_recognised() -> None:
    gender = profile("x", ["1", "2", "1", "2", "1"])
    assert gender.codes == ["1", "2"] and gender.shares["gender"] == 1.0 and "ethnicity" not in gender.shares
    ethnicity = profile("x", ["01", "05", "17", "汉族", "1"])
    assert ethnicity.shares["ethnicity"] == 1.0
    counts = profile("x", ["1", "2", "3", "4", "5", "6"])
    assert "ethnicity" not in counts.shares and "date" not in counts.shares   # small numbers are no dates


def test_dates_in_both_orders_and_spreadsheet_serials() -> None:
    dmy = profile("x", ["07/03/1985", "13/12/2020", "1985-03-07"])
    assert round(dmy.shares["date_dmy_only"], 2) == 0.67 and round(dmy.shares["date"], 2) == 0.33
    assert profile("x", ["31113", "43831"]).shares["excel_serial"] == 1.0
    assert profile("x", ["2025-06-01 08:15:00"]).shares["datetime"] == 1.0


def test_names_are_never_kept_as_a_code_list() -> None:
    names = profile("x", ["张伟", "王芳", "买买提·艾力", "李娜"])
    assert names.shares["person_name"] == 1.0 and names.codes is None
    assert profile("x", ["城市低保", "特困供养", "城市低保", "城市低保"]).codes == ["城市低保", "特困供养"]
