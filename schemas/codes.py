"""National code systems the canonical model uses, and the formats their values take.

Patterns constrain the shape of a value already normalized by hub/normalize; checksums and
conversions (15-digit IDs, full-width digits, Chinese gender words) are the normalizers' work.
"""

from __future__ import annotations

from enum import StrEnum

GB_11643 = "GB 11643-1999"
GB_32100 = "GB 32100-2015"
GB_T_2261_1 = "GB/T 2261.1-2003"
GB_3304 = "GB 3304-1991"
GB_T_2260 = "GB/T 2260-2007"
GB_T_4761 = "GB/T 4761-2008"

RESIDENT_ID_PATTERN = r"^\d{17}[\dX]$"
"""18 characters: 17 digits and a check character (digit or X)."""

CREDIT_CODE_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$"
"""USCC: authority and type, 6-digit division code, organization code and check character (no I O Z S V)."""

DISTRICT_CODE_PATTERN = r"^\d{6}$"
ETHNICITY_PATTERN = r"^\d{2}$"
PHONE_PATTERN = r"^(?:1\d{10}|0\d{2,3}-\d{7,8})$"
"""An 11-digit mobile number, or a fixed line as 0AREA-NUMBER."""


class Gender(StrEnum):
    """GB/T 2261.1 sex codes (人的性别代码)."""

    unknown = "0"  # 未知的性别
    male = "1"  # 男性
    female = "2"  # 女性
    unspecified = "9"  # 未说明的性别
