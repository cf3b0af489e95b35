"""What a column's values look like: checksum-valid resident IDs, credit codes, mobile numbers, plates,
dates (and in which order), national code lists, address shapes, names, numbers.

Each detector runs once per distinct value of the sample, and a `Profile` keeps only shares (and,
for short code lists, the distinct codes), never the values of identifiers or phones: profiles end up
in the comments of a draft mapping.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hub.mapping.code_tables import code_table
from hub.normalize import NORMALIZERS
from hub.normalize.base import is_blank

_TIME = re.compile(r"\d{1,2}:\d{2}")
_SERIAL = re.compile(r"^\d{5}(?:\.0+)?$")
_EPOCH_MS = (946_684_800_000, 4_102_444_800_000)
"""Milliseconds since 1970 from 2000 to 2100: a vendor API's moment (1709796600000), no ID or phone number."""
_MASKED_ID = re.compile(r"^\d{6}\*{4,10}\d{2,3}[\dXx]$")
_HAN_NAME = re.compile(r"^[\u3400-\u9fff]{2,4}$|^[\u3400-\u9fff]{1,12}[·•・.．][\u3400-\u9fff·•・.．]{1,24}$")
_NOT_A_NAME = re.compile(
    r"(小区|花园|家园|公寓|大厦|公司|中心|委员会|社区|街道|医院|学校|协会|商会|基金|工作室|门店|超市|族)$"
)
_ID_SEPARATORS = re.compile(r"[-‐‑–—－_.·]")
"""What splits an ID number into groups for reading (region, birth date, sequence)."""
_EMBEDDED_ID = re.compile(r"(?=(\d{17}[\dXx]))")
_SYSTEM_CODE = re.compile(r"^[A-Za-z0-9_\-/.]{3,}$")
"""A system's own code (F0102030, MZ2024000123, 650102-3): letters and digits, no Chinese, no spaces."""
_SHORT_CODE = re.compile(r"^[^\d]*\d{0,6}[^\d]*$")
_ADDRESS_PARTS = ("district", "street", "community", "road", "estate", "building", "unit", "room")
CODE_LIST_LIMIT = 30
PERSONAL_KINDS = ("resident_id", "embeds_resident_id", "masked_id", "phone")
"""Values that are, or carry, a resident ID number or a phone: never a record id, never quoted."""


@dataclass
class Profile:
    """Shares of the filled cells of a column that look like each kind of value."""

    column: str
    rows: int
    filled: int
    distinct: int
    unique: bool
    shares: dict[str, float] = field(default_factory=dict)
    codes: list[str] | None = None         # the distinct values of a short code list, most frequent first
    source_type: str | None = None
    comment: str | None = None

    def share(self, *kinds: str) -> float:
        return max((self.shares.get(k, 0.0) for k in kinds), default=0.0)

    @property
    def empty(self) -> bool:
        return self.filled == 0


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _ok(normalizer: str, value: str) -> bool:
    return NORMALIZERS[normalizer](value).ok


def _date_kinds(value: str) -> set[str]:
    kinds: set[str] = set()
    if _SERIAL.match(value):
        if 10000 <= float(value) <= 60000:
            kinds.add("excel_serial")
        return kinds
    if value.isdigit() and len(value) == 13 and _EPOCH_MS[0] <= int(value) <= _EPOCH_MS[1]:
        return {"date", "datetime"} if _ok("datetime", value) else kinds     # epoch milliseconds from an API
    if value.isdigit() and len(value) not in (8, 14):
        return kinds   # 1, 01, 1502: a code or a number, which the date parser would read as a serial
    if value.isdigit() and len(value) == 14:       # 20240307153000: a timestamp written without separators
        return {"date", "datetime"} if _ok("datetime", value) else kinds
    result = NORMALIZERS["date"](value)
    if result.ok:
        kinds.add("date")
        if _TIME.search(value):
            kinds.add("datetime")
    elif result.reason and "year comes last" in result.reason and _ok("date_dmy", value):
        kinds.add("date_dmy_only")
    return kinds


_ORGANIZATION_END = re.compile(r"(公司|福利院|敬老院|养老院|医院|学校|中心|机构"
                               r"|协会|委员会|服务站|管理站|事务所|局|厂|店)$")
"""How the name of an institution ends: 天山区社会福利院 has a district in it, but it is no address."""


def _address(value: str) -> bool:
    result = NORMALIZERS["address"](value)
    if not result.ok or len(value) < 6 or _ORGANIZATION_END.search(value):
        return False
    return sum(1 for part in _ADDRESS_PARTS if part in result.derived) >= 2


def classify(value: str) -> set[str]:
    """Every kind a single (non-blank) value could be."""
    kinds = _date_kinds(value)
    compact = value.replace(" ", "")
    bare = _ID_SEPARATORS.sub("", compact)          # 650103-19500531-2678: an ID number written in groups
    if len(bare) in (15, 18) and _ok("resident_id", value):
        kinds.add("resident_id")
    elif _MASKED_ID.match(bare):
        kinds.add("masked_id")
    elif len(compact) > 18 and any(_ok("resident_id", m) for m in _EMBEDDED_ID.findall(compact)):
        kinds.add("embeds_resident_id")     # a certificate number built on the ID (残疾人证号 = ID + 2 digits)
    if len(compact) in (18, 10) and _ok("credit_code", value):
        kinds.add("credit_code")
    if _ok("phone", value):
        kinds.add("phone")
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 11 and digits[-11] == "1":
            kinds.add("mobile")
    if len(compact) <= 10 and _ok("plate", value):
        kinds.add("plate")
    if _HAN_NAME.match(value) and not _NOT_A_NAME.search(value):
        kinds.add("person_name")
    if _ok("decimal", value):
        kinds.add("number")
        if compact.isdigit() and 101 <= int(compact) <= 9999 and 1 <= int(compact) % 100 <= 8:
            kinds.add("room_number")
    if len(compact) > 6:
        kinds.add("long")
    if _SYSTEM_CODE.match(compact) and any(c.isdigit() for c in compact):
        kinds.add("system_code")
    if re.search(r"[0-9A-Za-z０-９一二三四五六七八九十甲乙丙丁东西南北]", value):
        kinds.add("house_number")   # 3, 12A, B座, 东单元: what a building, unit or room number holds
    if re.search(r"[\u3400-\u9fff]", value) and _address(value):
        kinds.add("address")
    return kinds


def _code_kinds(codes: Sequence[str]) -> dict[str, float]:
    """Whole-column code-list kinds: every distinct value in the table, with the list's own shape."""
    out: dict[str, float] = {}
    for kind, table in (("gender", "gb_t_2261_1"), ("ethnicity", "gb_3304"), ("division", "gb_t_2260"),
                        ("id_document", "ga_t_517"), ("jinbao_status", "jinbao_status")):
        held = sum(1 for c in codes if code_table(table).lookup(c) is not None)
        out[kind] = held / len(codes) if codes else 0.0
    if len(codes) > 4:
        out["gender"] = 0.0
    numeric = [c for c in codes if c.isdigit()]
    if out["ethnicity"] and len(numeric) == len(codes) and not any(c.startswith("0") or 10 <= int(c) <= 58
                                                                   for c in numeric):
        out["ethnicity"] = 0.0   # 1, 2, 3: counts or status codes far more often than 01 汉族, 02 蒙古族
    return out


def _personal(shares: dict[str, float], distinct: int, filled: int) -> bool:
    """Values that identify people (IDs, phones, addresses, or names that hardly repeat) are no code list."""
    if max((shares.get(k, 0.0) for k in (*PERSONAL_KINDS, "address")), default=0.0) >= 0.3:
        return True
    return shares.get("person_name", 0.0) >= 0.5 and distinct > 0.8 * filled


def profile(column: str, values: Iterable[Any], *, source_type: str | None = None,
            comment: str | None = None) -> Profile:
    """The profile of one column of a sample."""
    cells = list(values)
    texts = [_text(v) for v in cells if not is_blank(v)]
    counts = Counter(texts)
    filled = len(texts)
    found: Counter[str] = Counter()
    for value, n in counts.items():
        for kind in classify(value):
            found[kind] += n
    shares = {kind: n / filled for kind, n in found.items()} if filled else {}
    codes: list[str] | None = None
    if (counts and len(counts) <= CODE_LIST_LIMIT and not _personal(shares, len(counts), filled)
            and all(len(v) <= 20 and _SHORT_CODE.match(v) for v in counts)):
        codes = [v for v, _ in counts.most_common()]
        shares.update({k: s for k, s in _code_kinds(codes).items() if s})
    return Profile(column, len(cells), filled, len(counts), filled == len(cells) and len(counts) == filled,
                   shares, codes, source_type, comment)
