"""`hub export`: record → entity links, golden records and conflicts as files (hub.export).

    hub export OUT_DIR [--format csv|parquet] [--excel] [--table links --table golden …]
    hub export OUT_DIR --clear --reason '区民政局核对低保名单 (工单 2026-118)'

Values are masked unless --clear with --reason; the reason goes to the audit log with the operator's login as
actor, never to the console or the files (the manifest keeps its hash). The command prints file names and
row counts only.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from hub.cli_console import console, folding_table, source_text
from hub.cli_console import fail as _fail
from hub.errors import HubError


def export_cmd(
    out_dir: Annotated[Path, typer.Argument(help="folder to write into (created 0700 if missing)")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv, or parquet when pyarrow is installed")] = "csv",
    excel: Annotated[bool, typer.Option("--excel", help="CSV with a UTF-8 byte-order mark (utf-8-sig), which "
                                                         "Excel needs to read Chinese text right")] = False,
    table: Annotated[list[str] | None, typer.Option("--table", help="links, golden, conflicts (repeat); "
                                                                    "default all three")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="write ID numbers, phones and sensitive values in "
                                                        "clear; needs --reason")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="why clear values are needed; written to the "
                                                                "audit log with your login")] = None,
) -> None:
    """Export record → entity links, golden records and conflicts of the published version (masked by default)."""
    from hub.export import TABLES, export
    from hub.pipeline import Hub

    try:
        hub = Hub.open(create=False)
        try:
            result = export(hub.engine, hub.vault, out_dir, actor=getpass.getuser(), fmt=fmt,
                            encoding="utf-8-sig" if excel else "utf-8", clear=clear, reason=reason,
                            which=table or TABLES)
        finally:
            hub.engine.dispose()
    except HubError as exc:
        raise _fail(exc) from None
    shown = folding_table("table", "file", "rows",
                          title=f"export of version {result.version} ({'CLEAR values' if result.clear else 'masked'})")
    for name, path in result.files.items():
        shown.add_row(name, source_text(path), f"{result.rows[name]:,}")
    console.print(shown)
    console.print(f"manifest: {source_text(out_dir / 'manifest.json')}; audit row {result.audit_id}; "
                  f"{result.seconds:.1f} s")
