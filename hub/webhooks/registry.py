"""Webhooks a consumer registers, their deliveries, the dead-letter list and its replay.

A webhook is a receiver URL of one consumer and a signing secret, random, shown once and kept sealed by the
vault (the worker needs it in clear to sign; a copy of the store without the key does not reveal it). A new
webhook starts at the newest event: what changed before it is read through the API. Every change made on
behalf of someone is audited in its own transaction.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from hub.access.policy import Policy
from hub.audit import AuditEntry, append
from hub.errors import HubError
from hub.feed.view import latest_event
from hub.protect import Vault
from hub.store import tables
from hub.store.runs import as_utc, now

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
SECRET_PREFIX = "whsec_"
_W, _D = tables.webhook.c, tables.webhook_delivery.c


class WebhookError(HubError):
    """A webhook request names no webhook of the caller, or a URL the hub does not send to."""


@dataclass(frozen=True)
class WebhookRow:
    id: str
    consumer_id: str
    url: str
    state: str
    created_at: datetime
    counts: dict[str, int]
    """Deliveries per state (pending, delivered, dead), and `held`: pending behind a dead letter of the same
    entity (they wait for its replay, so that the entity's changes arrive in order)."""


@dataclass(frozen=True, repr=False)
class NewWebhook:
    row: WebhookRow
    secret: str
    """Shown once: the receiver verifies signatures with it (hub.webhooks.signing)."""


@dataclass(frozen=True)
class DeadLetter:
    id: int
    webhook_id: str
    consumer_id: str
    event_id: int
    entity_id: str
    attempts: int
    last_status: int | None
    last_error: str | None
    dead_at: datetime | None
    replays: int


def check_url(url: str) -> str:
    """https anywhere; plain http only to this machine (a receiver in development, the demo, the tests)."""
    try:
        parts = urlsplit(url.strip())
        host, _port = parts.hostname, parts.port
    except ValueError:
        raise WebhookError("a webhook URL must be an absolute http(s) URL with a valid host and port") from None
    if parts.scheme not in ("https", "http") or not host:
        raise WebhookError("a webhook URL must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise WebhookError("a webhook URL must not carry credentials: the payloads are signed instead")
    if parts.scheme == "http":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise WebhookError("a webhook URL must use https (plain http only to 127.0.0.1, ::1 or localhost)")
    return url.strip()


def _audit(conn: Connection, by: Policy, action: str, detail: dict[str, Any]) -> None:
    append(conn, AuditEntry.of(by, action, status=200, detail=detail))


def add_webhook(engine: Engine, vault: Vault, consumer_id: str, url: str, *, by: Policy, action: str) -> NewWebhook:
    """Register a receiver for `consumer_id`; its deliveries start with the next event."""
    url = check_url(url)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    webhook_id = "wh-" + secrets.token_hex(8)
    at = now()
    with engine.begin() as conn:
        c = tables.consumer.c
        state = conn.execute(sa.select(c.state).where(c.id == consumer_id)).scalar()
        if state != "active":
            raise WebhookError(f"no active consumer {consumer_id!r}")
        conn.execute(tables.webhook.insert().values(
            id=webhook_id, consumer_id=consumer_id, url=url, secret_enc=vault.encrypt_text(secret), state="active",
            cursor=latest_event(conn), created_at=at))
        _audit(conn, by, action, {"webhook": webhook_id, "consumer": consumer_id})
    return NewWebhook(WebhookRow(webhook_id, consumer_id, url, "active", at, {}), secret)


def _counts(conn: Connection, webhook_ids: list[str]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {w: {PENDING: 0, DELIVERED: 0, DEAD: 0, "held": 0} for w in webhook_ids}
    if not webhook_ids:
        return out
    for webhook_id, state, count in conn.execute(sa.select(_D.webhook_id, _D.state, sa.func.count()).where(
            _D.webhook_id.in_(webhook_ids)).group_by(_D.webhook_id, _D.state)):
        out[webhook_id][state] = int(count)
    for webhook_id, count in conn.execute(sa.select(_D.webhook_id, sa.func.count()).where(
            _D.webhook_id.in_(webhook_ids), _D.state == PENDING, held_behind_dead()).group_by(_D.webhook_id)):
        out[webhook_id]["held"] = int(count)
    return out


def held_behind_dead(blocking: tuple[str, ...] = (DEAD,)) -> sa.ColumnElement[bool]:
    """A delivery has an earlier one of the same webhook and entity in one of the `blocking` states."""
    earlier = tables.webhook_delivery.alias("earlier")
    return sa.exists(sa.select(1).select_from(earlier).where(
        earlier.c.webhook_id == _D.webhook_id, earlier.c.entity_id == _D.entity_id, earlier.c.event_id < _D.event_id,
        earlier.c.state.in_(blocking)))


def list_webhooks(engine: Engine, consumer_id: str | None = None, *, active_only: bool = False) -> list[WebhookRow]:
    """Webhooks (of one consumer), oldest first, with their delivery counts."""
    query = sa.select(_W.id, _W.consumer_id, _W.url, _W.state, _W.created_at).order_by(_W.created_at, _W.id)
    if consumer_id is not None:
        query = query.where(_W.consumer_id == consumer_id)
    if active_only:
        query = query.where(_W.state == "active")
    with engine.connect() as conn:
        rows = list(conn.execute(query))
        counts = _counts(conn, [r.id for r in rows])
    return [WebhookRow(r.id, r.consumer_id, r.url, r.state, as_utc(r.created_at) or now(), counts[r.id])
            for r in rows]


def remove_webhook(engine: Engine, webhook_id: str, *, by: Policy, action: str,
                   consumer_id: str | None = None) -> None:
    """Stop a webhook (its pending deliveries are no longer sent); `consumer_id`: only one of its own."""
    with engine.begin() as conn:
        query = tables.webhook.update().where(_W.id == webhook_id, _W.state == "active")
        if consumer_id is not None:
            query = query.where(_W.consumer_id == consumer_id)
        if not conn.execute(query.values(state="removed", removed_at=now())).rowcount:
            raise WebhookError(f"no active webhook {webhook_id!r}" + (" of yours" if consumer_id else ""))
        _audit(conn, by, action, {"webhook": webhook_id})


def dead_letters(engine: Engine, webhook_id: str | None = None, *, limit: int = 100) -> list[DeadLetter]:
    """Deliveries that used up their retries, oldest event first."""
    query = (sa.select(_D.id, _D.webhook_id, _W.consumer_id, _D.event_id, _D.entity_id, _D.attempts, _D.last_status,
                       _D.last_error, _D.finished_at, _D.replays)
             .join(tables.webhook, _W.id == _D.webhook_id).where(_D.state == DEAD)
             .order_by(_D.webhook_id, _D.event_id).limit(limit))
    if webhook_id is not None:
        query = query.where(_D.webhook_id == webhook_id)
    with engine.connect() as conn:
        return [DeadLetter(r.id, r.webhook_id, r.consumer_id, r.event_id, r.entity_id, r.attempts, r.last_status,
                           r.last_error, as_utc(r.finished_at), r.replays) for r in conn.execute(query)]


def replay(engine: Engine, *, by: Policy, webhook_id: str | None = None, delivery_ids: list[int] | None = None,
           action: str = "hub webhooks replay") -> int:
    """Put dead letters back in the queue with a fresh retry budget, to be sent at once in event order (the
    deliveries held behind them follow). Returns how many."""
    query = tables.webhook_delivery.update().where(_D.state == DEAD)
    if webhook_id is not None:
        query = query.where(_D.webhook_id == webhook_id)
    if delivery_ids is not None:
        query = query.where(_D.id.in_(delivery_ids))
    with engine.begin() as conn:
        count = int(conn.execute(query.values(state=PENDING, attempts=0, next_attempt_at=now(), finished_at=None,
                                              replays=_D.replays + 1)).rowcount or 0)
        _audit(conn, by, action, {"webhook": webhook_id, "deliveries": len(delivery_ids or []), "replayed": count})
    return count
