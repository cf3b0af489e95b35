"""One spelling for the names of estates (小区) and communities (社区), in addresses and in columns.

A house row carries its estate and community twice: in their own columns and inside the address.
Both go through the functions here, so 阳光小区 in a column and 阳光 read from 阳光小区3栋 compare
equal, and so do 和平社区居委会 and 和平社区. Estate and community names turn simplified character by
character, as person names do (a name is not a phrase for opencc's phrase rules).
"""

from __future__ import annotations

import functools
import re

from hub.normalize._hanzi import HAN, to_simplified

HAN_CHAR = f"[{HAN}]"
NOT_AN_ESTATE = r"(?!小区|花园|家园|公寓|苑|城|园)"
"""After 镇, 乡 or 村: the word goes on as an estate's name (幸福村小区), it is no division."""
COMMUNITY = re.compile(
    rf"({HAN_CHAR}{{2,10}}?)(社区居民委员会|社区居委会|居民委员会|居委会|社区|村民委员会|村委会|(?<!新)村{NOT_AN_ESTATE})"
)
"""A residents' (社区) or villagers' (村) committee: the name, then how the source wrote the office."""
COMMITTEE = re.compile(r"^(?:社区居民委员会|社区居委会|居民委员会|居委会|村民委员会|村委会)+")
"""The committee's office written once more after the community: not an estate."""
PUNCTUATION = re.compile(r"[\s,，、;；:：\"“”'‘’]")
"""Dropped from addresses and place names before reading them."""
_ESTATE_SUFFIX = re.compile(r"(?:小区)+$")
_CACHE_SIZE = 8192


@functools.lru_cache(maxsize=_CACHE_SIZE)
def canonical_estate(estate: str) -> str:
    """Simplified, without a trailing 小区 (阳光小区 → 阳光); 花园 and 家园 stay: 阳光花园 and 阳光家园
    can be two estates. A name that is nothing but 小区 stays as it is."""
    simplified = to_simplified(estate)
    return _ESTATE_SUFFIX.sub("", simplified) or simplified


def canonical_community(name: str, office: str) -> str:
    """和平 + 社区居委会 → 和平社区; 幸福 + 村民委员会 → 幸福村."""
    return to_simplified(name) + ("村" if "村" in office else "社区")


def community_in(text: str) -> str | None:
    """The canonical community when `text` is exactly one community name with its office, else None."""
    match = COMMUNITY.fullmatch(to_simplified(text))
    return canonical_community(match.group(1), match.group(2)) if match else None
