"""`hub rules list|check|run`: the cross-department checks of HUB_RULES_DIR (hub.rules) and their findings."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli_console import console, err, folding_table, source_text
from hub.cli_console import fail as _fail
from hub.errors import ConfigurationError, HubError

if TYPE_CHECKING:
    from hub.rules import Rule, RuleSet

rules_app = typer.Typer(help="Cross-department checks (rules/*.yaml): list, check, run.", no_args_is_help=True)


def _sources() -> list[str] | None:
    """The sources of the ready mappings, to check the ones rules name; None when the mappings do not load."""
    from hub.mapping import load_mappings
    from hub.settings import HubSettings

    mappings = load_mappings(HubSettings().mappings_dir)
    return [spec.source for spec in mappings.ready] or None


def _warn(found: RuleSet) -> None:
    for warning in found.warnings:
        err.print(f"[yellow]{source_text(warning)}[/yellow]", highlight=False, soft_wrap=True)


def _rules() -> list[Rule]:
    from hub.rules import load_rules
    from hub.settings import HubSettings

    found = load_rules(HubSettings().rules_dir, _sources())
    _warn(found)
    return found.require_ok()


def _gives(rule: Rule) -> str:
    """What a rule's hits are: findings (anomalies, each an event to handle), periods of a situation (情), or both."""
    if rule.derives is None:
        return "findings"
    periods = f"情 {rule.derives.situation_type} periods"
    return f"findings and {periods}" if rule.derives.findings else periods


@rules_app.command("check")
def rules_check(
    files: Annotated[list[Path] | None, typer.Argument(help="rule files; default every file of HUB_RULES_DIR")] = None,
) -> None:
    """Validate rule files: every problem with file, line and cause (exit 1 on any)."""
    from hub.rules import RuleSet, load_rule, load_rules
    from hub.settings import HubSettings

    sources = _sources()
    folder = HubSettings().rules_dir
    found = RuleSet([load_rule(f, sources) for f in files]) if files else load_rules(folder, sources)
    if not found.files:
        err.print(f"no rule file in {source_text(folder)}")
        raise typer.Exit(code=1)
    for problem in found.problems:
        err.print(f"[red]{source_text(problem)}[/red]", highlight=False, soft_wrap=True)
    _warn(found)
    for f in found.files:
        verdict = "[green]ok[/green]" if f.rule else f"[red]{len(f.problems)} problem(s)[/red]"
        console.print(f"{source_text(f.path)}: {verdict}", highlight=False)
    if found.problems:
        raise typer.Exit(code=1)


@rules_app.command("list")
def rules_list(
    findings: Annotated[str | None, typer.Option("--findings", help="also list the open findings of this rule id")]
    = None,
) -> None:
    """The rules of HUB_RULES_DIR with their severity and what holds now: open findings, or for a rule that
    derives only a situation (情) its open periods, which are not findings and raise no event."""
    import json

    from hub.pipeline import Hub
    from hub.rules import read_findings, read_situations

    try:
        rules = _rules()
        hub = Hub.open(create=False)
        found = read_findings(hub.engine)
        periods = read_situations(hub.engine)["rule_id"].value_counts()
    except HubError as exc:
        raise _fail(exc) from None
    counts = found["rule_id"].value_counts()
    table = folding_table("rule", "severity", "entity", "name", "gives", "open now", title="rules")
    for rule in rules:
        held = periods if rule.derives and not rule.derives.findings else counts
        table.add_row(rule.id, rule.severity, rule.entity_type, f"{rule.name.zh} / {rule.name.en}",
                      _gives(rule), f"{int(held.get(rule.id, 0)):,}")
    console.print(table)
    if findings is not None:   # canonical ids, sources and dates only: `hub find` shows a person by clearance
        rows = folding_table("entity", "sources cited", "statements", "first found", "last found",
                             title=f"open findings of {findings}")
        mine = found[found["rule_id"] == findings]
        for entity, sources, evidence, first, last in zip(mine["entity_id"], mine["sources"], mine["evidence"],
                                                          mine["first_found_at"], mine["last_found_at"], strict=True):
            rows.add_row(str(entity), ", ".join(json.loads(str(sources))), str(len(json.loads(str(evidence)))),
                         f"{first:%Y-%m-%d %H:%M}", f"{last:%Y-%m-%d %H:%M}")
        console.print(rows)


@rules_app.command("run")
def rules_run(
    rule: Annotated[list[str] | None, typer.Option("--rule", "-r", help="run only these rule ids")] = None,
    at: Annotated[datetime | None, typer.Option(
        "--at", help="reference time of time windows and ages, China time (default now); the demo district's "
        "is its snapshot, 2025-06-30T18:00:00")] = None,
) -> None:
    """Run the rules over the fused data and store their findings (new, still open, cleared, reopened); the
    situations (情) rules derive are published as the read model's next version (none when they did not change)."""
    from hub.pipeline import Hub, publish
    from hub.rules import run_rules

    try:
        rules = _rules()
        unknown = sorted(set(rule or []) - {r.id for r in rules})
        if unknown:
            raise ConfigurationError(f"no rule {', '.join(unknown)}; rules: {', '.join(r.id for r in rules)}")
        chosen = [r for r in rules if not rule or r.id in rule]
        hub = Hub.open()
        result = run_rules(hub.engine, hub.vault, chosen, now=at or hub.settings.rules_at,
                           stale_after=hub.settings.stale_after)
        publish(hub, fusion_changed=False)
    except HubError as exc:
        raise _fail(exc) from None
    table = folding_table("rule", "severity", "gives", "open now", "new", "reopened", "cleared",
                          title=f"rules run {result.run_id}")
    for r in chosen:
        w = result.per_rule[r.id]
        table.add_row(r.id, r.severity, _gives(r), f"{w.found:,}", f"{w.new:,}", f"{w.reopened:,}",
                      f"{w.cleared:,}")
    console.print(table)
    console.print(f"evaluated in {result.seconds['evaluate']:.1f} s; `hub rules list` shows the open findings")
