"""`hub feed …` and `hub webhooks …`: the change feed and its webhooks from the command line.

    hub feed tail [--consumer APP] [--from-start] [--follow] [--values]   the events, with their lag
    hub webhooks add CONSUMER URL            register a receiver for an app; prints its signing secret once
    hub webhooks list [--dead]               webhooks and delivery counts; --dead: the dead-letter list
    hub webhooks replay [WEBHOOK] [--delivery ID]   dead letters back in the queue, in event order
    hub webhooks deliver [--follow]          the delivery worker: one pass, or a pass every HUB_WEBHOOK_INTERVAL s
                                             until SIGTERM or Ctrl-C (the pass under way ends first); `make run`
                                             starts it beside the API (hub.webhooks.service)
    hub webhooks remove WEBHOOK

Commands wire settings to hub.feed / hub.webhooks and print; reads and changes are audited as the operator.
"""

from __future__ import annotations

import getpass
import time
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli_console import console, folding_table, source_text
from hub.cli_console import fail as _fail
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.access import Policy
    from hub.pipeline import Hub

feed_app = typer.Typer(help="The change feed: creates, updates, merges and splits of entities.", no_args_is_help=True)
webhooks_app = typer.Typer(help="Webhooks: the feed pushed to apps' receivers; dead letters and their replay.",
                           no_args_is_help=True)


def _open(consumer: str | None = None) -> tuple[Hub, Policy]:
    from hub.access import Policy
    from hub.access.consumers import get_consumer
    from hub.pipeline import Hub

    hub = Hub.open(create=False)
    policy = Policy.operator(getpass.getuser(), purpose="hub feed")
    if consumer is not None:   # what that app sees, read (and audited) as the operator
        seen = get_consumer(hub.engine, consumer).policy()
        policy = Policy(actor=policy.actor, role="operator", purpose=f"hub feed as {seen.actor}",
                        clearance=seen.clearance, entity_types=seen.entity_types, fields=seen.fields,
                        scope=seen.scope)
    return hub, policy


@feed_app.command("tail")
def feed_tail(
    consumer: Annotated[str | None, typer.Option("--consumer", help="show what this app (id or name) sees")] = None,
    from_start: Annotated[bool, typer.Option("--from-start", help="from the first event, not the newest")] = False,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep polling for new events until Ctrl-C")] = False,
    values: Annotated[bool, typer.Option("--values", help="with each entity's values (masked)")] = False,
    limit: Annotated[int, typer.Option(help="events per page")] = 1000,
    interval: Annotated[float, typer.Option(help="seconds between polls with --follow")] = 1.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no line per event: the summary only")] = False,
    last: Annotated[int, typer.Option("--last", help="without --from-start: start this many events back")] = 10,
) -> None:
    """Print the change feed: one line per event (id, version, change, entity, attributes) and, at the end, how
    many were read and the largest lag between an event's publication and its reading."""
    from hub.audit import AuditEntry, append
    from hub.feed.view import feed_cursor, feed_steps, latest_event
    from hub.store.runs import now
    from hub.store.steps import run_steps
    from hub.views import open_reader

    try:
        hub, policy = _open(consumer)
        with hub.engine.connect() as conn:
            cursor = feed_cursor(0 if from_start else max(0, latest_event(conn) - max(last, 0)))
        read, lag, started = 0, 0.0, time.monotonic()
        while True:
            with hub.engine.begin() as conn:
                page = run_steps(conn, feed_steps(open_reader(conn, hub.vault), policy, cursor=cursor, limit=limit,
                                                  values=values))
                if page.items:
                    append(conn, AuditEntry.of(policy, "hub feed tail", status=0,
                                               entity_ids=page.disclosed.entity_ids, fields=page.disclosed.fields,
                                               detail={"results": len(page.items)}))
            at = now()
            for item in page.items:
                lag = max(lag, (at - item.published_at).total_seconds())
                if not quiet:
                    other = f" → {item.other_id}" if item.other_id else ""
                    shown = "" if not values or item.values is None else " " + ", ".join(
                        f"{k}={v.value}" for k, v in item.values.items())
                    console.print(f"{item.id:>8} v{item.version} {item.change:<8} {item.entity_id}{other} "
                                  f"{source_text(','.join(item.attributes))}{source_text(shown)}", highlight=False)
            read += len(page.items)
            cursor = page.next_cursor
            if page.more:
                continue
            if not follow:
                break
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    except HubError as exc:
        raise _fail(exc) from None
    console.print(f"{read:,} events in {time.monotonic() - started:.1f} s; largest lag after publication "
                  f"{lag:.1f} s")


@webhooks_app.command("add")
def webhooks_add(consumer: Annotated[str, typer.Argument(help="the app (client id or name)")],
                 url: Annotated[str, typer.Argument(help="its receiver: https (http only to 127.0.0.1)")]) -> None:
    """Register a receiver for an app; prints its signing secret once."""
    from hub.access.consumers import get_consumer
    from hub.webhooks import add_webhook

    try:
        hub, policy = _open()
        made = add_webhook(hub.engine, hub.vault, get_consumer(hub.engine, consumer).id, url, by=policy,
                           action="hub webhooks add")
    except HubError as exc:
        raise _fail(exc) from None
    console.print(f"webhook {made.row.id} → {source_text(made.row.url)}")
    console.print(f"signing secret: {made.secret}\n  shown only now; the receiver checks X-Hub-Signature with it "
                  "(docs/api-guide.md, Webhooks)")


@webhooks_app.command("list")
def webhooks_list(dead: Annotated[bool, typer.Option("--dead", help="the dead-letter list instead")] = False,
                  webhook: Annotated[str | None, typer.Option("--webhook", help="only this webhook")] = None) -> None:
    """Webhooks with their deliveries pending, delivered, dead and held behind a dead one; or the dead letters."""
    from hub.webhooks import dead_letters, list_webhooks

    try:
        hub, _policy = _open()
        if dead:
            letters = dead_letters(hub.engine, webhook, limit=1000)
            table = folding_table("delivery", "webhook", "app", "event", "entity", "rounds", "last answer",
                                  "dead since", "replays", title="dead letters")
            for d in letters:
                table.add_row(str(d.id), d.webhook_id, d.consumer_id, str(d.event_id), d.entity_id, str(d.attempts),
                              source_text(d.last_error or str(d.last_status)),
                              f"{d.dead_at:%Y-%m-%d %H:%M:%S}" if d.dead_at else "", str(d.replays))
            console.print(table if letters else "no dead letters")
            return
        rows = [r for r in list_webhooks(hub.engine) if webhook is None or r.id == webhook]
    except HubError as exc:
        raise _fail(exc) from None
    table = folding_table("webhook", "app", "url", "state", "pending", "delivered", "dead", "held", title="webhooks")
    for r in rows:
        table.add_row(r.id, r.consumer_id, source_text(r.url), r.state, *(f"{r.counts.get(k, 0):,}" for k in (
            "pending", "delivered", "dead", "held")))
    console.print(table if rows else "no webhooks yet: `hub webhooks add APP URL`, or POST /api/v1/webhooks")


@webhooks_app.command("replay")
def webhooks_replay(
    webhook: Annotated[str | None, typer.Argument(help="only this webhook's dead letters")] = None,
    delivery: Annotated[list[int] | None, typer.Option("--delivery", help="only this delivery (repeat)")] = None,
) -> None:
    """Put dead letters back in the queue with a fresh retry budget; the worker sends them in event order."""
    from hub.webhooks import replay

    try:
        hub, policy = _open()
        count = replay(hub.engine, by=policy, webhook_id=webhook, delivery_ids=delivery)
    except HubError as exc:
        raise _fail(exc) from None
    console.print(f"{count:,} dead letters queued again; the next pass of `hub webhooks deliver` sends them")


@webhooks_app.command("deliver")
def webhooks_deliver(follow: Annotated[bool, typer.Option("--follow", "-f", help="a pass every "
                                                          "HUB_WEBHOOK_INTERVAL seconds until SIGTERM or "
                                                          "Ctrl-C")] = False
                     ) -> None:
    """The delivery worker: enqueue new events for every webhook and send what is due; with --follow, a
    long-running service that stops cleanly on SIGTERM."""
    import httpx

    from hub.access import AccessKeys
    from hub.audit import seal
    from hub.webhooks import Budget, PassResult, deliver_once, run_until_signalled
    from hub.webhooks.service import READY, STOPPED

    def show(result: PassResult) -> None:
        if result.enqueued or result.sent or result.skipped or result.dead:
            console.print(f"enqueued {result.enqueued:,}, sent {result.sent:,}, delivered {result.delivered:,}, "
                          f"failed {result.failed:,}, not tried {result.skipped:,}, dead {result.dead:,}")

    try:
        hub, _policy = _open()
        budget = Budget.of(hub.settings)
        if follow:
            console.print(f"{READY}: a pass every {hub.settings.webhook_interval:g} s until SIGTERM or Ctrl-C")
            run_until_signalled(hub.engine, hub.vault, budget, interval=hub.settings.webhook_interval,
                                on_pass=show)
            console.print(STOPPED)
        else:
            with httpx.Client() as client:
                result = deliver_once(hub.engine, hub.vault, client, budget)
            seal(hub.engine, AccessKeys.from_vault(hub.vault))
            show(result)
            for error in result.errors[:20]:
                console.print(f"  {source_text(error)}", highlight=False)
    except KeyboardInterrupt:
        pass
    except HubError as exc:
        raise _fail(exc) from None


@webhooks_app.command("remove")
def webhooks_remove(webhook: Annotated[str, typer.Argument(help="the webhook's id")]) -> None:
    """Stop a webhook: nothing more is sent to it."""
    from hub.webhooks import remove_webhook

    try:
        hub, policy = _open()
        remove_webhook(hub.engine, webhook, by=policy, action="hub webhooks remove")
    except HubError as exc:
        raise _fail(exc) from None
    console.print(f"webhook {webhook} removed")
