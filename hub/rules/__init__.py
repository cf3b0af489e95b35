"""Cross-department rules: YAML files (rules/) run as set operations over the fused tables, findings stored.

`load_rules(folder)` reads and checks the files (RuleError with file, line and cause); `run_rules` evaluates
them together (hub.rules.engine) and writes the findings (hub.rules.store), or for a rule declaring `derives`
the situations (hub.rules.situations; both with `derives.findings`), in one run of stage `rules`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from hub.keys import guard_write
from hub.protect import Vault
from hub.rules.engine import evaluate
from hub.rules.loader import RuleFile, RuleSet, load_rule, load_rules
from hub.rules.model import Rule
from hub.rules.situations import read_situations, write_situations
from hub.rules.store import Written, read_findings, write_findings
from hub.store.runs import DEFAULT_STALE_AFTER, failure_text, finish_counted, start_run

STAGE, SOURCE = "rules", "all"


@dataclass
class RulesResult:
    run_id: str
    per_rule: dict[str, Written] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def run_rules(engine: Engine, vault: Vault, rules: Sequence[Rule], *, now: datetime | None = None,
              stale_after: timedelta = DEFAULT_STALE_AFTER) -> RulesResult:
    """Evaluate `rules` over the fused tables and store their findings, in one run (stage `rules`); `now` is the
    reference time of time windows and ages (`hub rules run --at`) and the findings' time."""
    run = start_run(engine, STAGE, SOURCE, stale_after=stale_after)
    result = RulesResult(run.id)
    try:
        started = time.perf_counter()
        when = now or datetime.now(UTC)
        if when.tzinfo is None:   # a moment without an offset is China time, as the hub writes its moments
            when = when.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
        found = evaluate(engine, vault, rules, at=when)
        result.seconds["evaluate"] = round(time.perf_counter() - started, 3)
        with engine.begin() as conn:
            guard_write(conn, run.id, vault)
            for rule in rules:
                hits = found[rule.id]
                if rule.derives:
                    result.per_rule[rule.id] = write_situations(conn, rule.id, rule.derives.situation_type, hits,
                                                                run.id, when)
                if rule.derives is None or rule.derives.findings:   # then the findings' counts are reported
                    result.per_rule[rule.id] = write_findings(conn, rule.id, hits, run.id, when)
            total = sum(w.found for w in result.per_rule.values())
            finish_counted(conn, run.id, status="succeeded", records=total,
                       changed=sum(w.new + w.reopened + w.cleared for w in result.per_rule.values()))
    except Exception as exc:
        with engine.begin() as conn:
            finish_counted(conn, run.id, status="failed", error=failure_text(exc))
        raise
    return result


__all__ = ["Rule", "RuleFile", "RuleSet", "RulesResult", "Written", "evaluate", "load_rule", "load_rules",
           "read_findings", "read_situations", "run_rules"]
