"""Wrong `count`, `age`, `ratio` and `derives` clauses (hub.rules.windows, hub.rules.situations) fail with file, line
and cause, like every other wrong rule file."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.rules import load_rule

ROOT = Path(__file__).resolve().parents[3]
CARE = (ROOT / "rules" / "elderly_alone_no_access.yaml").read_text(encoding="utf-8")
CROWDED = (ROOT / "rules" / "group_renting.yaml").read_text(encoding="utf-8")
ALONE = (ROOT / "rules" / "situation_living_alone.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("name", "good", "change", "line_of", "cause"), [
    ("elderly_alone_no_access", CARE, ("hours: 48}", "hourz: 48}"), "hourz: 48", "unknown key 'hourz'"),
    ("elderly_alone_no_access", CARE, ("hours: 48}", "hours: 48, days: 2}"), "days: 2",
     "exactly one of: days, hours"),
    ("elderly_alone_no_access", CARE, ("attribute: occurred_at", "attribute: occured_at"), "occured_at",
     "event has no attribute 'occured_at' (did you mean 'occurred_at'?)"),
    ("elderly_alone_no_access", CARE, ("attribute: occurred_at", "attribute: device"), "attribute: device",
     "event.device is a str, not a date or datetime"),
    ("elderly_alone_no_access", CARE, ("age: {attribute: birth_date,", "age: {attribute: name,"),
     "attribute: name", "person.name is a str"),
    ("elderly_alone_no_access", CARE, ("        - predicate: concerns", "        - predicate: concern"),
     "predicate: concern", "did you mean 'concerns'"),
    ("elderly_alone_no_access", CARE, ("        - {predicate: resides_at, entity_type: house}",
                                       "        - {predicate: resides_at, direction: in, entity_type: house}"),
     "direction: in, entity_type: house", "no relation house –resides_at→ person"),
    ("elderly_alone_no_access", CARE, ("      at_most: 0", "      at_mots: 0"), "at_mots", "unknown key 'at_mots'"),
    ("group_renting", CROWDED, ("      below: 8", ""), "ratio:", "give at least one bound"),
    ("group_renting", CROWDED, ("attribute: floor_area", "attribute: estate"), "attribute: estate",
     "house.estate is a str, not a Decimal"),
    ("situation_living_alone", ALONE, ("situation_type: living_alone", "situation_type: lonely"), "derives:",
     "Input should be"),
    # welfare and health status is never derived: the copy would be in clear (hub.rules.situations)
    ("situation_living_alone", ALONE, ("situation_type: living_alone", "situation_type: dibao"), "derives:",
     "Input should be"),
])
def test_a_wrong_window_clause_fails_with_file_line_and_cause(tmp_path: Path, name: str, good: str,
                                                              change: tuple[str, str], line_of: str,
                                                              cause: str) -> None:
    old, new = change
    assert old in good
    text = good.replace(old, new)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    found = [str(p) for p in load_rule(path).problems]
    line = next(i for i, t in enumerate(text.splitlines(), 1) if line_of in t)
    assert any(p.startswith(f"{path}:{line}:") and cause in p for p in found), (line, found)
