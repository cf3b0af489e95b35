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
