"""How the hub's DAG tasks are run: retries with exponential backoff, timeouts, one pool for all hub work.

Read from the environment (prefix HUB_DAG_) when a DAG file is parsed, so an operator tunes them without
editing DAG files, and tests shorten the delays. The pool bounds how many hub tasks run at once across
all DAGs: normalizing, matching and fusing are CPU work, and the machine has as many cores as the pool
has slots; Airflow's own parallelism (AIRFLOW__CORE__PARALLELISM) bounds its worker processes as well.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

POOL = "hub"
"""The Airflow pool every hub task runs in; `make run` and the tests create it (`airflow pools set`)."""


def default_pool_slots() -> int:
    return os.cpu_count() or 2


class DagPolicy(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_DAG_", extra="ignore")

    retries: int = Field(default=3, ge=0, description="retries of a task that failed for a transient cause")
    retry_delay: float = Field(default=60, gt=0, description="seconds before the first retry")
    retry_backoff: float = Field(default=2.0, ge=0, description="each further retry waits this many times longer")
    max_retry_delay: float = Field(default=1800, gt=0, description="seconds: the longest wait between two tries")
    ingest_timeout: float = Field(default=3600, gt=0, description="seconds one source's ingest may take")
    fusion_timeout: float = Field(default=7200, gt=0, description="seconds each fusion task may take")
    pool: str = Field(default=POOL, description="the Airflow pool of hub tasks")
    pool_slots: int = Field(default_factory=default_pool_slots, gt=0,
                            description="size of that pool when it is created: the machine's cores")
    ingest_schedule: str = Field(default="@daily", description="when each ingest DAG runs: a cron expression "
                                 "or preset, or `none` (only when triggered: the demo and the tests)")

    @property
    def schedule(self) -> str | None:
        """The ingest DAGs' schedule argument."""
        return None if self.ingest_schedule.strip().lower() in ("", "none") else self.ingest_schedule

    def task_args(self, *, timeout: float, on_failure: Callable[[Any], None]) -> dict[str, Any]:
        """Keyword arguments of every hub task (a DAG's default_args)."""
        return {
            "retries": self.retries,
            "retry_delay": timedelta(seconds=self.retry_delay),
            "retry_exponential_backoff": self.retry_backoff,
            "max_retry_delay": timedelta(seconds=self.max_retry_delay),
            "execution_timeout": timedelta(seconds=timeout),
            "pool": self.pool,
            "pool_slots": 1,
            "on_failure_callback": on_failure,
        }
