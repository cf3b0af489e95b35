"""Run expectation suites with great-expectations 1.x and keep what they found.

One GX file context per process and HUB_HOME (`HUB_HOME/quality/gx`), created on first use: its suites,
validation results and Data Docs stay on disk beside the store, and the auditors' report links to the Data
Docs. great-expectations is imported here, lazily and once: its import takes seconds.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from hub.private_files import make_private_dir, private_umask
from hub.quality.suites import Check
from hub.store import tables
from hub.store.locks import file_lock
from hub.store.runs import now

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """One expectation's result: counts only, never a value."""

    name: str
    kind: str
    meaning: str
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed: float | None = None


@dataclass
class SuiteResult:
    suite: str                     # critical | warning
    success: bool
    rows: int
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success]


_lock = threading.Lock()
_contexts: dict[Path, Any] = {}


def _context(root: Path) -> Any:
    """The GX file context under `root`, made once per process (progress bars off: logs stay readable)."""
    with _lock:
        if root not in _contexts:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            make_private_dir(root)
            # GX writes its project files here (the hub's home is private throughout), and reads its
            # great_expectations.yml, which another ingest process may be rewriting: under the project's lock
            with _exclusive(root):
                context = gx.get_context(mode="file", project_root_dir=str(root))
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            _contexts[root] = context
        return _contexts[root]


@contextmanager
def _exclusive(root: Path) -> Iterator[None]:
    """One process at a time writes the GX project (ingest DAGs of several sources run in parallel): its
    great_expectations.yml is rewritten whole by every update. Everything GX writes meanwhile (suites,
    results, Data Docs) is created private, like every file under the hub's home."""
    with private_umask(), file_lock(root / ".lock"):
        yield


def data_docs_index(root: Path) -> Path:
    """Where the GX Data Docs' index page of a HUB_HOME lies (written by the first validation)."""
    return root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def run_suites(root: Path, name: str, frame: pd.DataFrame, suites: dict[str, list[Check]]) -> list[SuiteResult]:
    """Validate `frame` against each suite (one checkpoint: one pass, one Data Docs update)."""
    if frame.columns.empty or not any(suites.values()):
        return [SuiteResult(suite, True, len(frame)) for suite in suites]
    import great_expectations as gx
    import great_expectations.expectations as gxe

    context = _context(root)
    with _lock, _exclusive(root):   # GX's stores are made for neither threads nor processes writing at once
        source = context.data_sources.add_or_update_pandas("hub")
        try:
            asset = source.get_asset(name)
        except LookupError:
            asset = source.add_dataframe_asset(name)
        try:
            batch = asset.get_batch_definition("batch")
        except (KeyError, LookupError):
            batch = asset.add_batch_definition_whole_dataframe("batch")
        definitions = []
        for severity, checks in suites.items():
            suite = gx.ExpectationSuite(name=f"{name}.{severity}", meta={"severity": severity},
                                        expectations=[getattr(gxe, c.expectation)(**c.kwargs, meta={
                                            "kind": c.kind, "meaning": c.meaning}) for c in checks])
            suite = context.suites.add_or_update(suite)
            definitions.append(context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=f"{name}.{severity}", data=batch, suite=suite)))
        checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
            name=name, validation_definitions=definitions,
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": 0}))
        outcome = checkpoint.run(batch_parameters={"dataframe": frame})
    out = []
    by_suite = {r.suite_name: r for r in outcome.run_results.values()}
    for severity, checks in suites.items():
        result = by_suite[f"{name}.{severity}"]
        outcomes = []
        for check, expectation in zip(checks, result.results, strict=True):
            found = expectation.result or {}
            observed = found.get("observed_value")
            outcomes.append(Outcome(check.name, check.kind, check.meaning, bool(expectation.success),
                                    found.get("element_count"), found.get("unexpected_count"),
                                    found.get("unexpected_percent"),
                                    float(observed) if isinstance(observed, (int, float)) else None))
        out.append(SuiteResult(severity, bool(result.success), len(frame), outcomes))
    return out


def record(conn: Connection, run_id: str, scope: str, subject: str, results: list[SuiteResult],
           extra: dict[str, Any] | None = None) -> None:
    """Keep the suite results for the report and its trends (counts and names only)."""
    stamp = now()
    for result in results:
        detail = {**(extra or {}), "expectations": [o.__dict__ for o in result.outcomes]}
        conn.execute(tables.quality_result.insert().values(
            run_id=run_id, scope=scope, subject=subject, suite=result.suite, success=result.success,
            evaluated=len(result.outcomes), failed=len(result.failed), rows=result.rows,
            detail=json.dumps(detail, ensure_ascii=False, default=str), created_at=stamp))
