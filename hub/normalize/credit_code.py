"""Unified social credit codes (统一社会信用代码, GB 32100-2015) and old organization codes (GB 11714).

Written by hand rather than with `stdnum.cn.uscc`, which wants positions 1-8 to be digits and so
rejects valid codes of village collectives (N2…), the military (A1…) and others (Y1…).
An 18-character code of the right alphabet whose check or division code fails is kept as
`derived["credit_code_unchecked"]` (an employer quoting a made-up code is what rules/insured_employer_unregistered
looks for). Positions 9-17 of a credit code are the organization code: `derived["org_code"]` lets a record
from before 2015 that carries only `60003734-1` link to the same organization.
"""

from __future__ import annotations

import re
from typing import Any

from hub.normalize._common import as_text, clean, reject, total, unsupported
from hub.normalize.base import Normalized

FIELD = "credit_code"
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""GB 32100 characters: digits and capitals without I, O, Z, S, V."""

_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
_SEPARATORS = re.compile(r"[\s\-_.\u2010-\u2015]")
_USCC = re.compile(rf"[{ALPHABET}]{{2}}\d{{6}}[{ALPHABET}]{{10}}", re.ASCII)
_ORG_CODE = re.compile(r"[0-9A-Z]{8}[0-9X]")


def credit_check_char(first17: str) -> str:
    """The 18th character of a credit code (MOD 31 over weights 3^i)."""
    total_ = sum(ALPHABET.index(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total_ % 31) % 31]


def org_check_char(first8: str) -> str:
    """The 9th character of a GB 11714 organization code (MOD 11, letters A=10 … Z=35)."""
    values = (int(c) if c.isdigit() else ord(c) - 55 for c in first8)
    total_ = sum(v * w for v, w in zip(values, _ORG_WEIGHTS, strict=True))
    remainder = 11 - total_ % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def _credit_code(s: str) -> Normalized:
    if not _USCC.fullmatch(s):
        if re.search(f"[^{ALPHABET}]", s):
            return reject(FIELD, "contains characters outside the credit-code alphabet")
        return reject(FIELD, "positions 3-8 are not a division code", credit_code_unchecked=s)
    if credit_check_char(s[:17]) != s[17]:
        return reject(FIELD, "check character does not match", credit_code_unchecked=s)
    org_code = s[8:17]
    flags = () if org_check_char(org_code[:8]) == org_code[8] else ("org_code_check_mismatch",)
    return Normalized(s, derived={"org_code": org_code}, flags=flags)


def _organization_code(s: str) -> Normalized:
    if not _ORG_CODE.fullmatch(s):
        return reject(FIELD, "not a valid organization code")
    if org_check_char(s[:8]) != s[8]:
        return reject(FIELD, "organization code check character does not match")
    return Normalized(s, derived={"org_code": s}, flags=("organization_code",))


@total(FIELD)
def normalize_credit_code(raw: Any) -> Normalized:
    """An 18-character credit code, or a 9-character organization code kept in its own form."""
    text = as_text(raw)
    if text is None:
        return unsupported(FIELD, raw)
    s = _SEPARATORS.sub("", clean(text)).upper()
    if len(s) == 18:
        return _credit_code(s)
    if len(s) == 9:
        return _organization_code(s)
    if len(s) == 15 and s.isdigit():
        return reject(FIELD, "a 15-digit business registration number, not a credit code")
    if len(s) > 40:
        return reject(FIELD, "too long for a credit code")
    return reject(FIELD, f"{len(s)} characters, expected 18 (or 9 for an organization code)")
