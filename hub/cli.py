"""`hub`: the command line. Commands only wire settings to hub functions and print results."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.logging import RichHandler
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from hub.cli_access import audit_app, consumers_app
from hub.cli_api import serve_cmd, serve_demo
from hub.cli_console import HubGroup, console, err, folding_table, source_text
from hub.cli_console import fail as _fail
from hub.cli_events import events_app
from hub.cli_export import export_cmd
from hub.cli_feed import feed_app, webhooks_app
from hub.cli_find import find_cmd
from hub.cli_forms import forms_app
from hub.cli_mappings import mappings_app
from hub.cli_quality import batches_app, report_cmd, write_report
from hub.cli_resolve import explain_cmd, resolve_cmd, review_app, run_resolve
from hub.cli_rules import rules_app
from hub.cli_verify import verify_cmd
from hub.errors import HubError
from hub.ingest import BatchCounts, IngestResult
from hub.settings import HubSettings
from hub.status import REJECTION_KINDS, watermark_shown

app = typer.Typer(help="智慧社区 data hub: ingest department systems into one canonical model.",
                  no_args_is_help=True, pretty_exceptions_enable=False, cls=HubGroup)
sources_app = typer.Typer(help="The simulated department systems (demo and test world).", no_args_is_help=True)
db_app = typer.Typer(help="The hub's store.", no_args_is_help=True)
keys_app = typer.Typer(help="The hub's key: rotation.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(mappings_app, name="mappings")
app.add_typer(review_app, name="review")
app.add_typer(consumers_app, name="consumers")
app.add_typer(audit_app, name="audit")
app.add_typer(batches_app, name="batches")
app.add_typer(rules_app, name="rules")
app.add_typer(forms_app, name="forms")
app.add_typer(events_app, name="events")
app.add_typer(feed_app, name="feed")
app.add_typer(webhooks_app, name="webhooks")
app.command("resolve")(resolve_cmd)
app.command("explain")(explain_cmd)
app.command("serve")(serve_cmd)
app.command("find")(find_cmd)
app.command("verify")(verify_cmd)
app.command("export")(export_cmd)
app.command("report")(report_cmd)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log at INFO level; on an error, print "
                                                                 "its traceback")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s",
                        handlers=[RichHandler(console=err, show_path=False)])


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
    table = folding_table("source", "records", title=f"simulated district in {source_text(out_dir)}")
    for source, count in sorted(manifest.record_counts.items()):
        table.add_row(source, f"{count:,}")
    console.print(table)
    console.print(f"connections written to {source_text(settings.connections_file)}; ground truth in "
                  f"{source_text(out_dir / 'truth')}")


@sources_app.command("serve")
def sources_serve(port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8765) -> None:
    """Serve the simulated property-management (物业) REST API until interrupted."""
    from hub.demo import load_manifest, serve_property_api

    settings = HubSettings()
    assert settings.sources_dir is not None
    manifest = load_manifest(settings.sources_dir)
    console.print(f"物业 API on http://127.0.0.1:{port} (token in {source_text(settings.connections_file)})")
    serve_property_api(manifest.property_db, manifest.property_token, host="127.0.0.1", port=port)


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    TextColumn("{task.completed:,} records"), TimeElapsedColumn(), console=console)


def run_ingest(sources: list[str] | None, workers: int | None = None) -> list[IngestResult]:
    from hub.pipeline import Hub, ingest

    hub = Hub.open()
    with _progress() as progress:
        tasks: dict[str, TaskID] = {}

        def advance(source: str, counts: BatchCounts) -> None:
            if source not in tasks:
                tasks[source] = progress.add_task(source, total=None)
            progress.advance(tasks[source], counts.extracted)

        results = ingest(hub, sources, on_batch=advance, workers=workers)
    table = folding_table("source", "status", "extracted", "loaded", "unchanged", "records quarantined",
                          "values rejected", "statements", "reconciled", "batch", title="ingest")
    colours = {"succeeded": "default", "skipped": "yellow", "published": "green"}
    for r in results:
        table.add_row(source_text(r.source), f"[{colours.get(r.status, 'red')}]{r.status}[/]",
                      f"{r.extracted:,}", f"{r.loaded:,}", f"{r.unchanged:,}", f"{r.quarantined:,}",
                      f"{r.quarantined_values:,}", f"{r.statements:,}", "yes" if r.reconciled else "[red]NO[/red]",
                      f"[{colours.get(r.gate, 'red')}]{r.gate}[/]" if r.gate else "-")
    console.print(table)
    for r in results:
        if r.error:
            state = r.status if r.gate != "held" else "held"
            err.print(f"[{colours.get(state, 'red')}]{source_text(r.source)}[/]: {source_text(r.error)}",
                      highlight=False)
    if any(r.gate == "held" for r in results):
        err.print("[red]ALERT[/red]: held batches stay out of publication (the previous state is served) until the "
                  "source is fixed and ingested again, or `hub batches approve RUN --reason …`; `hub batches list`")
    return results


def _failed(results: list[IngestResult]) -> bool:
    """A source failed, or its batch was held by the quality gate (a skipped draft is not a failure)."""
    return any(r.status == "failed" or r.gate == "held" for r in results)


@app.command("ingest")
def ingest_cmd(
    sources: Annotated[list[str] | None, typer.Argument(help="source ids; default all")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="processes sharing the work (sources at once, and within a source); default "
        "HUB_INGEST_WORKERS, else the machine's cores",
        show_default=False)] = None,
) -> None:
    """Ingest department sources (all mappings in HUB_MAPPINGS_DIR, or the ones named)."""
    try:
        results = run_ingest(sources or None, workers)
    except HubError as exc:
        raise _fail(exc) from None
    if _failed(results):
        raise typer.Exit(code=1)


@app.command("status")
def status_cmd() -> None:
    """Per source: the last run and its counts, what the store holds, the commonest quarantine reasons."""
    from hub.pipeline import Hub
    from hub.status import source_status

    try:
        hub = Hub.open(create=False)
    except HubError as exc:
        raise _fail(exc) from None
    rows = source_status(hub.engine, stale_after=hub.settings.stale_after)
    _print_alerts(hub.settings)
    if not rows:
        console.print("no source has been ingested yet: run `hub ingest`")
        return
    last = folding_table("source", "finished", "status", "extracted", "loaded", "unchanged", "records quarantined",
                         "values rejected", "watermark", title="last run of each source")
    for column in (*last.columns[:3], last.columns[-1]):   # ids, times, statuses, cursors: each on one line
        column.no_wrap = True
    store = folding_table("source", "raw records", "record entities", *REJECTION_KINDS.values(),
                          "new records last loaded",
                          title=f"in the store: {source_text(hub.engine.url.render_as_string())}")
    for s in rows:
        when = f"{s.finished_at:%Y-%m-%d %H:%M:%S}" if s.finished_at else "-"
        state = "succeeded (nothing new)" if s.status == "succeeded" and not s.extracted - s.unchanged else s.status
        last.add_row(source_text(s.source), when, state or "-", f"{s.extracted:,}", f"{s.loaded:,}",
                     f"{s.unchanged:,}", f"{s.quarantined:,}", f"{s.quarantined_values:,}",
                     source_text(watermark_shown(s.watermark)))
        loaded_at = f"{s.last_loaded_at:%Y-%m-%d %H:%M:%S}" if s.last_loaded_at else "-"
        store.add_row(source_text(s.source), f"{s.raw_records_total:,}", f"{s.record_entities_total:,}",
                      *(f"{s.rejected_total.get(kind, 0):,}" for kind in REJECTION_KINDS), loaded_at)
    console.print(last)
    console.print(store)
    for s in rows:
        if s.status == "interrupted":
            beat = s.heartbeat_at.strftime("%Y-%m-%d %H:%M:%S") if s.heartbeat_at else "never"
            console.print(f"[red]{source_text(s.source)}[/red] interrupted: run {s.last_run_id} "
                          f"(process {s.pid or '?'} on {s.host or '?'}) stopped without finishing, "
                          f"last heartbeat {beat} UTC; "
                          f"`hub ingest {source_text(s.source)}` takes over and resumes after its last committed batch")
        if s.error:
            console.print(f"[red]{source_text(s.source)}[/red] failed: {source_text(s.error)}")
        for kind, reasons in s.reasons.items():
            console.print(f"[bold]{source_text(s.source)}[/bold] {REJECTION_KINDS[kind]} in the store "
                          f"({s.rejected_total[kind]:,}), commonest reasons: "
                          + "; ".join(f"{source_text(reason)} ×{n:,}" for reason, n in reasons), highlight=False)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the store to the current schema."""
    from hub.pipeline import Hub

    try:
        hub = Hub.open()
    except HubError as exc:
        raise _fail(exc) from None
    console.print(f"store at head: {source_text(hub.engine.url.render_as_string())}")


@app.command("keygen")
def keygen(write: Annotated[bool, typer.Option("--write", help="write it to HUB_KEY_FILE (default HUB_HOME/hub.key), "
                                                              "mode 0600, instead of printing; never overwrites")]
           = False) -> None:
    """A fresh key: printed for HUB_SECRET_KEY, or written to the key file (keep it out of the repository)."""
    from hub.protect import new_key_text, write_key_file

    if not write:
        console.print(new_key_text())
        return
    settings = HubSettings()
    assert settings.key_file is not None
    try:
        key = write_key_file(settings.key_file)
    except HubError as exc:
        raise _fail(exc) from None
    console.print(f"key written to {settings.key_file} (fingerprint {key.fingerprint})")


@keys_app.command("rotate")
def keys_rotate(
    new_key_file: Annotated[Path | None, typer.Option(help="file of the new key: read if it exists (`hub keygen "
                                                           "--write`), else created; default HUB_KEY_FILE + .new")]
    = None,
    batch_size: Annotated[int, typer.Option(min=1, help="ciphertexts re-encrypted per committed batch")] = 2000,
) -> None:
    """Re-encrypt the store under a new key, keeping every id; if interrupted, run it again to finish."""
    from hub.keys import rotate_key
    from hub.store import open_store

    settings = HubSettings()
    try:
        engine = open_store(settings.database_url, create=False)
        with _progress() as progress:
            tasks: dict[str, TaskID] = {}

            def advance(table: str, resealed: int) -> None:
                if table not in tasks:
                    tasks[table] = progress.add_task(f"re-encrypting {table}", total=None)
                progress.advance(tasks[table], resealed)

            report = rotate_key(engine, settings, new_key_file, batch_size=batch_size, on_batch=advance)
    except HubError as exc:
        raise _fail(exc) from None
    new = report.new_key
    console.print(f"{'resumed and ' if report.resumed else ''}done: {report.resealed:,} ciphertexts re-encrypted "
                  f"in {report.batches:,} batches under the key in {new.origin} (fingerprint {new.fingerprint}); "
                  f"{report.state_files_removed} resolved-state cache files removed.")
    console.print(f"The store now accepts only that key. Replace the old key with it now: move {report.new_key_file} "
                  f"over {settings.key_file}, or set HUB_SECRET_KEY to its content and delete the file; then destroy "
                  "every copy of the old key.")


@app.command("demo")
def demo(
    residents: Annotated[int, typer.Option(help="residents in the simulated district")] = 20_000,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    port: Annotated[int, typer.Option(help="port of the simulated 物业 API")] = 8765,
    serve: Annotated[bool, typer.Option(help="end by serving the hub's API (HUB_API_HOST:HUB_API_PORT) with a "
                                             "demo consumer's credentials, and the webhook delivery worker "
                                             "beside it, until Ctrl-C or SIGTERM")] = True,
    airflow: Annotated[bool, typer.Option(help="then start Airflow (standalone, under HUB_HOME/airflow, DAGs "
                                               "from ./dags), trigger every ingest DAG once, and keep it and "
                                               "the 物业 API running beside the hub's API until Ctrl-C")] = False,
    airflow_port: Annotated[int, typer.Option(help="port of Airflow's UI and API on 127.0.0.1")] = 8080,
) -> None:
    """What `make run` does: build the district (once), serve the 物业 API, ingest everything (each batch through
    the quality gate), resolve and publish, write the quality report; then (with --airflow) Airflow over the
    same store; then serve the hub's API to a demo app, with the webhook delivery worker beside it."""
    import signal
    import sys

    from sqlalchemy.engine import make_url

    from hub.demo import demo_world
    from hub.demo.clock import SNAPSHOT_TIME

    # The district's door events end at its snapshot: the rules' windows are judged there (HUB_RULES_AT), here
    # and in the Airflow started below, unless the operator set another time.
    os.environ.setdefault("HUB_RULES_AT", str(SNAPSHOT_TIME))
    settings = HubSettings()
    # SIGTERM unwinds like Ctrl-C, so that Airflow and the 物业 API stop cleanly (uvicorn, while it serves,
    # handles the signal itself and raises it again once it has stopped)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with contextlib.ExitStack() as running:
        running.enter_context(demo_world(settings, residents=residents, seed=seed, port=port, console=console))
        results = run_ingest(None)
        if not airflow:
            running.close()   # the 物业 API is needed only while something ingests
        status_cmd()
        try:
            run_resolve(None)
            run_derive()
        except HubError as exc:
            raise _fail(exc) from None
        store = source_text(make_url(settings.database_url).render_as_string(hide_password=True))
        console.print(f"\nstore: {store}\nsources: {source_text(settings.sources_dir)}  "
                      f"(ground truth in {source_text(settings.sources_dir)}/truth)\n"
                      f"mappings: {source_text(settings.mappings_dir)}\n"
                      "next: `.venv/bin/hub status`, `.venv/bin/hub review list`, `.venv/bin/hub explain ENTITY`, "
                      "`make run` again (re-runs change no data, only the demo app's secret; a bare `hub ingest` "
                      "reaches the 物业 sources only while their simulated API runs, which `hub demo` starts and "
                      "stops)")
        try:
            report_path = write_report()
        except HubError as exc:
            raise _fail(exc) from None
        console.print(f"quality report (open it in a browser): {source_text(report_path.resolve())}")
        if _failed(results):
            raise typer.Exit(code=1)
        if airflow:
            _start_airflow(settings, running, airflow_port)
        try:
            if serve:
                _start_webhooks(settings, running)
                serve_demo(settings)
            elif airflow:
                console.print("Ctrl-C stops Airflow.")
                signal.pause()
        except HubError as exc:
            raise _fail(exc) from None
        except KeyboardInterrupt:
            pass


def run_derive() -> None:
    """The rules, then the events (hub.pipeline.derive), as `hub demo` shows them: findings per rule, the open
    events soonest due, the handling figures per community. The situations (情) the rules derived are published
    as the next version (fusion unchanged since `hub resolve` published it), as the fusion DAG does."""
    from hub.cli_events import print_events, print_metrics
    from hub.pipeline import Hub, derive, publish

    hub = Hub.open()
    try:
        result = derive(hub)
        publish(hub, fusion_changed=False)
        d = result.events.derived
        table = folding_table("rule", "open findings", "new", "cleared", title="cross-department rules")
        for rule, written in sorted(result.rules.per_rule.items()):
            table.add_row(rule, f"{written.found:,}", f"{written.new:,}", f"{written.cleared:,}")
        console.print(table)
        console.print(f"events: {d.new:,} new from findings, {d.tickets:,} from 物业 tickets, {d.assigned:,} assigned "
                      f"to grid workers, {d.unlocated:,} open without a grid (HUB_GRIDS_FILE: "
                      f"{source_text(hub.settings.grids_file)})")
        print_events(hub, limit=10)
        print_metrics(hub, communities_only=True)
        console.print("next: `.venv/bin/hub events list --grid GRID`, `hub events show EVENT`, "
                      "`hub events update EVENT --state in_progress`, `hub events metrics`")
    finally:
        hub.engine.dispose()


def _start_airflow(settings: HubSettings, running: contextlib.ExitStack, port: int) -> None:
    """Airflow standalone beside the demo (hub.orchestrate.standalone), stopped when `running` closes."""
    from hub.orchestrate import FUSION_DAG_ID
    from hub.orchestrate.standalone import running_airflow

    with console.status("starting Airflow (standalone) and triggering every ingest DAG …"):
        try:
            airflow = running.enter_context(running_airflow(settings, Path.cwd(), port=port))
        except (HubError, RuntimeError, TimeoutError) as exc:
            raise _fail(exc) from None
    console.print(f"\n[bold]Airflow[/bold] runs the same pipeline as DAGs: UI at {airflow.url} "
                  f"(user {airflow.username}, password {source_text(airflow.password)}; kept in "
                  f"{source_text(settings.home / 'airflow')}). Every ingest DAG was triggered once; each source's "
                  f"asset then schedules {FUSION_DAG_ID} (resolve → fuse → derive → publish → report). Failed tasks "
                  f"raise alerts that `hub status` shows; Airflow's own output is in {source_text(airflow.log_path)}. "
                  "Guide: docs/operator-guide.md.", highlight=False)

def _start_webhooks(settings: HubSettings, running: contextlib.ExitStack) -> None:
    """The webhook delivery worker (`hub webhooks deliver --follow`) beside the API, stopped (SIGTERM) when
    `running` closes: when the API stops, on Ctrl-C or on SIGTERM."""
    from hub.webhooks.service import describe, running_delivery_worker

    with console.status("starting the webhook delivery worker …"):
        try:
            worker = running.enter_context(running_delivery_worker(settings))
        except RuntimeError as exc:
            raise _fail(exc) from None
    console.print(f"\n[bold]Webhooks[/bold]: {source_text(describe(worker))}. Register a receiver with "
                  "`hub webhooks add APP URL`; `hub webhooks list` shows what it delivered.", highlight=False)


def _print_alerts(settings: HubSettings) -> None:
    """The latest alerts raised by failed DAG tasks (hub.alerts), above the per-source tables."""
    from hub.alerts import alerts_path, recent_alerts

    alerts = recent_alerts(settings)
    if not alerts:
        return
    console.print(f"[bold red]latest alerts[/bold red] (all in {source_text(alerts_path(settings))}):")
    for a in alerts:
        console.print(f"  {a.at} [red]{source_text(a.origin)}[/red] run {source_text(a.run_id or '-')} "
                      f"try {a.try_number}: {source_text(a.message.splitlines()[0] if a.message else '')}",
                      highlight=False)
