"""Alerts an operator must see: a failed DAG task (after its retries), written where `hub status` reads them.

An Airflow failure lives in Airflow's own database, which the hub's store does not see, and a task that
was killed by its timeout never reaches the hub's run bookkeeping; so a failure callback appends one line
to HUB_HOME/alerts.jsonl (0600, like every file under HUB_HOME) and logs it at ERROR. `hub status` prints
the latest ones. A line names the DAG, task, run, try and source and carries the error text the hub
wrote, which names a source and a cause, never a record's values.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from hub.private_files import make_private_dir, private_umask
from hub.settings import HubSettings

log = logging.getLogger(__name__)

ALERTS_FILE = "alerts.jsonl"
MESSAGE_LIMIT = 2000
"""Characters of an error kept in an alert: a traceback's tail is in the task log, the cause is on its first line."""

__all__ = ["ALERTS_FILE", "Alert", "alerts_path", "raise_alert", "recent_alerts"]


@dataclass(frozen=True)
class Alert:
    at: str
    """When it was raised, ISO 8601 in UTC."""
    origin: str
    """Where: `dag_id/task_id` under Airflow."""
    run_id: str
    try_number: int
    source: str | None
    message: str


def alerts_path(settings: HubSettings) -> Path:
    return settings.home / ALERTS_FILE


def raise_alert(settings: HubSettings, *, origin: str, message: str, run_id: str = "", try_number: int = 0,
                source: str | None = None) -> Alert:
    """Log the alert at ERROR and append it to the alerts file; the file is created private."""
    alert = Alert(at=datetime.now(UTC).isoformat(timespec="seconds"), origin=origin, run_id=run_id,
                  try_number=try_number, source=source, message=message[:MESSAGE_LIMIT])
    log.error("ALERT %s (run %s, try %d%s): %s", origin, run_id or "-", try_number,
              f", source {source}" if source else "", alert.message)
    path = alerts_path(settings)
    make_private_dir(path.parent)
    with private_umask(), path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(alert), ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return alert


def recent_alerts(settings: HubSettings, limit: int = 5) -> list[Alert]:
    """The latest `limit` alerts, newest last; a line that does not parse (a write cut short) is skipped."""
    path = alerts_path(settings)
    if not path.exists():
        return []
    alerts: list[Alert] = []
    for line in path.read_text(encoding="utf-8").splitlines()[-limit * 2:]:
        try:
            alerts.append(Alert(**json.loads(line)))
        except (ValueError, TypeError):
            continue
    return alerts[-limit:]
