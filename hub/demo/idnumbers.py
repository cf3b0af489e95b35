"""Identifier numbers built by the rules of their standards, column-wise.

Faker's zh_CN `ssn()` draws county codes that often did not exist in the birth year (stack notes §5),
so resident IDs are built here from known county codes with the ISO 7064 MOD 11-2 check of
GB 11643-1999; credit codes follow GB 32100-2015 with the embedded GB 11714 check.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

RIC_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
RIC_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]

StrArray = npt.NDArray[np.str_]


def digits_matrix(strings: StrArray, width: int) -> npt.NDArray[np.int64]:
    """The first `width` characters of ASCII digit strings as an (n, width) integer matrix."""
    raw = np.asarray(strings).astype(f"S{width}")
    return np.frombuffer(raw.tobytes(), dtype=np.uint8).reshape(-1, width).astype(np.int64) - 48


def ric_check_chars(body17: StrArray) -> StrArray:
    """MOD 11-2 check characters for many 17-digit bodies at once."""
    if len(body17) == 0:
        return np.array([], dtype="<U1")
    remainders = (digits_matrix(body17, 17) @ RIC_WEIGHTS) % 11
    return np.array(list(RIC_CHECK), dtype="<U1")[remainders]


def ric_check(body17: str) -> str:
    return RIC_CHECK[sum(int(c) * int(w) for c, w in zip(body17, RIC_WEIGHTS, strict=True)) % 11]


def ric_is_valid(number: str) -> bool:
    """Format and check character only: county codes and dates are judged elsewhere."""
    return (
        len(number) == 18 and number[:17].isdigit() and number[:17].isascii() and ric_check(number[:17]) == number[17]
    )


def make_rics(counties: StrArray, births: npt.NDArray[np.datetime64], sequences: npt.NDArray[np.int64]) -> StrArray:
    """18-character IDs from county code, birth date and 3-digit sequence (its parity is the sex)."""
    ymd = np.char.replace(np.datetime_as_string(births.astype("datetime64[D]"), unit="D"), "-", "")
    seq = np.char.zfill(sequences.astype(str), 3)
    body = np.char.add(np.char.add(counties.astype(str), ymd), seq)
    return np.char.add(body, ric_check_chars(body))


def to_first_generation(ric18: str) -> str:
    """The 15-digit form of a 1900s-born person's ID: no century, no check character."""
    return ric18[:6] + ric18[8:17]


def org_code_check(body8: str) -> str:
    """GB 11714 check character of an 8-character organization code body (letters count A=10 … Z=35)."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    rest = 11 - total % 11
    return {10: "X", 11: "0"}.get(rest, str(rest))


def uscc_check(body17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def make_uscc(authority_and_type: str, admin_code: str, org_body8: str) -> str:
    """A unified social credit code whose positions 9–17 are a valid GB 11714 organization code."""
    body = authority_and_type + admin_code + org_body8 + org_code_check(org_body8)
    return body + uscc_check(body)
