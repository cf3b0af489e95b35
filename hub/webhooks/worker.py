"""The delivery worker: webhooks' deliveries made from the feed, sent signed, retried with backoff, dead-lettered.

One pass (`deliver_once`) does, for every active webhook of an active consumer:

1. enqueue: the feed events after the webhook's cursor that its consumer may see (the same SQL as
   /api/v1/feed: types and scope) become deliveries, and the cursor moves, in one transaction;
2. send the due deliveries in event order, each only when no earlier delivery of the same entity to the same
   webhook is pending or dead, so that a receiver gets an entity's changes in order, even across an outage and
   a replay. Each POST carries one event (hub.feed's FeedEvent, values masked to the consumer's clearance as
   served now), signed (hub.webhooks.signing); its audit row is appended before it is sent;
3. a failure (no answer, or a status other than 2xx) is retried at once a few times (tenacity, for a dropped
   connection or a 5xx/429), then the delivery waits `backoff * 2^(round-1)` seconds (at most `backoff_max`);
   after `max_attempts` rounds it is dead: the dead-letter list that `hub webhooks replay` puts back. When a
   receiver does not answer at all, the rest of its due deliveries in that pass are not tried and count a
   round each: a receiver that is down costs one connection attempt per pass, and a long outage dead-letters
   its deliveries after the same budget as one.

At least once: a delivery is marked delivered only after the receiver's 2xx, so a crash in between sends it
again; the receiver drops a repeat by its event id.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from hub.access import AccessKeys
from hub.access.consumers import consumer_from_row
from hub.access.policy import Policy
from hub.audit import AuditEntry, append, seal
from hub.feed.view import MAX_LIMIT, events_steps, feed_cursor, feed_steps
from hub.protect import Vault
from hub.settings import HubSettings
from hub.store import tables
from hub.store.runs import now
from hub.store.steps import run_steps
from hub.views import NothingPublished, open_reader
from hub.webhooks.registry import DEAD, DELIVERED, PENDING, held_behind_dead
from hub.webhooks.signing import signed_headers

log = logging.getLogger(__name__)
_W, _D = tables.webhook.c, tables.webhook_delivery.c
ACTION = "WEBHOOK POST {webhook_id}"
QUICK_TRIES = 3
USER_AGENT = "community-hub-webhooks/1"


@dataclass(frozen=True)
class Budget:
    max_attempts: int = 12
    backoff: float = 10.0
    backoff_max: float = 3600.0
    timeout: float = 10.0
    quick_tries: int = QUICK_TRIES
    batch: int = 500

    @classmethod
    def of(cls, settings: HubSettings) -> Budget:
        return cls(settings.webhook_max_attempts, settings.webhook_backoff, settings.webhook_backoff_max,
                   settings.webhook_timeout)

    def wait(self, rounds: int) -> timedelta:
        """The wait after the `rounds`-th failed round."""
        return timedelta(seconds=min(self.backoff * 2 ** max(rounds - 1, 0), self.backoff_max))


@dataclass
class PassResult:
    enqueued: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0
    """Due deliveries not tried because their receiver did not answer earlier in the pass."""
    errors: list[str] = field(default_factory=list)


class _Retry(Exception):
    """A dropped connection or a 5xx/429: worth another try at once."""

    def __init__(self, status: int | None, reason: str):
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class _Hook:
    id: str
    url: str
    secret: str
    policy: Policy


def _hooks(engine: Engine, vault: Vault) -> list[_Hook]:
    c = tables.consumer
    with engine.connect() as conn:
        rows = conn.execute(sa.select(_W.id.label("webhook_id"), _W.url.label("webhook_url"),
                                      _W.secret_enc.label("webhook_secret"), c)
                            .join(c, c.c.id == _W.consumer_id).where(_W.state == "active", c.c.state == "active")
                            .order_by(_W.id)).mappings().all()
    return [_Hook(r["webhook_id"], r["webhook_url"], vault.decrypt_text(bytes(r["webhook_secret"])),
                  consumer_from_row(r).policy()) for r in rows]


def enqueue(engine: Engine, vault: Vault, hook: _Hook, at: datetime) -> int:
    """The events after the webhook's cursor that its consumer may see, as pending deliveries."""
    added = 0
    while True:
        with engine.begin() as conn:
            cursor = conn.execute(sa.select(_W.cursor).where(_W.id == hook.id).with_for_update()).scalar_one()
            try:
                reader = open_reader(conn, vault)
            except NothingPublished:
                return added
            page = run_steps(conn, feed_steps(reader, hook.policy, cursor=feed_cursor(int(cursor)),
                                              limit=MAX_LIMIT))
            if page.items:
                conn.execute(tables.webhook_delivery.insert(), [
                    {"webhook_id": hook.id, "event_id": item.id, "entity_id": item.entity_id, "state": PENDING,
                     "attempts": 0, "next_attempt_at": at, "created_at": at, "replays": 0} for item in page.items])
                added += len(page.items)
            # the cursor passes the events the consumer may not see as well: the page's end, not its last item
            last = _last_event(conn, reader.version) if not page.more else page.items[-1].id
            conn.execute(tables.webhook.update().where(_W.id == hook.id).values(cursor=max(int(cursor), last)))
        if not page.more:
            return added


def _last_event(conn: sa.Connection, version: int) -> int:
    e = tables.change_event.c
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(e.id), 0)).where(e.version <= version))
               .scalar_one())


def _due(engine: Engine, at: datetime, batch: int) -> list[Any]:
    """Pending deliveries due now whose entity has no earlier pending or dead delivery to the same webhook."""
    query = (sa.select(_D.id, _D.webhook_id, _D.event_id, _D.entity_id, _D.attempts)
             .join(tables.webhook, _W.id == _D.webhook_id)
             .where(_D.state == PENDING, _D.next_attempt_at <= at, _W.state == "active",
                    ~held_behind_dead((PENDING, DEAD)))
             .order_by(_D.event_id, _D.webhook_id).limit(batch))
    with engine.connect() as conn:
        return list(conn.execute(query))


def _send(client: httpx.Client, hook: _Hook, event_id: int, body: bytes, attempt: int, budget: Budget
          ) -> tuple[int | None, str | None]:
    """POST one signed event (a fresh timestamp and signature per try); (status, error) of the last try."""
    outcome: dict[str, Any] = {"status": None, "error": None}

    def post() -> None:
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "X-Hub-Webhook-Id": hook.id,
                   "X-Hub-Delivery-Attempt": str(attempt), **signed_headers(hook.secret, event_id, body)}
        try:
            response = client.post(hook.url, content=body, headers=headers, timeout=budget.timeout)
        except httpx.HTTPError as exc:
            outcome.update(status=None, error=f"no answer: {type(exc).__name__}")
            raise _Retry(None, outcome["error"]) from None
        outcome.update(status=response.status_code, error=None if response.is_success
                       else f"answered {response.status_code}")
        if response.status_code >= 500 or response.status_code == 429:
            raise _Retry(response.status_code, outcome["error"])

    retrying = Retrying(stop=stop_after_attempt(budget.quick_tries), reraise=False,
                        wait=wait_exponential(multiplier=0.1, max=1.0), retry=retry_if_exception_type(_Retry))
    with contextlib.suppress(RetryError):   # the quick tries are spent: the outcome says why
        retrying(post)
    return outcome["status"], outcome["error"]


def _failed(conn: sa.Connection, delivery: Any, rounds: int, status: int | None, error: str, at: datetime,
            budget: Budget) -> bool:
    """Record a failed round; True when it used up the budget (dead letter)."""
    dead = rounds >= budget.max_attempts
    conn.execute(tables.webhook_delivery.update().where(_D.id == delivery.id).values(
        attempts=rounds, last_status=status, last_error=error, state=DEAD if dead else PENDING,
        next_attempt_at=at + budget.wait(rounds), finished_at=at if dead else None))
    return dead


def deliver_once(engine: Engine, vault: Vault, client: httpx.Client, budget: Budget,
                 clock: Callable[[], datetime] = now) -> PassResult:
    """One pass of the worker (see the module's docstring)."""
    result = PassResult()
    hooks = {hook.id: hook for hook in _hooks(engine, vault)}
    for hook in hooks.values():
        result.enqueued += enqueue(engine, vault, hook, clock())
    unreachable: set[str] = set()
    for delivery in _due(engine, clock(), budget.batch):
        found = hooks.get(delivery.webhook_id)
        if found is None:
            continue
        hook = found
        rounds = int(delivery.attempts) + 1
        if hook.id in unreachable:
            with engine.begin() as conn:
                dead = _failed(conn, delivery, rounds, None, "not tried: the receiver did not answer earlier in "
                               "this pass", clock(), budget)
            result.skipped += 1
            result.dead += dead
            continue
        with engine.begin() as conn:
            reader = open_reader(conn, vault)
            events, disclosed = run_steps(conn, events_steps(reader, hook.policy, [int(delivery.event_id)]))
            if not events:   # the consumer's grant no longer covers it
                conn.execute(tables.webhook_delivery.update().where(_D.id == delivery.id).values(
                    state=DEAD, attempts=rounds, last_error="outside the consumer's grant now", finished_at=clock()))
                result.dead += 1
                continue
            body = events[0].model_dump_json().encode("utf-8")
            append(conn, AuditEntry.of(hook.policy, ACTION.format(webhook_id=hook.id), status=200,
                                       entity_ids=disclosed.entity_ids, fields=disclosed.fields,
                                       detail={"event": int(delivery.event_id), "attempt": rounds}))
        status, error = _send(client, hook, int(delivery.event_id), body, rounds, budget)
        result.sent += 1
        at = clock()
        with engine.begin() as conn:
            if error is None:
                conn.execute(tables.webhook_delivery.update().where(_D.id == delivery.id).values(
                    state=DELIVERED, attempts=rounds, last_status=status, last_error=None, finished_at=at))
                result.delivered += 1
                continue
            result.failed += 1
            result.dead += _failed(conn, delivery, rounds, status, error, at, budget)
        if status is None:
            unreachable.add(hook.id)
        result.errors.append(f"{hook.id} event {delivery.event_id}: {error}")
    return result


def run(engine: Engine, vault: Vault, budget: Budget, *, interval: float, stop: threading.Event | None = None,
        on_pass: Callable[[PassResult], None] | None = None) -> None:
    """Passes every `interval` seconds until `stop` is set (Ctrl-C at the command line)."""
    stop = stop or threading.Event()
    keys = AccessKeys.from_vault(vault)
    with httpx.Client(follow_redirects=False) as client:
        while not stop.is_set():
            started = time.monotonic()
            try:
                result = deliver_once(engine, vault, client, budget)
            except NothingPublished:
                result = PassResult()
            if result.sent:
                seal(engine, keys)      # the pass's audit rows into the chain, as the API's sealer would
            if on_pass is not None:
                on_pass(result)
            stop.wait(max(0.0, interval - (time.monotonic() - started)))


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def run_until_signalled(engine: Engine, vault: Vault, budget: Budget, *, interval: float,
                        on_pass: Callable[[PassResult], None] | None = None) -> None:
    """`run` in the foreground of its own process (`hub webhooks deliver --follow`) until SIGTERM or SIGINT.

    A supervisor's stop (`make run` ending, systemd, `docker stop`) sends SIGTERM, whose default would end the
    process wherever it is: between a receiver's 2xx and the row marking it delivered (sent again: harmless, but
    noise), or before the pass's audit rows are sealed into the chain. Here the signal only asks the loop to
    stop: the pass under way ends, its deliveries are recorded and its audit rows sealed, then this returns."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda _signum, _frame: stop.set()) for sig in STOP_SIGNALS}
    try:
        run(engine, vault, budget, interval=interval, stop=stop, on_pass=on_pass)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Worker:
    """The worker in a thread beside another process (the API under `make run`, a test)."""

    def __init__(self, engine: Engine, vault: Vault, budget: Budget, interval: float = 1.0):
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=run, args=(engine, vault, budget), name="hub-webhooks", daemon=True,
                                       kwargs={"interval": interval, "stop": self.stop_event})

    def start(self) -> Worker:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=30)
