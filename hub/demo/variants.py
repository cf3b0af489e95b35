"""How one true value is written down differently: the defects seen in department exports.

Each function takes clean values (and, where a choice is involved, a random generator or style
codes) and returns the written form. They work on numpy object arrays so that a department's
export applies one defect to a whole column slice at once.
"""

from __future__ import annotations

from functools import cache

import cn2an
import numpy as np
import numpy.typing as npt
import opencc

from hub.demo.idnumbers import to_first_generation

ObjArray = npt.NDArray[np.object_]
EXCEL_EPOCH = np.datetime64("1899-12-30")
_FULLWIDTH = str.maketrans({**{chr(0x30 + i): chr(0xFF10 + i) for i in range(10)}, "X": "Ｘ", "x": "ｘ"})
_LETTERS_FOR_DIGITS = str.maketrans("0125689", "OIZSbBq")


@cache
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def traditional(names: ObjArray) -> ObjArray:
    """Character-by-character s2t (phrase rules inside names would change 沈 into 瀋 or worse)."""
    if len(names) == 0:
        return names
    joined = "\n".join("\x1f".join(str(n)) for n in names)
    return np.array([s.replace("\x1f", "") for s in _s2t().convert(joined).split("\n")], dtype=object)


def fullwidth(values: ObjArray) -> ObjArray:
    return np.array([str(v).translate(_FULLWIDTH) for v in values], dtype=object)


def mistype_digit(ids: ObjArray, rng: np.random.Generator) -> ObjArray:
    """One of the first 17 digits replaced by another digit (the check character then fails)."""
    out = []
    for s in ids:
        i = int(rng.integers(0, 17))
        d = (int(s[i]) + int(rng.integers(1, 10))) % 10
        out.append(s[:i] + str(d) + s[i + 1 :])
    return np.array(out, dtype=object)


def transpose_adjacent(ids: ObjArray, rng: np.random.Generator) -> ObjArray:
    """Two neighbouring, different characters swapped (always caught by the check character)."""
    out = []
    for s in ids:
        spots = [i for i in range(len(s) - 1) if s[i] != s[i + 1]]
        i = spots[int(rng.integers(0, len(spots)))]
        out.append(s[:i] + s[i + 1] + s[i] + s[i + 2 :])
    return np.array(out, dtype=object)


def first_generation(ids: ObjArray) -> ObjArray:
    return np.array([to_first_generation(s) for s in ids], dtype=object)


def letters_in_id(ids: ObjArray) -> ObjArray:
    """A truly broken ID: digits read back as look-alike letters (0→O, 1→I, …)."""
    return np.array([s[:6] + s[6:12].translate(_LETTERS_FOR_DIGITS) + s[12:] for s in ids], dtype=object)


def excel_number(ids: ObjArray) -> ObjArray:
    """An ID typed into an Excel number cell: 15 significant digits survive, the rest become 0."""
    return np.array([int(s[:15] + "000") if s[:17].isdigit() else s for s in ids], dtype=object)


def masked(ids: ObjArray) -> ObjArray:
    return np.array([s[:6] + "********" + s[14:] for s in ids], dtype=object)


def with_separator(names: ObjArray, separators: ObjArray) -> ObjArray:
    return np.array([n.replace("\u00b7", s) for n, s in zip(names, separators, strict=True)], dtype=object)


def honorific(surnames: ObjArray, male: npt.NDArray[np.bool_]) -> ObjArray:
    return surnames + np.where(male, "先生", "女士").astype(object)


# dates -------------------------------------------------------------------------------------------
DATE_ISO, DATE_CN, DATE_COMPACT, DATE_SLASH, DATE_DOT, DATE_ISO_TIME, DATE_SERIAL, DATE_CELL = range(8)


def format_dates(dates: npt.NDArray[np.datetime64], styles: npt.NDArray[np.int64]) -> ObjArray:
    """Dates in the given styles; DATE_SERIAL gives an int (Excel serial), DATE_CELL a numpy date
    left for the writer to store as a real date cell. NaT gives ''."""
    d = dates.astype("datetime64[D]")
    nat = np.isnat(d)
    safe = np.where(nat, np.datetime64("2000-01-01"), d)
    y = safe.astype("datetime64[Y]").astype(int) + 1970
    m = safe.astype("datetime64[M]").astype(int) % 12 + 1
    day = (safe - safe.astype("datetime64[M]")).astype(int) + 1
    ys, ms, ds = y.astype(str).astype(object), m.astype(str).astype(object), day.astype(str).astype(object)
    m2 = np.char.zfill(m.astype(str), 2).astype(object)
    d2 = np.char.zfill(day.astype(str), 2).astype(object)
    iso = ys + "-" + m2 + "-" + d2
    forms = [
        iso,
        ys + "年" + ms + "月" + ds + "日",
        ys + m2 + d2,
        ys + "/" + ms + "/" + ds,
        ys + "." + m2 + "." + d2,
        iso + " 00:00:00",
        (safe - EXCEL_EPOCH).astype(int).astype(object),
        safe.astype(object),
    ]
    out = np.choose(styles, forms)
    out[nat] = ""
    return out


def pick_date_styles(
    rng: np.random.Generator, n: int, nonstandard: float, serial: float, excel: bool
) -> npt.NDArray[np.int64]:
    """ISO for most, other text styles for `nonstandard`; in workbooks also serials and date cells."""
    styles = np.where(
        rng.random(n) < nonstandard,
        rng.choice([DATE_CN, DATE_COMPACT, DATE_SLASH, DATE_DOT, DATE_ISO_TIME], n),
        DATE_ISO,
    )
    if excel:
        styles = np.where(rng.random(n) < 0.25, DATE_CELL, styles)
        styles = np.where(rng.random(n) < serial, DATE_SERIAL, styles)
    return styles


# phones ------------------------------------------------------------------------------------------
def format_phones(phones: ObjArray, rng: np.random.Generator) -> ObjArray:
    """+86 138 0013 8000, 138-0013-8000, 86-13800138000, 008613800138000, 138 0013 8000; landlines as
    (0991)2812345, 09912812345 or without the area code."""
    out = []
    for s in phones:
        if s.startswith("0991-"):
            local = s[5:]
            out.append([f"(0991){local}", f"0991{local}", local, f"0991 {local}"][int(rng.integers(0, 4))])
            continue
        a, b, c = s[:3], s[3:7], s[7:]
        out.append(
            [f"+86 {a} {b} {c}", f"{a}-{b}-{c}", f"86-{s}", f"0086{s}", f"{a} {b} {c}", f"+86{s}"][
                int(rng.integers(0, 6))
            ]
        )
    return np.array(out, dtype=object)


# addresses ---------------------------------------------------------------------------------------
@cache
def chinese_numerals() -> tuple[str, ...]:
    return tuple([""] + [cn2an.an2cn(str(i)) for i in range(1, 100)])


def building_text(numbers: npt.NDArray[np.int64], styles: npt.NDArray[np.int64]) -> ObjArray:
    """0: 3号楼, 1: 3栋, 2: 三栋, 3: 3幢, 4: 3#楼, 5: 3 (bare, as property systems keep it)."""
    cn = np.array(chinese_numerals(), dtype=object)[np.minimum(numbers, 99)]
    n = numbers.astype(str).astype(object)
    return np.choose(styles, [n + "号楼", n + "栋", cn + "栋", n + "幢", n + "#楼", n])


def unit_text(numbers: npt.NDArray[np.int64], styles: npt.NDArray[np.int64]) -> ObjArray:
    """0: 2单元, 1: 二单元, 2: 2 (bare)."""
    cn = np.array(chinese_numerals(), dtype=object)[np.minimum(numbers, 99)]
    n = numbers.astype(str).astype(object)
    return np.choose(styles, [n + "单元", cn + "单元", n])


def room_text(rooms: npt.NDArray[np.int64], styles: npt.NDArray[np.int64]) -> ObjArray:
    """0: 1502室, 1: 1502, 2: 15楼02, 3: 15层02室."""
    r = rooms.astype(str).astype(object)
    floor = (rooms // 100).astype(str).astype(object)
    last = np.char.zfill((rooms % 100).astype(str), 2).astype(object)
    return np.choose(styles, [r + "室", r, floor + "楼" + last, floor + "层" + last + "室"])
