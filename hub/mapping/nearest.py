"""The nearest valid name for a misspelt one, shared by the model, the loader and the onboarding tools."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz, process


def nearest(word: str, choices: Iterable[str], cutoff: float = 50) -> str | None:
    """The closest of `choices` to `word`, or None when nothing is close enough."""
    found = process.extractOne(word, list(choices), scorer=fuzz.ratio, score_cutoff=cutoff)
    return str(found[0]) if found else None


def suggest(word: str, choices: Iterable[str]) -> str:
    """' (did you mean x?)' for the closest valid name, or '' when nothing is close."""
    found = nearest(word, choices)
    return f" (did you mean {found!r}?)" if found else ""
