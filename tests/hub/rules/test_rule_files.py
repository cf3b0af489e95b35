"""Rule files: the shipped ones load clean; a wrong one fails with file, line and cause, every problem at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.errors import RuleError
from hub.mapping import load_mappings
from hub.rules import load_rule, load_rules

ROOT = Path(__file__).resolve().parents[3]
GOOD = (ROOT / "rules" / "welfare_after_death.yaml").read_text(encoding="utf-8")
runner = CliRunner()


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, sources: list[str] | None = None) -> list[str]:
    return [str(p) for p in load_rule(path, sources).problems]


def test_shipped_rules_load_clean_against_the_mappings() -> None:
    sources = [spec.source for spec in load_mappings(ROOT / "mappings").ready]
    rules = load_rules(ROOT / "rules", sources).require_ok()
    assert {r.id for r in rules} >= {"welfare_after_death", "welfare_with_assets", "unregistered_tenant",
                                      "certificate_after_death"}
    for rule in rules:
        assert rule.name.zh and rule.name.en and rule.description.zh and rule.description.en


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "welfare_after_death", GOOD.replace("severity: high", "severity: [high"))
    found = problems(path)
    assert len(found) == 1 and "not valid YAML" in found[0] and found[0].startswith(f"{path}:")


@pytest.mark.parametrize(("change", "line_of", "cause"), [
    (("severity: high", "severity: urgent"), "severity:", "Input should be 'low', 'medium' or 'high'"),
    (("entity_type: person", "entity_type: persn"), "entity_type: persn", "did you mean 'person'"),
    (("attribute: death_date", "attribute: death_day"), "attribute: death_day",
     "person has no attribute 'death_day' (did you mean 'death_date'?)"),
    (("direction: in ", "direction: out"), "predicate: applies_to", "no relation person –applies_to→ situation"),
    (("predicate: applies_to", "predicate: apply_to"), "predicate: apply_to", "did you mean 'applies_to'"),
    (("status: {not_in:", "statuz: {not_in:"), "statuz:", "situation has no attribute 'statuz'"),
    (("evidence: [death, payment]", "evidence: [death, payments]"), "evidence:", "no positive clause is named"),
    (("    value: {attribute: death_date, present: true}", "    value: {attribute: death_date, present: true, eq: x}"),
     "value: {attribute", "give exactly one test"),
    (("  - as: death\n", "  - as: death\n    colour: red\n"), "colour: red", "unknown key 'colour'"),
    (("id: welfare_after_death", "id: another_rule"), "id: another_rule", "must be the file's name"),
])
def test_a_wrong_rule_fails_with_file_line_and_cause(tmp_path: Path, change: tuple[str, str], line_of: str,
                                                     cause: str) -> None:
    old, new = change
    assert old in GOOD
    text = GOOD.replace(old, new)
    path = write(tmp_path, "welfare_after_death", text)
    found = problems(path)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if line_of in t)
    assert any(p.startswith(f"{path}:{line}:") and cause in p for p in found), found


def test_unknown_source_key_given_twice_and_two_files_with_one_id(tmp_path: Path) -> None:
    path = write(tmp_path, "welfare_after_death", GOOD.replace("renshe_pension]", "renshe_pensoin]")
                 .replace("severity: high", "severity: high\nseverity: low"))
    found = problems(path, ["minzheng_assistance", "minzheng_allowance", "renshe_pension"])
    assert any("key 'severity' is given twice" in p for p in found)
    with pytest.raises(RuleError):
        load_rules(tmp_path).require_ok()
    # a source no mapping defines is a warning (a typo, or a department this district lacks): the rule still runs
    typo = write(tmp_path, "welfare_after_death", GOOD.replace("renshe_pension]", "renshe_pensoin]"))
    loaded = load_rule(typo, ["minzheng_assistance", "minzheng_allowance", "renshe_pension"])
    assert loaded.rule is not None and not loaded.problems
    line = next(i for i, t in enumerate(GOOD.splitlines(), 1) if "renshe_pension]" in t)
    assert [str(w) for w in loaded.warnings] == [
        f"{typo}:{line}: condition.1.related.sources.2: no mapping has source 'renshe_pensoin' (did you mean "
        "'renshe_pension'?)"]

    other = tmp_path / "more"
    other.mkdir()
    write(other, "welfare_after_death", GOOD)
    (other / "welfare_after_death.yml").write_text(GOOD, encoding="utf-8")
    assert any("is used by" in str(p) for p in load_rules(other).problems)


def test_cli_check_reports_problems_and_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_MAPPINGS_DIR", str(ROOT / "mappings"))
    monkeypatch.setenv("HUB_RULES_DIR", str(ROOT / "rules"))
    ok = runner.invoke(app, ["rules", "check"])
    assert ok.exit_code == 0, ok.output
    assert "welfare_after_death.yaml: ok" in ok.output
    bad = write(tmp_path, "welfare_after_death", GOOD.replace("attribute: death_date", "attribute: death_day"))
    result = runner.invoke(app, ["rules", "check", str(bad)])
    assert result.exit_code == 1
    assert "has no attribute 'death_day'" in result.output


STAFF = (ROOT / "rules" / "welfare_staff_relative.yaml").read_text(encoding="utf-8")
INCOME = (ROOT / "rules" / "welfare_with_income.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("good", "name", "change", "line_of", "cause"), [
    (STAFF, "welfare_staff_relative", ("on: [household_no, registered_at]", "on: [household_nr, registered_at]"),
     "on: [household_nr", "'household_nr' is neither an attribute of person nor a relation from it (did you mean "
     "'household_no'?)"),
    (STAFF, "welfare_staff_relative", ("on: [household_no, registered_at]", "on: [household_no, applies_to]"),
     "on: [household_no, applies_to]", "'applies_to' is neither an attribute"),
    (STAFF, "welfare_staff_relative", ("predicate: employed_by", "predicate: employed"), "predicate: employed",
     "unknown predicate 'employed'"),
    (STAFF, "welfare_staff_relative", ("      with:\n", "      width:\n"), "width:", "unknown key 'width'"),
    (INCOME, "welfare_with_income", ("amount: {ge: 10000}", "amount: {ge: ten}"), "amount: {ge: ten}",
     "Input should be a valid number"),
    (INCOME, "welfare_with_income", ("amount: {ge: 10000}", "amount: {ge: 10000, eq: '1'}"), "amount: {ge",
     "give exactly one test of: present, eq, in, not_in, gt, ge, lt, le"),
    (INCOME, "welfare_with_income", ("amount: {ge: 10000}", "amout: {ge: 10000}"), "amout:",
     "situation has no attribute 'amout'"),
])
def test_a_wrong_comparison_or_shares_clause_fails_with_file_line_and_cause(
        tmp_path: Path, good: str, name: str, change: tuple[str, str], line_of: str, cause: str) -> None:
    old, new = change
    assert old in good
    text = good.replace(old, new)
    path = write(tmp_path, name, text)
    found = problems(path)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if line_of in t)
    assert any(p.startswith(f"{path}:{line}:") and cause in p for p in found), found
