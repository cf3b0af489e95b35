"""Rate limits of 核验: tries counted per consumer and per (consumer, subject), in fixed windows, in the store.

Every API worker (and every host) counts against the same rows, so the limit holds however many processes
serve: one upsert per try (`INSERT … ON CONFLICT DO UPDATE … RETURNING`, PostgreSQL and SQLite alike) adds the
try to both buckets and returns both counts, in the request's own round trips. A throttled try is counted too:
hammering on keeps the window full, and it is audited like any other try.

The subject bucket is per consumer: one consumer's hammering of an ID number cannot lock that resident out of
every other consumer's checks (a bank's, a grid worker's), while the consumer bucket stops a consumer guessing
through many ID numbers. Limits are settings (HubSettings.verify_*).

`Limiter` is the interface a request uses (its `take_steps` yields the queries it needs, hub.store.steps); the
store-backed `StoreLimiter` is the default and needs no server. Another backend (Redis) can implement the same
interface.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from hub.settings import HubSettings
from hub.store import tables
from hub.store.steps import Query, Steps

PRUNE_SHARE = 1 / 256
"""Share of tries that also delete windows long past (so the table stays as small as the live windows)."""


@dataclass(frozen=True)
class Limits:
    consumer_tries: int = 120
    """Tries one consumer may make per consumer window, all subjects together."""
    consumer_window: int = 60
    subject_tries: int = 10
    """Tries one consumer may make about one subject (ID number, credit code) per subject window."""
    subject_window: int = 3600


@dataclass(frozen=True)
class Bucket:
    name: str
    tries: int
    window: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int
    """Seconds until every full bucket's window ends (0 when allowed)."""
    counts: tuple[int, ...]


def buckets(limits: Limits, consumer_id: str, subject: str) -> tuple[Bucket, Bucket]:
    return (Bucket(f"consumer:{consumer_id}", limits.consumer_tries, limits.consumer_window),
            Bucket(f"subject:{consumer_id}:{subject}", limits.subject_tries, limits.subject_window))


class Limiter(Protocol):
    def take_steps(self, wanted: Sequence[Bucket], at: float) -> Steps[Decision]:
        """Count one try in each bucket at `at` (epoch seconds) and decide; the queries as steps."""
        ...


def decide(wanted: Sequence[Bucket], counts: Sequence[int], at: float) -> Decision:
    full = [b for b, count in zip(wanted, counts, strict=True) if count > b.tries]
    retry = max((window_start(b, at) + b.window - math.floor(at) for b in full), default=0)
    return Decision(not full, max(int(retry), 1) if full else 0, tuple(counts))


def window_start(bucket: Bucket, at: float) -> int:
    return int(at // bucket.window) * bucket.window


@functools.lru_cache(maxsize=16)
def _upsert(dialect: str, size: int) -> sa.Executable:
    """Built once per shape: the API's driver keeps a statement's compiled SQL keyed by the object
    (hub.store.steps.Query.reused), so a statement built per request was compiled again by every request and
    kept forever."""
    t = tables.verify_limit
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(t)
    rows = [{"bucket": sa.bindparam(f"b{i}"), "window_start": sa.bindparam(f"w{i}"), "tries": 1} for i in range(size)]
    return (insert.values(rows)
            .on_conflict_do_update(index_elements=[t.c.bucket, t.c.window_start], set_={"tries": t.c.tries + 1})
            .returning(t.c.bucket, t.c.tries))


_PRUNE = tables.verify_limit.delete().where(tables.verify_limit.c.window_start < sa.bindparam("horizon"))


class StoreLimiter:
    """Counts in the hub's store (verify_limit): PostgreSQL or SQLite, shared by every worker."""

    def __init__(self, dialect: str):
        if dialect not in ("postgresql", "sqlite"):
            raise ValueError(f"no store-backed 核验 limiter for {dialect}")
        self.dialect = dialect

    def take_steps(self, wanted: Sequence[Bucket], at: float) -> Steps[Decision]:
        params: dict[str, Any] = {}
        for i, bucket in enumerate(wanted):
            params[f"b{i}"] = bucket.name
            params[f"w{i}"] = window_start(bucket, at)
        rows = yield Query(_upsert(self.dialect, len(wanted)), params)
        got = {row[0]: int(row[1]) for row in rows}
        if random.random() < PRUNE_SHARE:
            horizon = int(at) - 2 * max(b.window for b in wanted)
            yield Query(_PRUNE, {"horizon": horizon})
        return decide(wanted, [got[b.name] for b in wanted], at)


def limits_of(settings: HubSettings) -> Limits:
    """The limits the settings give (HUB_VERIFY_*)."""
    return Limits(settings.verify_consumer_tries, settings.verify_consumer_window, settings.verify_subject_tries,
                  settings.verify_subject_window)
