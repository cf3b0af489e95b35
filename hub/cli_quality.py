"""`hub batches` and `hub report`: the quality gate's held batches, and the auditors' HTML report."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from hub.cli_console import console, folding_table, source_text
from hub.cli_console import fail as _fail
from hub.errors import HubError

batches_app = typer.Typer(help="Batches the quality gate held: list them, approve one.", no_args_is_help=True)


@batches_app.command("list")
def batches_list(
    every: Annotated[bool, typer.Option("--all", help="also the published and approved batches")] = False,
) -> None:
    """Held batches (a failed critical expectation keeps them out of publication), newest first."""
    from hub.pipeline import Hub
    from hub.quality import batches

    try:
        hub = Hub.open(create=False)
    except HubError as exc:
        raise _fail(exc) from None
    found = batches(hub.engine, include_released=every)
    if not found:
        console.print("no held batch: every validated batch was published" if not every else "no gated batch yet")
        return
    table = folding_table("run", "source", "finished", "batch", "records loaded", "versions held", "why",
                          title="batches")
    table.columns[0].no_wrap = True
    for b in found:
        when = f"{b.finished_at:%Y-%m-%d %H:%M:%S}" if b.finished_at else "-"
        colour = "red" if b.gate == "held" else "default"
        table.add_row(b.run_id, source_text(b.source), when, f"[{colour}]{b.gate}[/]", f"{b.loaded:,}",
                      f"{b.held_versions:,}", source_text(b.note or ""))
    console.print(table)


@batches_app.command("approve")
def batches_approve(
    run_id: Annotated[str, typer.Argument(help="the run whose batch to publish as it is (`hub batches list`)")],
    reason: Annotated[str, typer.Option("--reason", help="why the batch may be published despite its checks")],
    by: Annotated[str | None, typer.Option(help="who approves; default the login name")] = None,
) -> None:
    """Release a held batch as it is: its record versions reach fusion at the next `hub resolve`."""
    from hub.pipeline import Hub
    from hub.quality import approve

    try:
        hub = Hub.open(create=False)
        batch = approve(hub.engine, run_id, by or getpass.getuser(), reason)
    except HubError as exc:
        raise _fail(exc) from None
    console.print(f"batch of run {batch.run_id} ({source_text(batch.source)}) approved; `hub resolve` publishes it")


def write_report(out: Path | None = None) -> Path:
    from hub.pipeline import Hub, report

    hub = Hub.open(create=False)
    with console.status("writing the quality report …"):
        result = report(hub, out)
    return result.path


def report_cmd(
    out: Annotated[Path | None, typer.Option(help="file to write; default HUB_HOME/quality/reports/report-….html")]
    = None,
) -> None:
    """Write the auditors' data-quality report (static HTML, opens from disk) and print its path."""
    try:
        path = write_report(out)
    except HubError as exc:
        raise _fail(exc) from None
    console.print(f"quality report: {source_text(path.resolve())}")
