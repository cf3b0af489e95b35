"""`hub mappings …`: onboard a department source without a developer.

    hub mappings suggest SOURCE     draft a mapping from a file, a table (--connection, --table/--query) or an API path
    hub mappings check FILE         the mapping against its source: columns, value maps, conditions (nothing loaded)
    hub mappings preview FILE       the first rows: raw beside normalized, statements, quarantine (nothing loaded)

Commands wire settings to `hub.onboard` functions and print; the decisions are made there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli_console import console, err, folding_table, source_text
from hub.cli_console import fail as _fail
from hub.errors import HubError, MappingError
from hub.settings import HubSettings

if TYPE_CHECKING:
    from rich.table import Table

    from hub.mapping import MappingSpec
    from hub.mapping.yaml_lines import Path_
    from hub.onboard import SourceRef
    from hub.onboard.preview import RowPreview

mappings_app = typer.Typer(help="Onboard a department: suggest, check and preview mapping files.",
                           no_args_is_help=True)
SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schemas" / "mapping.schema.json"


def _locate(source: str, settings: HubSettings, connection: str | None, table: str | None, query: str | None,
            sheet: str | None) -> SourceRef:
    from connectors.connection import resolve_connection
    from hub.onboard import locate_file, locate_http, locate_sql
    from hub.pipeline import load_connections_file

    conn = None
    if connection:
        conn = resolve_connection(connection, environ=os.environ, file_values=load_connections_file(settings))
    is_http = source.startswith(("http://", "https://")) or bool(conn and (conn.uri or "").startswith("http"))
    if table or query or (conn is not None and not is_http):
        if conn is None or connection is None:
            raise typer.BadParameter("a table or query needs --connection NAME")
        ref = locate_sql(conn, connection_name=connection, table=table or (None if query else source), query=query)
        if query:
            ref.label = source   # a name for what the query reads: the default source id
        return ref
    if is_http:
        return locate_http(source, connection=conn, connection_name=connection)
    assert settings.sources_dir is not None
    return locate_file(source, base_dir=settings.sources_dir, source_roots=settings.source_roots, sheet=sheet)


@mappings_app.command("suggest")
def suggest_cmd(
    source: Annotated[str, typer.Argument(help="a file, an API path or URL, a table (with --connection), or a name "
                                               "for what --query reads")],
    connection: Annotated[str | None, typer.Option(help="connection name (HUB_CONN_<NAME> or the connections file)")]
    = None,
    table: Annotated[str | None, typer.Option(help="table of a SQL connection")] = None,
    query: Annotated[str | None, typer.Option(help="query of a SQL connection (instead of a table)")] = None,
    sheet: Annotated[str | None, typer.Option(help="sheet of a workbook (default: all when they share a header)")]
    = None,
    source_id: Annotated[str | None, typer.Option(help="id of the new source (default: from its name)")] = None,
    department: Annotated[str | None, typer.Option(help="department key (default: guessed)")] = None,
    district_code: Annotated[str | None, typer.Option(help="GB/T 2260 code of the district, for houses")] = None,
    title: Annotated[str | None, typer.Option(help="human name of the source system")] = None,
    rows: Annotated[int, typer.Option(help="rows to sample")] = 500,
    out: Annotated[Path | None, typer.Option(help="file to write; default HUB_MAPPINGS_DIR/<source id>.yaml, "
                                                  "'-' for standard output")] = None,
    force: Annotated[bool, typer.Option(help="overwrite an existing file")] = False,
) -> None:
    """Read a sample of SOURCE and write a draft mapping, every line commented with confidence and evidence."""
    from hub.onboard import render, suggest_mapping

    settings = HubSettings()
    try:
        ref = _locate(source, settings, connection, table, query, sheet)
        sample = ref.sample(rows)
        draft = suggest_mapping(ref, sample, source_id=source_id, department=department, district_code=district_code,
                                title=title)
    except HubError as exc:
        raise _fail(exc) from None
    target = out or settings.mappings_dir / f"{draft.source}.yaml"
    to_stdout = str(target) == "-"
    # Standard output is meant for a file in HUB_MAPPINGS_DIR: the same schema path, so the same bytes.
    folder = settings.mappings_dir if to_stdout else target.parent
    text = render(draft, schema=os.path.relpath(SCHEMA_FILE, folder.resolve()))
    if to_stdout:
        sys.stdout.write(text)   # as it is: a console would wrap long lines and read source text as markup
        return
    if target.exists() and not force:
        raise _fail(HubError(f"{target} exists; use --force to overwrite it or --out to write elsewhere"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    _summary(draft)
    console.print(f"draft written to [bold]{source_text(target)}[/bold] (status: draft); next: hub mappings check "
                  f"{source_text(target)}, then change its status to ready")


def _summary(draft: object) -> None:
    from hub.onboard import Draft

    assert isinstance(draft, Draft)
    table = folding_table("column", "becomes", "confidence",
                          title=f"{source_text(draft.source)}: {len(draft.columns)} columns")
    for column in draft.record_id:
        table.add_row(source_text(column), "record id", "")
    cursor = draft.connector["settings"].get("cursor") or (draft.connector["settings"].get("incremental") or {}).get(
        "field")
    if cursor:
        table.add_row(source_text(cursor), "cursor (changes since the last run)", "")
    for entity in draft.entities:
        for f in entity.fields:
            source = "+".join(f.columns) or f"const {f.spec.get('const')}"
            table.add_row(source_text(source), source_text(f"{entity.name}.{f.attribute}"), f"{f.confidence:.2f}")
        for name, spec in entity.local_ids.items():
            table.add_row(source_text(str(spec.get("column"))), source_text(f"{entity.name} local id {name}"), "")
    for subject, predicate, obj, when in draft.relations:
        if when:
            table.add_row(source_text(when.split(" ", 1)[0]), source_text(f"{subject} {predicate} {obj} where {when}"),
                          "")
    console.print(table)
    for column, why in draft.unplaced:
        console.print(f"[yellow]not placed[/yellow] {source_text(column)}: {source_text(why)}", highlight=False)


def _load(file: Path) -> tuple[MappingSpec, dict[Path_, int]]:
    """The file as ingest will see it: beside the other files of its folder (one source id in two files
    fails both)."""
    from hub.mapping.loader import load_mappings, read_mapping

    loaded = next((f for f in load_mappings(file.parent).files if f.path == file), None) or read_mapping(file)
    if loaded.spec is None:
        raise _fail(MappingError(list(loaded.problems)))
    return loaded.spec, loaded.lines


@mappings_app.command("check")
def check_cmd(
    file: Annotated[Path, typer.Argument(help="the mapping file")],
    rows: Annotated[int, typer.Option(help="rows to sample from the source")] = 1000,
) -> None:
    """Validate a mapping against its source without loading anything (exit 1 on errors)."""
    from hub.onboard import check_mapping, mapping_sample

    spec, lines = _load(file)
    try:
        sample = mapping_sample(spec, HubSettings(), rows)
    except HubError as exc:
        raise _fail(exc) from None
    findings = check_mapping(spec, lines, sample, file=str(file))
    for finding in findings:
        colour = "red" if finding.level == "error" else "yellow"
        err.print(f"[{colour}]{source_text(finding)}[/{colour}]", highlight=False, soft_wrap=True)
    errors = sum(1 for f in findings if f.level == "error")
    verdict = "[red]fails[/red]" if errors else "[green]ok[/green]"
    console.print(f"{source_text(file)}: {verdict}: {len(sample.rows)} rows sampled, {len(sample.columns)} columns, "
                  f"{errors} error(s), {len(findings) - errors} warning(s)")
    if spec.status == "draft":
        console.print(f"[yellow]{source_text(file)} is a draft (status: draft)[/yellow]: `hub ingest` skips it; "
                      f"after review change that line to `status: ready`", highlight=False, soft_wrap=True)
    if errors:
        raise typer.Exit(code=1)


@mappings_app.command("preview")
def preview_cmd(
    file: Annotated[Path, typer.Argument(help="the mapping file")],
    rows: Annotated[int, typer.Option("--rows", "-n", help="rows to show")] = 10,
    reveal: Annotated[bool, typer.Option(help="show resident IDs and phones unmasked")] = False,
) -> None:
    """Show what the first rows would become: raw beside normalized, statements, quarantine (nothing loaded)."""
    from hub.onboard import mapping_sample, preview_rows

    spec, _ = _load(file)
    try:
        sample = mapping_sample(spec, HubSettings(), rows)
    except HubError as exc:
        raise _fail(exc) from None
    previews = preview_rows(spec, sample.rows, sample.positions, reveal=reveal)
    for p in previews:
        console.print(preview_table(p))
        relations = [f"{e} {a} {v}" for e, a, v, m in p.statements if m == "relation"]
        derived = [f"{e}.{a}={v}" for e, a, v, m in p.statements if m == "derived"]
        console.print(f"  {len(p.statements)} statements"
                      + (f"; derived: {source_text(', '.join(derived))}" if derived else "")
                      + (f"; relations: {source_text(', '.join(relations))}" if relations else ""), highlight=False)
        for entity, fld, reason in p.quarantine:
            what = "[red]record quarantined[/red]" if not entity else f"[yellow]rejected[/yellow] {source_text(entity)}"
            console.print(f"  {what} {source_text(fld)}: {source_text(reason)}", highlight=False)
    loaded = sum(1 for p in previews if p.loaded)
    rejected = sum(1 for p in previews for entity, _, _ in p.quarantine if entity)
    console.print(f"{len(previews)} rows: {loaded} would load, {len(previews) - loaded} record(s) would be "
                  f"quarantined; {rejected} value(s) or entities would be rejected")


def preview_table(p: RowPreview) -> Table:
    """One row's preview. Field names are never cut: their column keeps its full width and the others
    fold long values onto further lines (an 80-column terminal cut `disability.status` to `disability.sta…`)."""
    rejected = any(entity for entity, _, _ in p.quarantine)
    state = "[green]loaded[/green]" if p.loaded and not rejected else (
        "[yellow]loaded, with rejected values[/yellow]" if p.loaded else "[red]quarantined[/red]")
    title = f"{source_text(p.position)} · record {source_text(p.record_id or '(blank id)')} · {state}"
    fields = [f"{c.entity}.{c.attribute}" for c in p.cells]
    table = folding_table(title=title, title_justify="left")
    table.add_column("field", no_wrap=True, min_width=max(map(len, fields), default=5))
    for header in ("column", "raw", "normalized", "note"):
        table.add_column(header, overflow="fold")   # after the field names, which are never folded
    for c, name in zip(p.cells, fields, strict=True):
        value = "[red]✗[/red]" if c.value is None else source_text(c.value)
        table.add_row(source_text(name), source_text(c.source), source_text(c.raw), value, source_text(c.note))
    return table
