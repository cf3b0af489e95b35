"""`hub events run|list|show|assign|update|suppress|close|metrics`: the events (事) of the findings and of the
property system's tickets, their life cycle and the handling figures (hub.events). Ids, places and codes only:
`hub find` and the API show a person by clearance."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli_console import console, folding_table
from hub.cli_console import fail as _fail
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.pipeline import Hub

events_app = typer.Typer(help="Events (事): from findings and property tickets to closing.", no_args_is_help=True)

Note = Annotated[str, typer.Option("--note", "-n", help="the feedback (needed to resolve, close, reopen)")]


def _hub(create: bool = False) -> Hub:
    from hub.pipeline import Hub

    return Hub.open(create=create)


def _text(value: object) -> str:
    """A cell: `—` for a value the event has not got (NULL read into a frame as None or NaN)."""
    return "—" if value is None or value != value else str(value)


def _figure(value: object, form: str) -> str:
    return "—" if value is None or value != value else form.format(value)


def print_events(hub: Hub, *, grid: str | None = None, worker: str | None = None, every: bool = False,
                 limit: int = 50) -> int:
    """The open (or every) events as a table, soonest due first; how many there are."""
    import pandas as pd

    from hub.events import list_events

    found = list_events(hub.engine, grid=grid, worker_id=worker, states=None if every else
                        ("discovered", "assigned", "in_progress", "resolved"))
    table = folding_table("event", "kind", "severity", "state", "grid", "building", "worker", "due",
                          title=f"{'events' if every else 'open events'}: {len(found):,}"
                                + (f" (the first {limit})" if len(found) > limit else ""))
    now = pd.Timestamp(datetime.now(UTC))
    for row in found.head(limit).to_dict("records"):
        due = pd.Timestamp(row["due_at"])
        due = due.tz_localize(UTC) if due.tzinfo is None else due
        late = " [red]overdue[/red]" if due < now and row["state"] not in ("closed", "suppressed", "resolved") else ""
        table.add_row(*(_text(row[c]) for c in ("id", "kind", "severity", "state", "grid", "building", "worker_id")),
                      f"{due:%Y-%m-%d %H:%M}{late}")
    console.print(table)
    return len(found)


@events_app.command("run")
def events_run() -> None:
    """Turn the open findings and the property tickets into events; check, locate and assign them."""
    from hub.events import load_roster, run_events

    try:
        hub = _hub(create=True)
        result = run_events(hub.engine, hub.vault, load_roster(hub.settings.grids_file),
                            stale_after=hub.settings.stale_after)
    except HubError as exc:
        raise _fail(exc) from None
    d = result.derived
    console.print(f"events run {result.run_id}: {d.new:,} new from findings, {d.tickets:,} from tickets, "
                  f"{d.persisting:,} still found, {d.reopened:,} reopened, {d.closed:,} closed, {d.assigned:,} "
                  f"assigned, {d.unlocated:,} open without a grid")


@events_app.command("list")
def events_list(
    grid: Annotated[str | None, typer.Option(help="only this grid")] = None,
    worker: Annotated[str | None, typer.Option(help="only this worker's")] = None,
    every: Annotated[bool, typer.Option("--all", help="closed and suppressed ones too")] = False,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """Open events, soonest due first."""
    try:
        print_events(_hub(), grid=grid, worker=worker, every=every, limit=limit)
    except HubError as exc:
        raise _fail(exc) from None


@events_app.command("show")
def events_show(event_id: str) -> None:
    """One event's history: every step with who, when and the feedback."""
    from hub.events import steps_of

    try:
        steps = steps_of(_hub().engine, event_id)
    except HubError as exc:
        raise _fail(exc) from None
    table = folding_table("at", "state", "by", "note", title=f"event {event_id}")
    for at, state, by, note in steps:
        table.add_row(f"{at:%Y-%m-%d %H:%M}", state, by, note)
    console.print(table)


def _move(event_id: str, state: str, note: str = "", worker: str | None = None) -> None:
    from hub.access import Policy
    from hub.events import load_roster, move_event

    try:
        hub = _hub()
        moved = move_event(hub.engine, event_id, state, by=Policy.operator(getpass.getuser(), purpose="hub events"),
                           note=note, worker_id=worker, roster=load_roster(hub.settings.grids_file))
    except HubError as exc:
        raise _fail(exc) from None
    console.print(f"event {moved.event_id}: {moved.state}" + (f", worker {moved.worker_id}" if moved.worker_id else ""))


@events_app.command("assign")
def events_assign(event_id: str, worker: str, note: Note = "") -> None:
    """Assign an event to a worker of its grid (the roster's first worker gets new ones by himself)."""
    _move(event_id, "assigned", note, worker)


@events_app.command("update")
def events_update(
    event_id: str,
    state: Annotated[str, typer.Option(help="in_progress | resolved | reopened (a failed check)")],
    note: Note = "",
) -> None:
    """Move an event on, with feedback: in_progress, resolved, or reopened after a failed check."""
    _move(event_id, state, note)


@events_app.command("close")
def events_close(event_id: str, note: Note = "") -> None:
    """Close an event (the next rules run reopens it if its finding is still found)."""
    _move(event_id, "closed", note)


@events_app.command("suppress")
def events_suppress(event_id: str, reason: Annotated[str, typer.Option(help="why it is dismissed (audited)")]) -> None:
    """Dismiss an event's finding for good, with a reason: later runs leave it suppressed."""
    _move(event_id, "suppressed", reason)


def print_metrics(hub: Hub, *, communities_only: bool = False) -> None:
    from hub.events import event_metrics

    per_grid, per_community = event_metrics(hub.engine, datetime.now(UTC))
    shown = [("per community", per_community)] + ([] if communities_only else [("per grid", per_grid)])
    for title, frame in shown:
        table = folding_table("community", "grid", "open", "overdue", "handled", "on time", "median h",
                              "residents", "workers", "open/worker", title=f"events {title}")
        for r in frame.to_dict("records"):
            table.add_row(_text(r["community"]), _text(r["grid"]), *(f"{int(r[c]):,}" for c in
                                                                     ("open", "overdue", "handled")),
                          _figure(r["on_time_rate"], "{:.0%}"), _figure(r["median_hours"], "{:.1f}"),
                          f"{int(r['residents']):,}", f"{int(r['workers']):,}", _figure(r["open_per_worker"], "{:.1f}"))
        console.print(table)


@events_app.command("metrics")
def events_metrics() -> None:
    """Open, overdue, on-time handling rate and median handling time per community and grid; a grid's load."""
    try:
        print_metrics(_hub())
    except HubError as exc:
        raise _fail(exc) from None
