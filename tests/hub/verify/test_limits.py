"""The store-backed 核验 limiter on SQLite and PostgreSQL: exact counts under concurrent tries (the API's
workers share it), windows that end, Retry-After, and a bucket per consumer and subject."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from sqlalchemy import Engine

from hub.pipeline import Hub
from hub.store import tables
from hub.store.steps import run_steps
from hub.verify import Decision, Limits, StoreLimiter
from hub.verify.limits import Bucket, buckets


def _take(engine: Engine, wanted: list[Bucket], at: float) -> Decision:
    limiter = StoreLimiter(engine.dialect.name)
    with engine.begin() as conn:
        return run_steps(conn, limiter.take_steps(wanted, at))


def test_concurrent_tries_are_counted_exactly(hub: Hub) -> None:
    """8 threads, 200 tries at one consumer bucket of 50: exactly 50 allowed, every try counted."""
    bucket = Bucket("consumer:app-concurrent", 50, 10**9)
    at = 1_000_000.0

    def one(_i: int) -> bool:
        return _take(hub.engine, [bucket], at).allowed

    with ThreadPoolExecutor(max_workers=8) as pool:
        allowed = list(pool.map(one, range(200)))
    assert sum(allowed) == 50
    with hub.engine.connect() as conn:
        assert conn.execute(sa.select(tables.verify_limit.c.tries)).scalar_one() == 200


def test_a_window_ends_and_retry_after_says_when(hub: Hub) -> None:
    limits = Limits(consumer_tries=3, consumer_window=60, subject_tries=2, subject_window=3600)
    consumer, subject = buckets(limits, "app-1", "a" * 32)
    at = 7_200.0 + 50        # 10 s before the consumer window ends, 3550 s before the subject's
    first = [_take(hub.engine, [consumer, subject], at + i * 0.1) for i in range(3)]
    assert [d.allowed for d in first] == [True, True, False]          # the subject's limit (2) first
    assert first[2].retry_after == 3550
    other = buckets(limits, "app-1", "b" * 32)[1]
    fourth = _take(hub.engine, [consumer, other], at + 1)
    assert not fourth.allowed and fourth.retry_after == 9            # now the consumer's limit (3 tries)
    later = _take(hub.engine, [consumer, other], at + 11)            # a new consumer window
    assert later.allowed and later.counts == (1, 2)
    another_app = buckets(limits, "app-2", "a" * 32)
    assert _take(hub.engine, list(another_app), at).allowed          # the subject bucket is per consumer


def test_each_try_reuses_one_statement_that_a_driver_compiles_once() -> None:
    """The API's driver keeps compiled SQL per statement object (Query.reused): a try must not bring a new one."""
    limiter = StoreLimiter("postgresql")
    first = limiter.take_steps(buckets(Limits(), "app-1", "subject-1"), 1000.0)
    second = limiter.take_steps(buckets(Limits(), "app-2", "subject-2"), 1000.0)
    one, other = next(first), next(second)
    assert one.reused and one.statement is other.statement and one.params != other.params
