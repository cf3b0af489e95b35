"""`hub`: the command line. Commands only wire settings to hub functions and print results."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from hub.cli_mappings import mappings_app
from hub.cli_resolve import explain_cmd, resolve_cmd, review_app, run_resolve
from hub.errors import HubError
from hub.ingest import BatchCounts, IngestResult
from hub.settings import HubSettings

app = typer.Typer(help="智慧社区 data hub: ingest department systems into one canonical model.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
sources_app = typer.Typer(help="The simulated department systems (demo and test world).", no_args_is_help=True)
db_app = typer.Typer(help="The hub's store.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(db_app, name="db")
app.add_typer(mappings_app, name="mappings")
app.add_typer(review_app, name="review")
app.command("resolve")(resolve_cmd)
app.command("explain")(explain_cmd)
# Piped output (make run in CI, a log file) gets a wide console instead of rich's 80-column default.
console = Console() if sys.stdout.isatty() else Console(width=160)
err = Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=160)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log at INFO level")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s",
                        handlers=[RichHandler(console=err, show_path=False)])


def _fail(exc: HubError) -> typer.Exit:
    err.print(f"[red]error:[/red] {exc}")
    return typer.Exit(code=2)


@sources_app.command("generate")
def sources_generate(
    residents: Annotated[int, typer.Option(help="residents in the simulated district")] = 20_000,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same district)")] = 7,
    out: Annotated[Path | None, typer.Option(help="output folder; default HUB_HOME/demo")] = None,
    gongan_url: Annotated[str | None, typer.Option(help="SQLAlchemy URL for 公安; default MariaDB or SQLite")] = None,
    renshe_url: Annotated[str | None, typer.Option(help="SQLAlchemy URL for 人社; default MariaDB or SQLite")] = None,
) -> None:
    """Build the simulated district and write every department's system in its native form."""
    from hub.demo import generate_district, write_connections_file

    settings = HubSettings()
    out_dir = out or settings.sources_dir
    assert out_dir is not None and settings.connections_file is not None
    with console.status(f"generating {residents:,} residents …"):
        manifest = generate_district(out_dir, residents=residents, seed=seed, gongan_url=gongan_url,
                                     renshe_url=renshe_url)
    write_connections_file(manifest, settings.connections_file)
    table = Table("source", "records", title=f"simulated district in {out_dir}")
    for source, count in sorted(manifest.record_counts.items()):
        table.add_row(source, f"{count:,}")
    console.print(table)
    console.print(f"connections written to {settings.connections_file}; ground truth in {out_dir / 'truth'}")


@sources_app.command("serve")
def sources_serve(port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8765) -> None:
    """Serve the simulated property-management (物业) REST API until interrupted."""
    from hub.demo import load_manifest, serve_property_api

    settings = HubSettings()
    assert settings.sources_dir is not None
    manifest = load_manifest(settings.sources_dir)
    console.print(f"物业 API on http://127.0.0.1:{port} (token in {settings.connections_file})")
    serve_property_api(manifest.property_db, manifest.property_token, host="127.0.0.1", port=port)


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    TextColumn("{task.completed:,} records"), TimeElapsedColumn(), console=console)


def run_ingest(sources: list[str] | None, workers: int = 1) -> list[IngestResult]:
    from hub.pipeline import Hub, ingest

    hub = Hub.open()
    with _progress() as progress:
        tasks: dict[str, TaskID] = {}

        def advance(source: str, counts: BatchCounts) -> None:
            if source not in tasks:
                tasks[source] = progress.add_task(source, total=None)
            progress.advance(tasks[source], counts.extracted)

        results = ingest(hub, sources, on_batch=advance, workers=workers)
    table = Table("source", "status", "extracted", "loaded", "unchanged", "quarantined", "bad values",
                  "statements", "reconciled", title="ingest")
    colours = {"succeeded": "default", "skipped": "yellow"}
    for r in results:
        table.add_row(r.source, f"[{colours.get(r.status, 'red')}]{r.status}[/]",
                      f"{r.extracted:,}", f"{r.loaded:,}", f"{r.unchanged:,}", f"{r.quarantined:,}",
                      f"{r.quarantined_values:,}", f"{r.statements:,}", "yes" if r.reconciled else "[red]NO[/red]")
    console.print(table)
    for r in results:
        if r.error:
            err.print(f"[{colours.get(r.status, 'red')}]{r.source}[/]: {escape(r.error)}", highlight=False)
    return results


@app.command("ingest")
def ingest_cmd(
    sources: Annotated[list[str] | None, typer.Argument(help="source ids; default all")] = None,
    workers: Annotated[int, typer.Option(help="sources ingested at once, each in its own process")] = 1,
) -> None:
    """Ingest department sources (all mappings in HUB_MAPPINGS_DIR, or the ones named)."""
    try:
        results = run_ingest(sources or None, workers)
    except HubError as exc:
        raise _fail(exc) from None
    if any(r.status == "failed" for r in results):   # a skipped draft is not a failure
        raise typer.Exit(code=1)


@app.command("status")
def status_cmd() -> None:
    """Per source: last run, watermark, counts and the commonest quarantine reasons."""
    from hub.pipeline import Hub
    from hub.status import source_status

    hub = Hub.open()
    rows = source_status(hub.engine, stale_after=hub.settings.stale_after)
    if not rows:
        console.print("no source has been ingested yet: run `hub ingest`")
        return
    table = Table("source", "last run", "status", "loaded", "quarantined", "bad values", "raw records",
                  "record entities", "watermark", title=f"store: {hub.engine.url.render_as_string()}")
    for s in rows:
        when = s.finished_at.strftime("%Y-%m-%d %H:%M:%S") if s.finished_at else "-"
        mark = (s.watermark or "-")[:28]
        table.add_row(s.source, when, s.status or "-", f"{s.loaded:,}", f"{s.quarantined:,}",
                      f"{s.quarantined_values:,}", f"{s.raw_records_total:,}", f"{s.record_entities_total:,}", mark)
    console.print(table)
    for s in rows:
        if s.status == "interrupted":
            beat = s.heartbeat_at.strftime("%Y-%m-%d %H:%M:%S") if s.heartbeat_at else "never"
            console.print(f"[red]{s.source}[/red] interrupted: run {s.last_run_id} (process {s.pid or '?'} on "
                          f"{s.host or '?'}) stopped without finishing, last heartbeat {beat} UTC; "
                          f"`hub ingest {s.source}` takes over and resumes after its last committed batch")
        if s.error:
            console.print(f"[red]{s.source}[/red] failed: {s.error}")
        if s.reasons:
            console.print(f"[bold]{s.source}[/bold] quarantine reasons: " +
                          "; ".join(f"{reason} ×{n}" for reason, n in s.reasons))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the store to the current schema."""
    from hub.pipeline import Hub

    hub = Hub.open()
    console.print(f"store at head: {hub.engine.url.render_as_string()}")


@app.command("keygen")
def keygen() -> None:
    """Print a fresh key for HUB_SECRET_KEY (keep it out of the repository)."""
    from hub.protect import new_key_text

    console.print(new_key_text())


@app.command("demo")
def demo(
    residents: Annotated[int, typer.Option(help="residents in the simulated district")] = 20_000,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    port: Annotated[int, typer.Option(help="port of the simulated 物业 API")] = 8765,
) -> None:
    """What `make run` does: build the district (once), serve the 物业 API, ingest everything, resolve, report."""
    from hub.demo import demo_world

    settings = HubSettings()
    with demo_world(settings, residents=residents, seed=seed, port=port, console=console):
        results = run_ingest(None)
    status_cmd()
    try:
        run_resolve(None)
    except HubError as exc:
        raise _fail(exc) from None
    console.print(f"\nstore: {settings.database_url}\nsources: {settings.sources_dir}  "
                  f"(ground truth in {settings.sources_dir}/truth)\nmappings: {settings.mappings_dir}\n"
                  "next: `.venv/bin/hub status`, `.venv/bin/hub review list`, `.venv/bin/hub explain ENTITY`, "
                  "`make run` again (re-runs change nothing; a bare `hub ingest` reaches the 物业 sources only "
                  "while their simulated API runs, which `hub demo` starts and stops)")
    if any(r.status == "failed" for r in results):
        raise typer.Exit(code=1)
