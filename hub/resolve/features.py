"""Match features: the keys and derived values blocking and comparison read, one row per record.

Everything costly (pinyin, part splitting) is computed once per distinct value and broadcast back,
because department columns repeat (a district of 100,000 has far fewer distinct names than
records). String features are then encoded as integer codes over the whole frame (`encode`), so
that most comparisons are integer equality on two arrays. Codes are only comparable within one
encoding: `encode` is re-run when frames are concatenated (incremental resolution).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd

from hub.normalize._hanzi import HAN, cn_number
from hub.normalize.name_keys import loose_pinyin_key, name_parts, pinyin_key, split_surname
from hub.normalize.names import compound_surnames
from hub.resolve.compare import from_factorized

Codes = npt.NDArray[np.int64]
NAME_FEATURES = ("name", "name_py", "name_loose", "name_loose_rev", "name_first", "name_parts",
                 "name_head", "name_han_sorted", "name_multi_sorted", "name_honorific")
"""Columns added for a name column (prefix replaced for other name columns, e.g. owner_name → owner_…)."""


def _codes_of(values: pd.Series) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]]:
    """(code per row, -1 where missing; the distinct values): free for a categorical column."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype(np.int64), values.cat.categories.to_numpy(dtype=object)
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def spread(codes: npt.NDArray[np.int64], derived: npt.ArrayLike, index: pd.Index) -> pd.Series:
    """`derived[codes]` (code -1 → missing) as a categorical Series: a value derived once per distinct
    input, spread to the rows as small integer codes rather than one pointer (or string) per row."""
    derived_codes, distinct = pd.factorize(np.asarray(derived, dtype=object), use_na_sentinel=True)
    table = np.append(derived_codes, -1)
    return pd.Series(from_factorized(table[codes], distinct), index=index)


def _per_distinct(values: pd.Series, fn: Callable[[str], tuple[str | None, ...]],
                  width: int) -> list[pd.Series]:
    """`fn` applied to each distinct non-blank value; `width` categorical columns aligned with `values`."""
    codes, uniques = _codes_of(values)
    table = np.empty((len(uniques), width), dtype=object)
    for k, value in enumerate(uniques):
        table[k] = fn(value) if isinstance(value, str) and value else (None,) * width
    return [spread(codes, table[:, c], values.index) for c in range(width)]


_HONORIFIC = re.compile(r"(.{1,2}?)(?:先生|女士|小姐|师傅|老师|阿姨|大爷|大妈|大姐|同志)")
"""A surname with a form of address, as ticket systems record callers."""
_PLAIN_HAN = re.compile(f"[{HAN}]+")
"""Most names: Han characters only, one part, nothing for name_parts' cleaning to change."""


def _han_surname(name: str) -> str:
    """split_surname's surname of a one-part Han name, without splitting it into parts again."""
    return name[:2] if len(name) > 2 and name[:2] in compound_surnames() else name[:1]


_char_py = functools.lru_cache(maxsize=65536)(pinyin_key)
_char_loose = functools.lru_cache(maxsize=65536)(loose_pinyin_key)


def _part_keys(part: str, surname: str = "") -> tuple[str, str]:
    """(pinyin, loose pinyin) of one name part, read character by character through a cache.

    Reading per character (the surname as a surname) is what makes a district's names cheap: a
    few thousand distinct characters instead of every distinct name through pypinyin.
    """
    given = part[len(surname):]
    py = "".join(map(_char_py, given))
    loose = "".join(map(_char_loose, given))
    return (_char_py(surname) + py, _char_loose(surname) + loose) if surname else (py, loose)


def _name_keys(name: str) -> tuple[str | None, ...]:
    """Keys of one normalized name (see NAME_FEATURES).

    loose_rev joins the parts in reverse (艾力·买买提 against 买买提艾力); first is the own-name part
    (what survives when the father's name is dropped); parts is the order-free key: sorted loose
    parts for transliterated names, sorted loose syllables for Han names (伟王 = 王伟), also split by
    kind (a Han swap is a field error, a transliterated reversal may be father and son); head keys a
    household's members: the Han surname's pinyin, or a transliterated name's own part; honorific
    is the surname of a 王先生 (whose other keys stay empty).
    """
    plain_han = _PLAIN_HAN.fullmatch(name) is not None and unicodedata.is_normalized("NFKC", name)
    parts = [name] if plain_han else (name_parts(name) or [name])
    honorific = _HONORIFIC.fullmatch(name)
    if honorific:   # 王先生: only the surname is known
        surname = _char_py(honorific.group(1))
        return (name, None, None, None, None, None, surname, None, None, surname)
    if len(parts) > 1:
        keys = [_part_keys(p) for p in parts]
        loose_parts = [k[1] for k in keys]
        py = "".join(k[0] for k in keys)
        order_free = "|".join(sorted(loose_parts))
        head = loose_parts[0]
    else:
        surname = _han_surname(name) if plain_han else split_surname(name)[0]
        py, loose = _part_keys(name, surname)
        loose_parts = [loose]
        order_free = "".join(sorted(map(_char_loose, name)))
        head = _char_py(surname) if surname else loose
    multi = len(parts) > 1
    return (name, py, "".join(loose_parts), "".join(reversed(loose_parts)), loose_parts[0],
            order_free, head, None if multi else order_free, order_free if multi else None, None)


def name_features(values: pd.Series, prefix: str = "name") -> pd.DataFrame:
    """Name keys for a column of normalized person names (blank → None everywhere)."""
    columns = _per_distinct(values, _name_keys, len(NAME_FEATURES))
    names = [prefix + feature[len("name"):] for feature in NAME_FEATURES]
    return pd.DataFrame(dict(zip(names, columns, strict=True)), index=values.index)


def text(frame: pd.DataFrame, column: str) -> pd.Series:
    """A frame's column as object strings with None for blanks (absent columns are all None)."""
    if column not in frame:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    values = pd.Series(frame[column].to_numpy(dtype=object), index=frame.index, dtype=object)
    blank = values.isna().to_numpy() | (values.to_numpy() == "")
    values[blank] = None
    return values


def on_distinct(values: pd.Series, fn: Callable[[pd.Series], pd.DataFrame]) -> pd.DataFrame:
    """`fn` (vectorized string operations) on the distinct non-missing values, spread back to the rows.

    Department columns repeat (an ID on two or three records, a birth date on dozens): deriving
    once per distinct value is faster, and the rows get categorical codes instead of a new string
    each, which is most of a large feature frame's memory.
    """
    codes, uniques = _codes_of(values)
    derived = fn(pd.Series(uniques, dtype=object))
    out = {}
    for column in derived.columns:
        col = derived[column].astype(object)
        out[column] = spread(codes, col.where(col.notna(), None).to_numpy(dtype=object), values.index)
    return pd.DataFrame(out, index=values.index)


def coalesce(first: pd.Series, second: pd.Series) -> pd.Series:
    """`first`, else `second`, as object values (the two may be categoricals of different values)."""
    a, b = first.to_numpy(dtype=object), second.to_numpy(dtype=object)
    return pd.Series(np.where(pd.isna(a), b, a), index=first.index, dtype=object)


def joined(frame: pd.DataFrame, columns: Iterable[str], *, all_required: bool = True) -> pd.Series:
    """Columns joined with `|`; None when any part is missing (or, with all_required=False, all are).

    Joined once per distinct combination of values (a district has far fewer houses than records).
    """
    parts = [text(frame, c) for c in columns]
    combo = np.zeros(len(frame), dtype=np.int64)
    for part in parts:
        codes, uniques = pd.factorize(part.to_numpy(dtype=object), use_na_sentinel=True)
        combo, _ = pd.factorize(combo * (len(uniques) + 1) + codes + 1)
    first = np.full(int(combo.max(initial=-1)) + 1, len(frame), dtype=np.int64)
    np.minimum.at(first, combo, np.arange(len(frame), dtype=np.int64))   # codes count up in order of first appearance
    small = [p.iloc[first].reset_index(drop=True) for p in parts]
    present = pd.concat([p.notna() for p in small], axis=1)
    mask = present.all(axis=1) if all_required else present.any(axis=1)
    out = small[0].fillna("")
    for p in small[1:]:
        out = out + "|" + p.fillna("")
    return spread(combo, out.where(mask, None).to_numpy(dtype=object), frame.index)


_NUMBER = re.compile(r"([0-9]+|[零〇○一二三四五六七八九十两幺廿]+|[A-Z])"
                     r"(?:号楼|栋|幢|座|#楼|#|号|单元|单|室|户|楼|层)?")
_FLOOR_ROOM = re.compile(r"([0-9]+|[零〇○一二三四五六七八九十两]+)(?:楼|层)([0-9]{1,2})(?:室|号|户)?")
_ESTATE_SUFFIX = re.compile(r"(?:小区)+$")


def _house_number(value: str) -> tuple[str]:
    """3栋, 三号楼, 3# → "3"; 15楼02 → "1502": the house parts as the address normalizer writes them."""
    s = unicodedata.normalize("NFKC", value).strip().upper()
    floor_room = _FLOOR_ROOM.fullmatch(s)
    if floor_room:
        floor = cn_number(floor_room.group(1))
        return (str(floor * 100 + int(floor_room.group(2))) if floor is not None else s,)
    number = _NUMBER.fullmatch(s)
    if number:
        token = number.group(1)
        if token.isalpha() and token.isascii():
            return (token,)
        parsed = cn_number(token)
        return (str(parsed) if parsed is not None else s,)
    return (s,)


def house_parts(frame: pd.DataFrame, prefix: str = "") -> pd.DataFrame:
    """estate (小区 dropped), building, unit, room (numbers as plain digits) of a frame's house columns."""
    out = pd.DataFrame(index=frame.index)
    estate = text(frame, prefix + "estate")
    out["estate"] = on_distinct(estate, lambda e: pd.DataFrame({"estate": e.str.replace(_ESTATE_SUFFIX, "",
                                                                                         regex=True)}))["estate"]
    for part in ("building", "unit", "room"):
        out[part] = _per_distinct(text(frame, prefix + part), _house_number, 1)[0]
    return out


def id_parts(ids: pd.Series) -> pd.DataFrame:
    """Birth date (YYYYMMDD) and sex (1 odd / 2 even digit 17) read from 18-character ID numbers."""
    ok = ids.notna()
    s = ids.fillna("")
    dob = s.str.slice(6, 14).where(ok, None)
    digit = pd.to_numeric(s.str.slice(16, 17), errors="coerce")
    sex = pd.Series(np.where(digit % 2 == 1, "1", "2"), index=ids.index, dtype=object).where(ok & digit.notna(), None)
    return pd.DataFrame({"id_dob": dob, "id_sex": sex})


def _id_any_parts(ids: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"id_any14": ids.str.slice(0, 14), "id_ends": ids.str.slice(0, 6) + ids.str.slice(14, 18)})


def _dob_parts(dates: pd.Series) -> pd.DataFrame:
    dob = dates.str.replace("-", "", regex=False)
    return pd.DataFrame({"dob": dob.where(dob.str.len() == 8, None)})


def _dob_derived(dob: pd.Series) -> pd.DataFrame:
    """dob_swapped (day and month exchanged, when the day could be a month) and birth_year."""
    swapped = dob.str.slice(0, 4) + dob.str.slice(6, 8) + dob.str.slice(4, 6)
    day = pd.to_numeric(dob.str.slice(6, 8), errors="coerce")
    return pd.DataFrame({"dob_swapped": swapped.where((day <= 12) & (swapped != dob), None),
                         "birth_year": dob.str.slice(0, 4)})


def _masked(masked: pd.Series, dob: pd.Series) -> tuple[pd.Series, pd.Series]:
    """id_masked_full (the masked ID rebuilt with the birth date) and id_masked_ends, on the few
    rows holding a masked ID."""
    full = pd.Series(None, index=masked.index, dtype=object)
    ends = pd.Series(None, index=masked.index, dtype=object)
    has = masked.notna().to_numpy()
    if has.any():
        m, d = masked[has].astype(object), dob[has].astype(object)
        full[has] = (m.str.slice(0, 6) + d + m.str.slice(14, 18)).where(d.notna(), None)
        ends[has] = m.str.slice(0, 6) + m.str.slice(14, 18)
    return full, ends


def person_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Features of a person frame (columns as hub.resolve.frames.entity_frame gives them)."""
    f = pd.DataFrame({"record_key": frame["record_key"].astype(str), "source": text(frame, "source")})
    f = pd.concat([f, name_features(text(frame, "name"))], axis=1)
    f["id"] = text(frame, "resident_id")
    f["id_unchecked"] = text(frame, "resident_id_unchecked")
    f["id_masked"] = text(frame, "resident_id_masked")
    f["id_prefix14"] = text(frame, "resident_id_prefix14")
    f["id_any"] = f["id"].fillna(f["id_unchecked"])
    f = pd.concat([f, on_distinct(f["id_any"], _id_any_parts), on_distinct(f["id"], id_parts)], axis=1)
    dob = on_distinct(text(frame, "birth_date"), _dob_parts)["dob"]
    f["dob"] = coalesce(dob, f["id_dob"])
    f = pd.concat([f, on_distinct(f["dob"], _dob_derived)], axis=1)
    f["id_masked_full"], f["id_masked_ends"] = _masked(f["id_masked"], f["dob"])
    gender = text(frame, "gender")
    f["sex"] = coalesce(gender.where(gender.isin(["1", "2"]), None), f["id_sex"])
    f = f.drop(columns=["id_dob", "id_sex"])
    f["phone"] = text(frame, "phone")
    house = house_parts(frame, "house_")
    f["house"] = joined(house, ["estate", "building", "unit", "room"])
    f["house_bur"] = joined(house, ["building", "unit", "room"])
    f["house_building"] = joined(house, ["estate", "building"])
    f["house_estate"] = house["estate"]
    return f


def encode(features: pd.DataFrame, columns: Iterable[str]) -> dict[str, Codes]:
    """Integer codes per string column, -1 for missing: equal codes ⇔ equal strings within this frame."""
    out = {}
    for column in columns:
        codes, _ = pd.factorize(features[column], use_na_sentinel=True)
        out[column] = codes.astype(np.int64)
    return out
