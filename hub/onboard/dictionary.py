"""The header dictionary (resources/headers.yaml): which canonical target a column header names.

Department systems name the same field in a few dozen ways: 身份证号, 公民身份号码, GMSFHM, SFZH, AAC002,
id_no. The dictionary lists the spellings seen in real exports; pinyin initials (LXDH for 联系电话) and
full pinyin (lianxidianhua) of every Chinese spelling are derived with pypinyin, so an abbreviation
nobody listed is still found. A header is folded before comparison (NFKC, simplified, lower case,
no spaces or punctuation, bracketed notes such as （必填） or (元) removed), then compared exactly, with a
word that says the same swapped in (年月日 for 日期, `_datetime` for `_at`, `_number` for `_no`) or an ending
dropped (`sex_name`), by containment of a known spelling (申请人身份证号码 ⊃ 身份证号码), by the words it holds
(in another form too: `aid_begins` holds *begin*) and, last, by similarity.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import yaml
from pypinyin import Style, lazy_pinyin
from rapidfuzz import fuzz, process

from hub.normalize.codes import lookup_key

SPECIAL = ("record_id", "cursor", "id_type", "address", "unmapped", "house_role")
_ENDINGS = ("代码", "名称", "代号", "中文")
_PINYIN_ENDINGS = ("dm", "mc", "zw")
_NOTE = re.compile(r"[(（\[【<《].*?[)）\]】>》]")
_PUNCT = re.compile(r"[\s_\-.:：*#＊/\\|,，、·'\"“”‘’?？!！]")
_HAN = re.compile(r"[\u3400-\u9fff]")
_BRACKETS = re.compile(r"[(（\[【<《)）\]】>》]")
_INITIALS = re.compile(r"^([A-Z]{2,12}?)(ID|\d{1,2})?$")
_TOKEN = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_DATE_WORDS = ("年月日", "日期", "时间", "年月", "时刻", "日")
"""How a Chinese header says "the date of": 首次参保年月日 and 首次参保日期 name the same date."""
_TIME_WORDS = ("时间", "时刻")
_EN_TIMES = ("at", "time", "date", "datetime", "dt", "on", "ts", "timestamp", "day")
"""How an English key says "the time of": collected_datetime and collected_at name the same time."""
_EN_NUMBERS = ("no", "number", "num", "nbr", "nr", "code")
"""How an English key says "the number of": door_number is door_no, employer_number employer_no."""
_EN_ENDINGS = ("name", "desc", "description", "label", "text", "title", "value", "cn", "zh", "code")
"""Endings after the word that matters, as 名称 / 代码 are in Chinese: sex_name is sex, gender_desc gender."""
_ABBREVIATIONS = {"nm": "name", "psn": "person", "prsn": "person", "cd": "code", "tm": "time", "dt": "date",
                  "addr": "address", "emp": "employer", "corp": "company", "nbr": "number", "src": "source",
                  "sys": "system", "tel": "phone", "mob": "mobile", "dtl": "detail", "cat": "category",
                  "sts": "status", "amt": "amount", "mgmt": "management", "org": "organization", "insu": "insurance",
                  "contrib": "contribution", "cert": "certificate", "reg": "registration", "bldg": "building"}
"""Abbreviations of database and vendor keys (psn_nm, EMP_FULL_NM, REG_TM, SRC_SYS): a key spelt with them is
looked up once more with the words written out, a little less trusted."""


_SYNONYMS = {"kind": "type", "category": "type", "class": "type", "sort": "type", "cat": "type", "state": "status",
             "stat": "status", "relief": "aid", "welfare": "aid", "assistance": "aid", "benefit": "aid",
             "allowance": "aid", "subsidy": "aid", "dibao": "aid"}
"""English words that say the same as a keyword's word (relief_kind: aid + type, insured_state: insured + status):
a key is matched against the keyword groups with them too, so that one group serves every pairing."""


@dataclass(frozen=True)
class Target:
    """Where a column goes: `entity.attribute[@role]`, or a special role (record_id, cursor, id_type,
    address, unmapped, house_role, name_part:surname / name_part:given), or `entity.local_id:NAME`, a
    department-local identifier of the entity."""

    kind: str     # attribute | local_id | record_id | cursor | id_type | address | unmapped | house_role | name_part
    entity: str | None = None
    attribute: str | None = None
    role: str = ""

    @classmethod
    def parse(cls, text: str) -> Target:
        if text in SPECIAL:
            return cls(text)
        if text.startswith("name_part:"):
            return cls("name_part", "person", "name", text.split(":", 1)[1])
        path, _, role = text.partition("@")
        entity, _, attribute = path.partition(".")
        if attribute.startswith("local_id:"):
            return cls("local_id", entity, attribute.split(":", 1)[1], role)
        return cls("attribute", entity, attribute, role)

    def __str__(self) -> str:
        if self.kind == "name_part":
            return f"name_part:{self.role}"
        if self.kind == "local_id":
            return f"{self.entity}.local_id:{self.attribute}"
        if self.kind != "attribute":
            return self.kind
        return f"{self.entity}.{self.attribute}" + (f"@{self.role}" if self.role else "")


@dataclass(frozen=True)
class Entry:
    targets: tuple[Target, ...]
    spellings: tuple[str, ...]
    weak: bool = False
    implies: Mapping[str, str] = field(default_factory=dict)
    map: str | Mapping[str, str] | None = None
    also: tuple[Target, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class HeaderMatch:
    entry: Entry
    score: float
    how: str


def header_key(header: str) -> str:
    """The folded form of a header: notes in brackets and punctuation removed, simplified, lower case."""
    text = lookup_key(str(header))
    stripped = _PUNCT.sub("", _NOTE.sub("", text))
    return stripped or _PUNCT.sub("", text)


def _pinyin_forms(spelling: str) -> list[str]:
    """Initials (lxdh) and full pinyin (lianxidianhua) of a Chinese spelling; initials only from 3 letters."""
    if not _HAN.search(spelling) or not all(_HAN.match(c) for c in spelling):
        return []
    initials = "".join(lazy_pinyin(spelling, style=Style.FIRST_LETTER))
    full = "".join(lazy_pinyin(spelling))
    return ([initials] if len(initials) >= 3 else []) + [full]


def _entry(raw: Mapping[str, Any]) -> Entry:
    targets = raw["target"] if isinstance(raw["target"], list) else [raw["target"]]
    table = raw.get("map")
    return Entry(
        targets=tuple(Target.parse(t) for t in targets),
        spellings=tuple(str(h) for h in raw["headers"]),
        weak=bool(raw.get("weak", False)),
        implies={str(k): str(v) for k, v in (raw.get("implies") or {}).items()},
        map={str(k): str(v) for k, v in table.items()} if isinstance(table, dict) else table,
        also=tuple(Target.parse(t) for t in raw.get("with", [])),
        note=str(raw.get("note", "")),
    )


@functools.cache
def entries() -> tuple[Entry, ...]:
    return tuple(_entry(raw) for raw in _resource()["entries"])


@functools.cache
def _resource() -> dict[str, Any]:
    text = files("hub.onboard").joinpath("resources", "headers.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@functools.cache
def keyword_groups() -> tuple[tuple[Entry, tuple[str, ...], str], ...]:
    """(entry, folded words, pinyin initials of the words or '') per keyword group of headers.yaml; the entry is
    the first listed one of the target (its map, implies and weakness), else a bare one."""
    out = []
    for text, groups in _resource()["keywords"].items():
        target = Target.parse(text)
        entry = next((e for e in entries() if target in e.targets), None) or Entry((target,), ())
        for group in groups:
            words = tuple(header_key(w) for w in str(group).split("+"))
            han = all(_HAN.match(c) for w in words for c in w)
            initials = "".join(lazy_pinyin("".join(words), style=Style.FIRST_LETTER)) if han else ""
            out.append((entry, words, initials if len(initials) >= 2 else ""))
    return tuple(out)


@functools.cache
def _affixes() -> tuple[str, ...]:
    """The common words, folded, and their pinyin initials (longest first), for a known spelling beside one."""
    words = [header_key(str(a)) for a in _resource()["AFFIXES"]]
    forms = {*words, *("".join(lazy_pinyin(w, style=Style.FIRST_LETTER)) for w in words), "id"}
    return tuple(sorted((f for f in forms if f), key=len, reverse=True))


@functools.cache
def _affix_initials() -> tuple[str, ...]:
    return ("", *("".join(lazy_pinyin(str(a), style=Style.FIRST_LETTER)) for a in _resource()["AFFIXES"]))


def _keywords(header: str, key: str) -> list[tuple[Entry, float, str]]:
    """Keyword groups the header holds (Chinese words, English tokens) or spells in pinyin initials."""
    tokens = set(_tokens(header))
    tokens |= {_SYNONYMS[t] for t in tokens if t in _SYNONYMS}
    stems = {_stem(t) for t in tokens}
    caps = str(header).strip().removesuffix("ID")
    pinyin = caps.isascii() and caps.isalpha() and caps.isupper() and 2 <= len(caps) <= 10
    full = _PUNCT.sub("", lookup_key(str(header)))     # brackets kept: 物业（公司）
    out = []
    for entry, words, initials in keyword_groups():
        chars = sum(len(w) for w in words)
        several = 0.04 if len(words) > 1 else 0.0      # two words that must meet say more than one
        if any(_HAN.search(w) for w in words) and all(w in full for w in words):
            out.append((entry, min(0.8, 0.69 + 0.02 * chars) + several, f"header {header!r} holds {' + '.join(words)}"))
        elif all(w.isascii() for w in words) and all(w in tokens for w in words):
            out.append((entry, min(0.8, 0.6 + 0.02 * chars) + several,
                        f"header {header!r} holds the word(s) {' + '.join(words)}"))
        elif pinyin and initials and any(caps.lower() in (a + initials, initials + a) for a in _affix_initials()):
            out.append((entry, 0.66, f"header {header!r} reads as the pinyin initials of {''.join(words)}"))
        elif all(w.isascii() for w in words) and all(_stem(w) in stems for w in words):
            out.append((entry, min(0.8, 0.6 + 0.02 * chars) + several - 0.02,
                        f"header {header!r} holds the word(s) {' + '.join(words)} in another form"))
    return out


@functools.cache
def _index() -> tuple[dict[str, list[tuple[Entry, str]]], dict[str, list[tuple[Entry, str]]]]:
    """(listed spelling → entries, derived pinyin form → entries), both keyed by the folded form."""
    listed: dict[str, list[tuple[Entry, str]]] = {}
    derived: dict[str, list[tuple[Entry, str]]] = {}
    for entry in entries():
        for spelling in entry.spellings:
            listed.setdefault(header_key(spelling), []).append((entry, spelling))
            for form in _pinyin_forms(spelling):
                derived.setdefault(form, []).append((entry, spelling))
    return listed, derived


def _tokens(header: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(str(header))]


def _variants(header: str, key: str, listed: Mapping[str, list[tuple[Entry, str]]],
              derived: Mapping[str, list[tuple[Entry, str]]]) -> list[tuple[Entry, str, str]]:
    """Known spellings a header is, once a word that says the same is swapped in or an ending dropped: the
    date word of a Chinese header (首次参保年月日 → 首次参保日期), the time or number word ending an English key
    (collected_datetime → collected_at, door_number → door_no), an ending after the word that matters
    (sex_name → sex, employer_title_cn → employer)."""
    out: list[tuple[Entry, str, str]] = []

    def look(form: str, how: str) -> bool:
        hits = [*listed.get(form, []), *derived.get(form, [])]
        out.extend((entry, spelling, how) for entry, spelling in hits)
        return bool(hits)

    ending = next((w for w in _DATE_WORDS if key.endswith(w) and len(key) - len(w) >= 2), None)
    if ending is not None and _HAN.search(key):
        first = _TIME_WORDS if ending in _TIME_WORDS else ()        # a time of day first becomes another time
        for other in dict.fromkeys((*first, *_DATE_WORDS)):
            if other != ending and look(key[:-len(ending)] + other, f"with {other!r} for {ending!r}"):
                return out
    tokens = _tokens(header)
    if len(tokens) < 2 or not str(header).isascii():
        return out
    for words, swap in ((_EN_TIMES, "time"), (_EN_NUMBERS, "number")):
        if tokens[-1] in words:
            for other in words:
                if other != tokens[-1] and look("".join([*tokens[:-1], other]), f"with {other!r} for the {swap} "
                                                                                f"word {tokens[-1]!r}"):
                    return out
    stem = list(tokens)
    while len(stem) > 1 and stem[-1] in _EN_ENDINGS:
        dropped = stem.pop()
        if look("".join(stem), f"without its ending {dropped!r}"):
            return out
    return out


def _dated_inside(key: str, listed: Mapping[str, list[tuple[Entry, str]]]
                 ) -> list[tuple[str, str, list[tuple[Entry, str]]]]:
    """A listed spelling of four characters or more inside a Chinese header once the header's date word is another
    (首次参加保险时间 holds 参加保险日期): the longest, for each other date word."""
    ending = next((w for w in _DATE_WORDS if key.endswith(w) and len(key) - len(w) >= 2), None)
    if ending is None:
        return []
    out = []
    for other in _DATE_WORDS:
        if other == ending:
            continue
        text = key[:-len(ending)] + other
        inside = [k for k in listed if len(k) >= 4 and k.endswith(other) and _HAN.search(k) and k in text]
        if inside:
            best = max(inside, key=len)
            out.append((other, best, listed[best]))
    return out


def _stem(token: str) -> str:
    """A light English stem, so that a key's word meets a keyword in another form (begins: begin, occupation:
    occupied, enrolled: enrol); time words all stand for one (reg_dt: reg + time)."""
    if token in _EN_TIMES:
        return "time"
    for _ in range(2):                  # occupying: occupy, occup
        suffix = next((s for s in ("ations", "ation", "ancy", "ings", "ing", "ied", "ies", "ed", "es", "s", "y")
                       if token.endswith(s) and len(token) - len(s) >= 3), "")
        token = token[:len(token) - len(suffix)]
    return token[:-1] if len(token) > 3 and token[-1] == token[-2] else token


def match_header(header: str) -> list[HeaderMatch]:
    """Dictionary entries a header may stand for, best first (empty when nothing fits)."""
    return list(_match_header(str(header)))


_TYPE_PREFIX = re.compile(r"^(vc|nvc|nv|ch|c|str|s|dt|d|num|n|int|i|dec|f|fld|t|b|bool)_(?=[A-Za-z0-9])", re.IGNORECASE)
"""A column type or vendor prefix of an older database's keys (VC_XM, N_BZJE, D_CSRQ, str_name, dt_birth, F_TEL):
the key's meaning is in what follows it."""
_DATE_PREFIX = ("d", "dt")


def _typed(header: str) -> tuple[HeaderMatch, ...]:
    """The matches of a key with a type prefix, read without it; a date prefix before English words says "the date
    of" (dt_insured: insured_date), so that reading is tried first."""
    prefix = _TYPE_PREFIX.match(header)
    if prefix is None:
        return ()
    rest = header[prefix.end():]
    tries = [rest]
    if prefix.group(1).lower() in _DATE_PREFIX and rest.isascii() and not rest.isupper():
        tries.insert(0, f"{rest}_date")
    for text in tries:
        found = _match_header(text)
        if found and found[0].score >= PREFIXED_AT:
            return tuple(HeaderMatch(m.entry, round(m.score * 0.98, 3), m.how + f" (read as {text!r}: {header!r} "
                                     f"without its type prefix {prefix.group(1)!r})") for m in found)
    return ()


PREFIXED_AT = 0.6
"""A key read without its type prefix must match at least this well, else it is read as written."""

_QUALIFIER = re.compile(r"^(?:[A-Za-z][A-Za-z0-9_]*\.)+(?=[A-Za-z])")
"""A database tool's table-qualified column name (rkjbxx.xb, dbo.person.sex): the table names a group of columns,
the column's own meaning is after the last dot."""


def _qualified(header: str) -> tuple[HeaderMatch, ...]:
    """The matches of a table-qualified key, read as its column name alone."""
    qualifier = _QUALIFIER.match(header)
    if qualifier is None:
        return ()
    rest = header[qualifier.end():]
    return tuple(HeaderMatch(m.entry, round(m.score * 0.98, 3), m.how + f" (read as {rest!r}: {header!r} without "
                             f"its table {qualifier.group(0)[:-1]!r})") for m in _match_header(rest))
"""A key read without its type prefix must match at least this well, else it is read as written."""


@functools.lru_cache(maxsize=20000)
def _match_header(header: str) -> tuple[HeaderMatch, ...]:
    if header.isascii() and (typed := _typed(header)):
        return typed
    if header.isascii() and _QUALIFIER.match(header):
        return _qualified(header)
    listed, derived = _index()
    key = header_key(header)
    if not key:
        return ()
    found: dict[int, HeaderMatch] = {}

    def add(entry: Entry, score: float, how: str) -> None:
        if id(entry) not in found or found[id(entry)].score < score:
            found[id(entry)] = HeaderMatch(entry, score, how)

    exact = _PUNCT.sub("", lookup_key(str(header))) == key
    for entry, _spelling in listed.get(key, []):
        add(entry, 0.92 if exact else 0.88, f"header {header!r} is a known spelling of {_names(entry)}"
            + ("" if exact else " once its note in brackets is dropped"))
    for entry, spelling in derived.get(key, []):
        add(entry, 0.84, f"header {header!r} is the pinyin of {spelling!r}")
    for ending in (*_ENDINGS, *_PINYIN_ENDINGS):
        if found or not key.endswith(ending) or len(key) < len(ending) + 2:
            continue
        stem = key[:-len(ending)]
        for entry, spelling in [*listed.get(stem, []), *derived.get(stem, [])]:
            add(entry, 0.84, f"header {header!r} is {spelling!r} with {ending!r} (its code or name)")
    full = _PUNCT.sub("", lookup_key(str(header)))
    unbracketed = _BRACKETS.sub("", full)
    if not found and full != key:                  # the note in brackets was the word: 单位（名称）
        for entry, spelling in [*listed.get(full, []), *listed.get(unbracketed, [])]:
            add(entry, 0.86, f"header {header!r} is {spelling!r} once its brackets are read")
    if not found:
        for affix in _affixes():
            for stem in ({key[len(affix):]} if key.startswith(affix) else set()) | (
                    {key[:-len(affix)]} if key.endswith(affix) else set()):
                if len(stem) < 2:
                    continue
                for entry, spelling in [*listed.get(stem, []), *derived.get(stem, [])]:
                    add(entry, 0.8, f"header {header!r} is {spelling!r} with {affix!r} before or after it")
    if not found:
        for entry, spelling, how in _variants(header, key, listed, derived):
            add(entry, 0.84, f"header {header!r} is {spelling!r} {how}")
    if not found and _HAN.search(key):
        for spelling_key, items in sorted(listed.items(), key=lambda kv: -len(kv[0])):
            if len(spelling_key) >= 2 and _HAN.search(spelling_key) and spelling_key in key:
                for entry, spelling in items:
                    add(entry, 0.7 + min(0.1, 0.02 * len(spelling_key)), f"header {header!r} contains {spelling!r}")
                break
    if not found and _HAN.search(key):
        for other, spelling_key, items in _dated_inside(key, listed):
            for entry, spelling in items:
                add(entry, 0.7 + min(0.1, 0.02 * len(spelling_key)), f"header {header!r} contains {spelling!r} with "
                                                                       f"{other!r} for its date word")
    if not found:
        tokens = _tokens(header)
        if len(tokens) > 1:
            for size in range(len(tokens) - 1, 0, -1):
                for start in range(len(tokens) - size + 1):
                    for entry, spelling in listed.get("".join(tokens[start:start + size]), []):
                        if len("".join(tokens[start:start + size])) >= 4:
                            add(entry, 0.68, f"header {header!r} contains the word {spelling!r}")
                if found:
                    break
    for entry, score, how in _keywords(header, key):
        add(entry, score, how)
    if not any(m.score >= 0.84 for m in found.values()):
        for entry, score, how in _decoded(header):
            add(entry, score, how)
    if not found and len(key) >= 4:
        close = process.extractOne(key, list(listed), scorer=fuzz.ratio, score_cutoff=80)
        if close is not None:
            for entry, spelling in listed[close[0]]:
                add(entry, 0.6, f"header {header!r} is close to {spelling!r}")
    if not any(m.score >= 0.84 for m in found.values()):
        for m in _head_of(header):
            add(m.entry, round(m.score * 0.95, 3), m.how + f" (the {header!r} of someone)")
    if not any(m.score >= 0.84 for m in found.values()):
        for m in _written_out(header):
            add(m.entry, round(m.score * 0.97, 3), m.how + f" (as {header!r} with its abbreviations written out)")
    matches = _someone_else(header, key, _passive(header, key, list(found.values())))
    return tuple(sorted(matches, key=lambda m: -m.score))


def _written_out(header: str) -> tuple[HeaderMatch, ...]:
    """The matches of an ASCII key with its abbreviations written out (psn_nm → person_name), or none when it
    holds no abbreviation."""
    tokens = _tokens(header)
    if not str(header).isascii() or not any(t in _ABBREVIATIONS for t in tokens):
        return ()
    if len(tokens) > 1 and tokens[-1] == "cd":       # room_nbr_cd, BUILDING_CD: the code of the thing named
        tokens.pop()
    return _match_header("_".join(_ABBREVIATIONS.get(t, t) for t in tokens))


def _head_of(header: str) -> tuple[HeaderMatch, ...]:
    """The matches of what an English key says before its `of` (idCardOfPerson, phone_of_resident: idCard, phone):
    whose it is follows the `of`, and a role there (head, owner, contact) is weighed by `_someone_else`."""
    tokens = _tokens(header)
    if not str(header).isascii() or "of" not in tokens[1:-1]:
        return ()
    return _match_header("_".join(tokens[:tokens.index("of")]))


_PASSIVE = re.compile(r"^被[\u4e00-\u9fff]{1,4}人(姓名|名字|名称)?$")
"""被登记人, 被保险人, 被救助人姓名: the person the business is done to, the row's own person, whereas 登记人 alone is
the clerk who did it."""


def _passive(header: str, key: str, found: list[HeaderMatch]) -> list[HeaderMatch]:
    if not _PASSIVE.match(key):
        return found
    name = next(e for e in entries() if str(e.targets[0]) == "person.name")
    return [*(m for m in found if m.entry.targets[0].kind != "unmapped"),
            HeaderMatch(name, 0.86, f"header {header!r} names the person the business is done to (被…人)")]


_EMERGENCY = ("紧急", "监护", "亲属", "代领", "代办", "委托")
_EMERGENCY_TOKENS = {"emergency", "guardian", "kin", "relative", "proxy", "agent"}
"""Words of an emergency contact's, a guardian's, a relative's or a proxy's columns (紧急联系人, 监护人电话,
亲属联系电话, 代领人姓名, guardianName, nextOfKin, proxy_name): another person's name, phone or ID number, never
the row's person's."""
_CONTACT_PERSON = ("联系人", "户主", "业主", "产权人", "房主")
_CONTACT_TOKENS = ({"contact"}, {"head"}, {"owner"}, {"householder"})
"""A contact person, the household head, the owner: the row's own person on a roster of them (业主姓名 on an
owners' list, 联系人 on a hotline ticket), another person where a column names the row's person plainly (户主姓名
beside 姓名, owner_name beside person_name): such a column yields to that one."""
_PERSON_SELF = ("name", "phone", "resident_id")


def _someone_else(header: str, key: str, found: Any) -> list[HeaderMatch]:
    """A roster's emergency contact (紧急联系人, emergency_phone) names another person than the row's: its name and
    phone are no person attribute. A contact person's (联系人姓名, contact_person_tel) may be the row's person, as
    on a hotline ticket, but where the row names its own person in another column that one comes first."""
    tokens = set(_tokens(header))
    matches = list(found)
    person = [m for m in matches if any(t.entity == "person" and t.role == "" and t.attribute in _PERSON_SELF
                                        for t in m.entry.targets)]
    if not person:
        return matches
    readings = " ".join(m.how for m in person)       # a pinyin header's reading (JHRXM: 监护人姓名)
    read_as = readings                               # the reading that matched, not every possible one
    initials = _INITIALS.match(str(header).strip())
    if initials is not None:     # QSLXDH: 亲属联系电话 too, though 起始联系电话 was read first
        readings += " " + " ".join(_readings(initials.group(1).lower())[:READINGS])
    if any(w in key or w in readings for w in _EMERGENCY) or _EMERGENCY_TOKENS & tokens:
        other = next(e for e in entries() if e.targets[0].kind == "unmapped" and "emergency" in e.note)
        return [*(m for m in matches if m not in person),
                HeaderMatch(other, 0.9, f"header {header!r} names an emergency contact or a guardian, another "
                                        "person than the row's")]
    if any(w in key or w in read_as for w in _CONTACT_PERSON) or any(t <= tokens for t in _CONTACT_TOKENS):
        return [m if m not in person else HeaderMatch(m.entry, m.score - 0.2, m.how + " (a contact person: a column "
                                                      "naming the row's own person comes first)") for m in matches]
    return matches


@functools.cache
def _lexicon() -> dict[str, tuple[str, ...]]:
    """Pinyin initials → the Chinese header words they may abbreviate: the listed words of headers.yaml (WORDS),
    the words of its keyword groups, its affixes and its short listed spellings."""
    data = _resource()
    words = {str(w) for w in data.get("WORDS", [])} | {str(a) for a in data["AFFIXES"]}
    words |= {w for groups in data["keywords"].values() for g in groups for w in str(g).split("+")}
    words |= {s for e in entries() for s in e.spellings if 2 <= len(s) <= 4}
    out: dict[str, set[str]] = {}
    for word in words:
        if word and all(_HAN.match(c) for c in word):
            out.setdefault("".join(lazy_pinyin(word, style=Style.FIRST_LETTER)), set()).add(word)
    return {k: tuple(sorted(v)) for k, v in out.items()}


DECODINGS = 96
"""Readings of a pinyin-initials header tried at most (fewest words first)."""


def _readings(letters: str) -> list[str]:
    """Chinese strings whose words' pinyin initials spell `letters` (JZQSSJ → 救助起始时间, 居住起始时间 …), the
    readings with fewest words first."""
    lexicon = _lexicon()
    longest = max(map(len, lexicon), default=0)

    @functools.cache
    def split(start: int) -> list[tuple[str, ...]]:
        if start == len(letters):
            return [()]
        out: list[tuple[str, ...]] = []
        for end in range(min(len(letters), start + longest), start, -1):
            words = lexicon.get(letters[start:end])
            if words:
                for rest in split(end):
                    out += [(w, *rest) for w in words]
                    if len(out) > 4 * DECODINGS:
                        return out
        return out

    common = _word_counts()
    ranked = sorted(set(split(0)), key=lambda r: (len(r), -min(common.get(w, 0) for w in r),
                                                  -sum(common.get(w, 0) for w in r)))
    return list(dict.fromkeys("".join(r) for r in ranked))[:DECODINGS]


@functools.cache
def _word_counts() -> dict[str, int]:
    """How plausible each lexicon word is in a header: the words of WORDS, the keyword groups and the affixes
    count five times, then each listed spelling or keyword holding the word once (救助 before 截止 for JZ)."""
    data = _resource()
    curated = {str(w) for w in data.get("WORDS", [])} | {str(a) for a in data["AFFIXES"]}
    curated |= {w for groups in data["keywords"].values() for g in groups for w in str(g).split("+")}
    texts = [s for e in entries() for s in e.spellings if _HAN.search(s)]
    texts += [str(g) for groups in data["keywords"].values() for g in groups]
    return {w: 5 * (w in curated) + sum(w in t for t in texts) for words in _lexicon().values() for w in words}


READINGS = 6
"""Readings of a pinyin-initials header matched (the most plausible first, each a little less trusted)."""


def _decoded(header: str) -> list[tuple[Entry, float, str]]:
    """A header in pinyin initials nobody listed (NRJZRQ, HKDJDZ, FWWYBM), read as the Chinese header whose
    words' initials it spells: the best reading's match, with less confidence than a header written out."""
    match = _INITIALS.match(str(header).strip())
    if match is None or len(match.group(1)) < (2 if match.group(2) else 3):
        return []
    best: dict[int, tuple[Entry, float, str]] = {}
    for rank, reading in enumerate(_readings(match.group(1).lower())[:READINGS]):
        for m in _match_header(reading + (match.group(2) or "")):
            score = round(m.score * (0.9 - 0.01 * rank), 3)
            if m.entry.targets[0].kind != "unmapped" and score > best.get(id(m.entry), (m.entry, 0.0, ""))[1]:
                best[id(m.entry)] = (m.entry, score, f"header {header!r} reads as the pinyin initials of {reading!r} "
                                                     f"({m.how.split(' ', 2)[-1]})")
    return list(best.values())


def _names(entry: Entry) -> str:
    return " / ".join(str(t) for t in entry.targets)
