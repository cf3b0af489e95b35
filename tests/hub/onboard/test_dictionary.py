"""The header dictionary: listed spellings, notes in brackets, pinyin, containment, similarity."""

from __future__ import annotations

import pytest

from hub.onboard.dictionary import entries, header_key, match_header


def _best(header: str) -> str:
    found = match_header(header)
    return str(found[0].entry.targets[0]) if found else ""


@pytest.mark.parametrize(("header", "target"), [
    ("姓名", "person.name"), ("XM", "person.name"), ("AAC003", "person.name"), ("owner_name", "person.name"),
    ("GMSFHM", "person.resident_id"), ("公民身份号码", "person.resident_id"), ("AAC002", "person.resident_id"),
    ("身份证号码（必填）", "person.resident_id"),          # the note in brackets is dropped
    ("申请人身份证号码", "person.resident_id"),            # contains a known spelling
    ("身分证号码", "person.resident_id"),                  # a typo, found by similarity
    ("lianxidianhua", "person.phone"), ("LXDH", "person.phone"), ("ownerPhone", "person.phone"),
    ("CJRXM", "person.name"),                            # initials of 残疾人姓名, derived, not listed
    ("法人身份证号", "person.resident_id@representative"),
    ("AAC008", "situation.status@insurance"), ("MJBH", "event.device"), ("车牌号码", "thing.plate_no"),
    ("现住址", "address"), ("小区名称", "house.estate"), ("证件类型", "id_type"), ("GXSJ", "cursor"),
    ("残疾类别", "unmapped"), ("网格员", "unmapped"),
])
def test_headers_department_systems_use(header: str, target: str) -> None:
    assert _best(header) == target


@pytest.mark.parametrize(("header", "target"), [
    ("出生年月日期", "person.birth_date"),                 # a known spelling inside the header
    ("参保开始年月日", "situation.start_date@insurance"),  # 年月日 for 日期: 参保开始日期
    ("登记时刻", "event.occurred_at@registration"),        # 时刻 for 时间: 登记时间
    ("registered_ts", "event.occurred_at@registration"),  # ts for time: registered_time
    ("checkin_datetime", "event.occurred_at@move_in"),    # datetime for date: checkin_date
    ("door_num", "house.room"), ("employer_nbr", "organization.local_id:employer_no"),   # num, nbr for no
    ("ethnic_label", "person.ethnicity"), ("sex_desc", "person.gender"),                 # an ending dropped
    ("XBQK", "person.gender"), ("民族情况", "person.ethnicity"),                          # 情况: a common word
    ("户籍登记地", "person.hukou_address"), ("户口登记所在地", "person.hukou_address"),
    ("用工单位", "organization.name"), ("单位全称", "organization.name"),
    ("单位编码", "organization.local_id:employer_no"),
    ("allowance_per_month", "situation.amount"), ("support_begins", "situation.start_date"),   # words in
    ("enrolling_date", "situation.start_date"),                                            # other forms
])
def test_words_that_say_the_same_in_another_form(header: str, target: str) -> None:
    assert _best(header) == target


def test_nothing_is_guessed_for_unknown_headers() -> None:
    assert match_header("XZZDZQ") == [] and match_header("") == [] and match_header("字段7") == []


def test_scores_say_how_the_header_was_found() -> None:
    exact, noted, contained = (match_header(h)[0] for h in ("身份证号", "身份证号(必填)", "持证人身份证号码"))
    assert exact.score > noted.score > contained.score
    assert "known spelling" in exact.how and "note in brackets" in noted.how and "contains" in contained.how


def test_folding_and_the_dictionary_itself() -> None:
    assert header_key(" 身份證號碼（必填） ") == header_key("身份证号码") == "身份证号码"
    targets = {str(t) for e in entries() for t in e.targets}
    assert {"person.resident_id", "house.room", "event.device", "record_id", "cursor", "unmapped"} <= targets


@pytest.mark.parametrize(("header", "target", "reading"), [
    ("HKXXDZ", "person.hukou_address", "户口详细地址"),     # no spelling of 户口 … 地址 lists these initials
    ("BZKSRQ", "situation.start_date", "保障开始日期"),
])
def test_pinyin_initials_nobody_listed_are_read_as_header_words(header: str, target: str, reading: str) -> None:
    found = match_header(header)[0]
    assert str(found.entry.targets[0]) == target and reading in found.how
    assert found.score < match_header("HJDZ")[0].score      # a reading is trusted less than a listed spelling
