"""Webhooks on each store, against a real receiver on 127.0.0.1: signatures, retries with backoff, the
dead-letter list and its replay, and G16: a receiver down for a while, then back, gets every change at least
once, in order per entity, signed, repeats detectable by event id."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from hub.access import AccessKeys, Policy
from hub.access.consumers import add_consumer
from hub.pipeline import Hub, resolve
from hub.settings import HubSettings
from hub.store import tables
from hub.webhooks import (
    Budget,
    SignatureError,
    WebhookError,
    add_webhook,
    check_url,
    dead_letters,
    deliver_once,
    list_webhooks,
    replay,
    running_delivery_worker,
    signed_headers,
    verify_signature,
)
from hub.webhooks.service import READY, STOPPED, describe
from tests.hub.feed.receiver import Receiver
from tests.hub.fuse.world import ROWS, build_world, change_rows

OPERATOR = Policy.operator("tester")
TYPES = ("person", "house", "organization", "thing")
"""The consumer's types: the toy world's situations (低保) are not among them, and their events not sent."""
FAST = Budget(max_attempts=40, backoff=0.01, backoff_max=0.02, timeout=2.0, quick_tries=2)


@pytest.fixture
def world(settings: HubSettings, tmp_path: Path) -> Iterator[Hub]:
    hub = build_world(settings, tmp_path)
    yield hub
    hub.engine.dispose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.stop()


def test_a_signature_checks_body_timestamp_and_secret() -> None:
    body = b'{"id":7,"entity_id":"P-0123456789abcdef"}'
    headers = signed_headers("whsec_test", 7, body, timestamp=1_800_000_000)
    assert verify_signature("whsec_test", headers, body, now=1_800_000_100) == "7"
    assert verify_signature("whsec_test", {k.lower(): v for k, v in headers.items()}, body, now=1_800_000_000)
    for secret, sent, at in (("whsec_other", body, 1_800_000_000), ("whsec_test", body + b" ", 1_800_000_000),
                             ("whsec_test", body, 1_800_000_301), ("whsec_test", body, 1_799_999_000)):
        with pytest.raises(SignatureError):
            verify_signature(secret, headers, sent, now=at)
    with pytest.raises(SignatureError):
        verify_signature("whsec_test", {**headers, "X-Hub-Timestamp": "1800000001"}, body, now=1_800_000_000)
    with pytest.raises(SignatureError):
        verify_signature("whsec_test", {}, body)


def test_webhook_urls_are_https_or_this_machine() -> None:
    assert check_url("https://app.example.cn/hook") == "https://app.example.cn/hook"
    assert check_url("http://127.0.0.1:9000/h") and check_url("http://localhost/h") and check_url("http://[::1]/h")
    for bad in ("http://10.0.0.8/hook", "ftp://example.cn/x", "https://user:pw@example.cn/", "/relative", "",
                "http://[::1/x", "http://127.0.0.1:99999/x"):
        with pytest.raises(WebhookError):
            check_url(bad)


def _consumer(hub: Hub) -> str:
    row, _secret = add_consumer(hub.engine, AccessKeys.from_vault(hub.vault), "推送测试", "测试用途", "internal",
                                list(TYPES), None, None, "consumer")
    return row.id


def _visible_events(hub: Hub) -> dict[int, str]:
    """The events of the consumer's types (the toy world has no places: its scope is everywhere)."""
    e = tables.change_event.c
    with hub.engine.connect() as conn:
        return {int(i): str(entity) for i, entity in conn.execute(
            sa.select(e.id, e.entity_id).where(e.entity_type.in_(TYPES)).order_by(e.id))}


def _passes(hub: Hub, client: httpx.Client, budget: Budget, until: Callable[[], bool], most: int = 200) -> int:
    for done in range(1, most + 1):
        deliver_once(hub.engine, hub.vault, client, budget)
        if until():
            return done
        time.sleep(budget.backoff_max)
    raise AssertionError("the deliveries did not settle")


def _pending(hub: Hub) -> int:
    d = tables.webhook_delivery.c
    with hub.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).where(d.state == "pending")).scalar_one())


def _out_of_order(accepted: list[tuple[int, str]]) -> int:
    """Entities whose first receipts of their events are not in event order."""
    firsts: dict[str, list[int]] = {}
    seen: set[int] = set()
    for event_id, entity_id in accepted:
        if event_id not in seen:
            seen.add(event_id)
            firsts.setdefault(entity_id, []).append(event_id)
    return sum(ids != sorted(ids) for ids in firsts.values())


@pytest.mark.reliability("G16")
def test_a_receiver_down_then_back_gets_every_change_in_order(world: Hub, receiver: Receiver,
                                                              record_property: Callable[[str, object], None]) -> None:
    consumer = _consumer(world)
    made = add_webhook(world.engine, world.vault, consumer, receiver.url, by=OPERATOR, action="test")
    receiver.secret = made.secret
    with httpx.Client() as client:
        resolve(world)                                        # v1: every entity created, the receiver down
        for _ in range(3):
            deliver_once(world.engine, world.vault, client, FAST)
            time.sleep(FAST.backoff_max)
        rows = [list(r) for r in ROWS["register.csv"]]
        rows[4][5] = "13500135000"                            # v2: 赵强 gets a phone, 李娜 moves
        rows[2][6] = "幸福小区1号楼1单元103室"
        change_rows(world, "register.csv", rows)
        resolve(world)
        while_down = len(receiver.received)
        assert _pending(world) > 0 and while_down == 0
        receiver.fail_next = 3                                # back, but answering 500 to its first requests
        receiver.start()
        _passes(world, client, FAST, lambda: _pending(world) == 0)
    events = _visible_events(world)
    accepted = [(r.event_id, r.entity_id) for r in receiver.accepted()]
    lost = set(events) - {event_id for event_id, _ in accepted}
    disorder = _out_of_order(accepted)
    bad_signatures = sum(not r.signature_ok for r in receiver.received)
    record_property("G16: changes not delivered", len(lost))
    record_property("G16: entities out of order", disorder)
    record_property("G16: invalid signatures", bad_signatures)
    record_property("G16: changes delivered", len(events))
    record_property("G16: duplicates detected by event id", len(accepted) - len({e for e, _ in accepted}))
    record_property("G16: 5xx answers retried", sum(r.status == 500 for r in receiver.received))
    assert not lost and disorder == 0 and bad_signatures == 0
    assert len({e for e, _ in accepted}) == len(events)
    assert sum(r.status == 500 for r in receiver.received) == 3
    [row] = list_webhooks(world.engine)
    assert row.counts["delivered"] == len(events) and row.counts["dead"] == 0
    with world.engine.connect() as conn:
        details = conn.execute(sa.select(tables.audit_log.c.detail).where(
            tables.audit_log.c.actor == consumer, tables.audit_log.c.action == f"WEBHOOK POST {made.row.id}")
        ).scalars().all()
    audited = {json.loads(detail)["event"] for detail in details}
    unaudited = {r.event_id for r in receiver.received} - audited
    record_property("G16: deliveries sent without their audit row", len(unaudited))
    assert not unaudited                                      # every POST is audited before it is sent


@pytest.mark.reliability("G16")
def test_after_its_budget_a_delivery_is_dead_and_a_replay_sends_it_in_order(
        world: Hub, receiver: Receiver, record_property: Callable[[str, object], None]) -> None:
    consumer = _consumer(world)
    resolve(world)
    made = add_webhook(world.engine, world.vault, consumer, receiver.url, by=OPERATOR, action="test")
    receiver.secret = made.secret
    budget = Budget(max_attempts=3, backoff=0.01, backoff_max=0.02, timeout=2.0, quick_tries=1)
    rows = [list(r) for r in ROWS["register.csv"]]
    with httpx.Client() as client:
        rows[4][5] = "13500135000"
        change_rows(world, "register.csv", rows)
        resolve(world)                                        # an update of 赵强 while the receiver is down
        _passes(world, client, budget, lambda: _pending(world) == 0)
        dead = dead_letters(world.engine)
        assert dead and all(d.attempts == 3 and d.last_status is None for d in dead)
        rows[4][5] = "13500135001"                            # his next change waits behind the dead letter
        change_rows(world, "register.csv", rows)
        resolve(world)
        deliver_once(world.engine, world.vault, client, budget)
        [row] = list_webhooks(world.engine)
        held = row.counts["held"]
        assert held >= 1 and not receiver.received
        receiver.start()
        replayed = replay(world.engine, by=OPERATOR)
        _passes(world, client, budget, lambda: _pending(world) == 0)
    accepted = [(r.event_id, r.entity_id) for r in receiver.accepted()]
    events = set(_visible_events(world))
    mine = {e for e, _ in accepted}
    record_property("G16: dead letters replayed", replayed)
    record_property("G16: deliveries held behind a dead letter", held)
    record_property("G16: entities out of order", _out_of_order(accepted))
    assert replayed == len(dead) and _out_of_order(accepted) == 0
    assert {d.event_id for d in dead} <= mine and len(mine) == len(accepted)
    assert mine <= events and not dead_letters(world.engine)


def test_the_delivery_worker_serves_in_its_own_process_and_stops_cleanly_on_sigterm(world: Hub,
                                                                                  receiver: Receiver) -> None:
    """What `make run` starts beside the API: `hub webhooks deliver --follow` as a process, delivering what is
    published while it runs, ended by SIGTERM with its pass finished (exit status 0, its last words printed,
    nothing pending)."""
    made = add_webhook(world.engine, world.vault, _consumer(world), receiver.url, by=OPERATOR, action="test")
    receiver.secret = made.secret
    receiver.start()
    with running_delivery_worker(world.settings.model_copy(update={"webhook_interval": 0.2})) as worker:
        resolve(world)                                          # published while it runs: it follows
        events = set(_visible_events(world))
        deadline = time.monotonic() + 60
        while {r.event_id for r in receiver.accepted()} != events and time.monotonic() < deadline:
            time.sleep(0.2)
        assert worker.process.poll() is None                   # still serving once every change is delivered
        said = describe(worker)                                 # what `make run` prints of where it runs
        assert str(worker.pid) in said and str(worker.log_path) in said and "deliver --follow" in said
    output = worker.output()
    assert worker.returncode == 0, output                      # it ended by itself on SIGTERM, not killed
    assert READY in output and STOPPED in output and "Traceback" not in output
    assert {r.event_id for r in receiver.accepted()} == events and all(r.signature_ok for r in receiver.received)
    assert _pending(world) == 0
    [row] = list_webhooks(world.engine)
    assert row.counts["delivered"] == len(events)
