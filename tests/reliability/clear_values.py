"""The needles of G11 and G12: every clear resident ID and phone a generated district holds, and a
search for them in any text or bytes (a store dump, a log line, what a test printed).

The search is by windows, not by substring per needle: each run of digits (and X) in the haystack
gives its 11- and 18-character windows, which are then looked up in the set of needles. That keeps
the cost linear in the haystack whatever the number of needles, and lets the session's logs be
reduced to a set of windows as they are written, before the districts they might leak are known.
Full-width digits are folded to ASCII (NFKC), and single spaces or hyphens between digits are
dropped, so "+86 138-0013-8000" is found as well as "13800138000".
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

NEEDLE_WIDTHS = (11, 18)          # a mobile phone; a resident ID number (GB 11643)
_RUN = re.compile(r"[0-9X]{11,}")
_GLUE = re.compile(r"(?<=[0-9])[ \-](?=[0-9])")


def truth_values(truth_dir: Path) -> set[str]:
    """Clear resident IDs and phones of a district's ground truth (hub.demo writes truth/persons.csv)."""
    found: set[str] = set()
    with (truth_dir / "persons.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            found.update(v.strip().upper() for v in (row.get("resident_id"), row.get("phone")) if v and v.strip())
    return found


def windows(text: str | bytes) -> set[str]:
    """Every 11- and 18-character window of every digit run in the text: what a needle could match."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = _GLUE.sub("", text.upper())
    out: set[str] = set()
    for run in _RUN.findall(text):
        for width in NEEDLE_WIDTHS:
            out.update(run[i:i + width] for i in range(len(run) - width + 1))
    return out


def clear_hits(needles: set[str], haystacks: Iterable[str | bytes]) -> set[str]:
    """The needles found in any of the haystacks."""
    hits: set[str] = set()
    for haystack in haystacks:
        hits |= windows(haystack) & needles
    return hits
