"""What each reliability figure checks, and the numbers whose target is zero.

The figures are those of shared/reliability.md (G1..G18) and the findings of issue 18 (F1..F14).
A new capability adds its figure here in one line and marks its tests with
`@pytest.mark.reliability("G<n>")`; a figure not listed here still gets its row in the table.
"""

from __future__ import annotations

import re

FIGURES: dict[str, str] = {
    "G1": "per ingest run and source: extracted = loaded + quarantined (+ unchanged)",
    "G2": "re-running ingest and resolution on unchanged sources adds and changes nothing",
    "G3": "an ingest killed (SIGKILL) at random points: no half batch, nothing lost or doubled after the next run",
    "G4": "a source unreachable, stalling, truncated, answering 429/5xx, renamed or missing column, full disk: "
          "that source fails naming source and cause, transient errors retried, the others land",
    "G5": "arbitrary input to the normalizers and file connectors: no uncaught exception, bad rows quarantined",
    "G6": "schemathesis over the OpenAPI spec: no 5xx, every error problem+json",
    "G7": "every endpoint as every consumer: no value above the caller's clearance",
    "G8": "requests outside a consumer's scope: 403/404, audited, no data",
    "G9": "forged, expired, wrong-audience, alg=none tokens, revoked keys: 401",
    "G10": "audit log edited, deleted, inserted or reordered: detected, naming the first bad row",
    "G11": "a dump of the whole store searched for every clear resident ID and phone of the truth",
    "G12": "every log line and output of the test session searched for those values",
    "G13": "profile reads offered at a fixed rate during ingest and resolution: no error, every answer from a "
           "published version (p99 reported; its target is measured by bench/api)",
    "G14": "a batch failing a critical expectation is not published; nothing deleted",
    "G15": "review decisions across re-runs and re-imports: rejected never merged, accepted never split",
    "G16": "webhook receiver down, then back: every change delivered, in order, dead-lettered after the budget",
    "G17": "verification endpoints hammered with guessed IDs: throttled, audited, yes/no only",
    "G18": "a backup restored into an empty server answers the same",
    "F1": "an invalid mapping file fails its source alone; the others ingest",
    "F2": "a repeated record id is quarantined and counted, never silently merged",
    "F3": "file sources stay inside HUB_SOURCES_DIR",
    "F4": "a store opened with another key refuses to read or write",
    "F5": "data and secrets are written 0600 (folders 0700)",
    "F6": "a row that poisons a batch (NUL byte) is quarantined, on both stores",
    "F7": "source text is escaped in terminal output",
    "F8": "suggest's draft is valid YAML for any input, the same on a file and on stdout",
    "F9": "an unreachable store or bad key setting is one line naming the setting, no traceback",
    "F10": "a mistyped SQLite URL creates nothing: read commands never create a store",
    "F11": "a duplicate key in a mapping is an error naming both lines",
    "F12": "a killed run is shown as interrupted, and the next run takes over",
    "F13": "drafts are not ingested until marked ready",
    "F14": "what the operator reads is exact: counts, masks, codes, exit codes",
    "F15": "suggest on department exports it has never seen: columns right with no edit, lines changed per source",
}

ZERO_TARGET: frozenset[str] = frozenset({
    "records lost",
    "records duplicated",
    "half batches",
    "records unreconciled",
    "new raw rows",
    "new statements",
    "canonical ids changed",
    "resolution rows changed",
    "clear values found",
    "uncaught exceptions",
    "cases breaking the contract",
    "rejected pairs merged",
    "accepted pairs split",
    "other sources failed",
    "held values served",
    "rows deleted",
    "errors without source or cause",
    # the findings' tests (F1..F14)
    "sources stopped by another source's broken mapping",
    "rows lost silently",
    "outside files read",
    "files in an extra root refused",
    "wrong-key opens accepted",
    "ciphertexts left under the old key",
    "key files made beside a store",
    "files and folders open to others",
    "left open after a run on an older HUB_HOME",
    "crashes on markup in source text",
    "bytes differing between file and standard output",
    "traceback lines",
    "files or folders created by read commands",
    "records ingested from a draft",
    "runs left running after the take-over",
    "codes shown without their label",
    # the API (G6, G7, G8)
    "5xx responses",
    "errors not problem+json",
    "values above clearance",
    "out-of-scope answers with data",
    "refusals not audited",
    "field names cut",
    "items of one entity waiting",
    "records extracted by a run with nothing new",
    # webhooks (G16)
    "changes not delivered",
    "entities out of order",
    "invalid signatures",
    "deliveries sent without their audit row",
    # 核验 (G17)
    "answers beyond the limit",
    "true claims revealed beyond the limit",
    "tries not audited",
    "clear identifiers in audit rows",
    "responses differing beyond the answer",
})
"""Numbers that count something that must never happen: a figure shows as failing when one is above 0,
whatever its tests asserted. Any other number is summed and shown as it is; a name starting with
"max " is aggregated by its maximum instead."""

FAILED_CASES_COUNT_AS: dict[str, str] = {"G5": "cases breaking the contract"}
"""Figures whose every failed case is itself the event counted (a hypothesis test fails on the first
input that breaks a normalizer's contract): the number is the count of failed cases."""

FIGURE_ID = re.compile(r"^[A-Z]+\d+$")


def figure_order(figure: str) -> tuple[int, str, int]:
    """G figures first, then F findings, each by number; anything else after them."""
    match = re.match(r"^([A-Z]+)(\d+)$", figure)
    if match is None:
        return (2, figure, 0)
    return ({"G": 0, "F": 1}.get(match.group(1), 2), match.group(1), int(match.group(2)))
