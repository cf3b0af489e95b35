"""Where a new source is and how to read it: the connector settings a draft mapping starts from.

A file is read with encoding and header detection on; a workbook whose sheets share one header is
read whole (`sheet: "*"`); the title row above a header becomes the draft's title. A database table
gives its primary key and column comments; an API endpoint is probed once for where its records
are, how it pages and which parameter asks for changes since a time.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from python_calamine import CalamineWorkbook

from connectors.connection import Connection, sqlalchemy_url
from connectors.files import confined_files
from connectors.registry import create_connector
from connectors.spreadsheets import read_workbook
from connectors.text_files import read_csv
from hub.errors import ConfigurationError
from hub.onboard.sample import DEFAULT_ROWS, Sample, read_sample

_RECORD_KEYS = ("data", "items", "records", "rows", "list", "results", "result", "content")
_SIZE_KEYS = ("page_size", "pageSize", "per_page", "size", "limit")
_SINCE_PARAMS = ("modified_since", "updated_since", "updated_after", "modified_after", "since", "start_time",
                 "updatedSince", "modifiedSince")
_FAR_FUTURE = "2999-01-01T00:00:00"
PAGE_SIZE = 500


@dataclass
class SourceRef:
    """A source to onboard: connector kind and settings, the connection's name, and what was learnt."""

    kind: str
    settings: dict[str, Any]
    label: str
    connection_name: str | None = None
    connection: Connection | None = field(default=None, repr=False)
    base_dir: Path | None = None
    source_roots: tuple[Path, ...] = ()
    title: str = ""
    keys: list[str] = field(default_factory=list)           # primary key of a table
    comments: dict[str, str] = field(default_factory=dict)  # column comments of a table
    notes: dict[str, str] = field(default_factory=dict)     # setting → how it was found

    def sample(self, rows: int = DEFAULT_ROWS) -> Sample:
        connector = create_connector(self.kind, "onboarding", self.settings, self.connection,
                                     batch_size=max(1, rows), base_dir=self.base_dir, source_roots=self.source_roots)
        return read_sample(connector, rows)


def _first_cell(columns: list[str]) -> str:
    filled = [c for c in columns if c and not c.startswith("column_")]
    return filled[0] if len(filled) == 1 else ""


def locate_file(path: str | Path, *, base_dir: Path, source_roots: Sequence[Path] = (),
                sheet: str | None = None) -> SourceRef:
    """A file export named on the command line: as given (relative to the working folder) when it is
    there, else relative to `base_dir` (HUB_SOURCES_DIR). It must lie inside `base_dir` or one of
    `source_roots`, as ingest will require: a draft pointing elsewhere could never be ingested, and
    onboarding must not become a way to read files the mappings may not."""
    given = Path(path)
    written = str(given.absolute()) if not given.is_absolute() and given.exists() else str(given)
    files = confined_files("onboarding", written, base_dir=base_dir, roots=source_roots)
    file = files[0]   # of a glob, the first file stands for all
    shown = written if glob.has_magic(written) else str(file)
    if not glob.has_magic(written) and file.is_relative_to(base_dir.resolve()):
        shown = str(file.relative_to(base_dir.resolve()))
    notes: dict[str, str] = {}
    settings: dict[str, Any] = {"path": shown}
    title = ""
    suffix = file.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
        book = CalamineWorkbook.from_path(str(file))
        names = list(book.sheet_names)
        book.close()
        tables = read_workbook(file, label="", sheet="*", header_row="auto")
        headers = [[c for c in t.columns if c != "_sheet"] for t in tables]
        if sheet is None and len(names) > 1 and all(h == headers[0] for h in headers):
            settings["sheet"] = "*"
            notes["sheet"] = f"sheets {', '.join(names)} share one header: all are read, `_sheet` names each row's"
        elif sheet is not None or len(names) > 1:
            settings["sheet"] = sheet or names[0]
            if len(names) > 1:
                notes["sheet"] = f"the workbook has sheets {', '.join(names)} with different headers"
        chosen = settings.get("sheet", names[0])
        rows = {t.detail["sheet"]: t.detail.get("header_row") for t in tables}
        found = sorted({r for r in rows.values() if r})
        first = rows.get(chosen if chosen != "*" else names[0])
        if first and first > 1:
            title = _first_cell(read_workbook(file, label="", sheet=names[0], header_row=1)[0].columns)
        settings["header_row"] = "auto" if chosen == "*" and len(found) > 1 else (first or 1)
        notes["header_row"] = (f"header found on row {' / '.join(map(str, found))}" if found != [1]
                               else "header on row 1")
        if settings["header_row"] == 1:
            del settings["header_row"]
    elif suffix in (".csv", ".tsv", ".txt"):
        table = read_csv(file, label="", encoding="auto", header_row="auto", delimiter=None)
        settings["encoding"] = "auto"
        notes["encoding"] = f"detected {table.detail['encoding']}"
        header = table.detail.get("header_row") or 1
        if header > 1:
            settings["header_row"] = header
            title = _first_cell(read_csv(file, label="", encoding="auto", header_row=1, delimiter=None).columns)
        notes["header_row"] = f"header found on row {header}"
    else:
        settings["encoding"] = "auto"
    return SourceRef("file", settings, file.name, base_dir=base_dir, source_roots=tuple(source_roots), title=title,
                     notes=notes)


def locate_sql(connection: Connection, *, connection_name: str, table: str | None = None,
               query: str | None = None) -> SourceRef:
    """A table (primary key, comments read from the database) or a query of a SQL database."""
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    if (table is None) == (query is None):
        raise ConfigurationError("give a table or a query (not both)")
    settings: dict[str, Any] = {"table": table} if table else {"query": " ".join(str(query).split())}
    ref = SourceRef("sql", settings, table or "query", connection_name, connection)
    if table:
        engine = sa.create_engine(sqlalchemy_url(connection), poolclass=NullPool)
        try:
            inspector = sa.inspect(engine)
            ref.keys = list(inspector.get_pk_constraint(table).get("constrained_columns") or [])
            ref.comments = {c["name"]: str(c.get("comment")) for c in inspector.get_columns(table) if c.get("comment")}
            ref.title = (inspector.get_table_comment(table) or {}).get("text") or ""
        except (sa.exc.SQLAlchemyError, NotImplementedError):
            pass
        finally:
            engine.dispose()
    return ref


def _records(body: Any) -> tuple[str | None, list[Any]]:
    if isinstance(body, list):
        return None, body
    if isinstance(body, dict):
        keys = sorted(body, key=lambda k: (k not in _RECORD_KEYS, _RECORD_KEYS.index(k) if k in _RECORD_KEYS else 0))
        for key in keys:
            value = body[key]
            if isinstance(value, list) and (not value or isinstance(value[0], dict)):
                return key, value
    return None, []


def locate_http(target: str, *, connection: Connection | None, connection_name: str | None) -> SourceRef:
    """An endpoint: `target` is a full URL or a path under the connection's URI (query string → params)."""
    parts = urlsplit(target)
    base = f"{parts.scheme}://{parts.netloc}" if parts.scheme else (connection.uri if connection else None)
    if not base:
        raise ConfigurationError("an API path needs --connection (or give a full http:// URL)")
    settings: dict[str, Any] = {"path": parts.path}
    params = dict(parse_qsl(parts.query))
    if params:
        settings["params"] = params
    if connection is None:
        connection = Connection(uri=base)
    headers = {"Authorization": f"Bearer {connection.secret}"} if connection.secret else {}
    ref = SourceRef("http", settings, parts.path.rstrip("/").rsplit("/", 1)[-1] or "api", connection_name, connection)
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        def get(extra: dict[str, Any]) -> Any:
            response = client.get(parts.path, params={**params, **extra})
            if response.status_code == 401:
                raise ConfigurationError(f"{parts.path}: 401 unauthorized (the connection needs a token)")
            response.raise_for_status()
            return response.json()

        body = get({})
        path, records = _records(body)
        if path:
            settings["records_path"] = path
        if isinstance(body, dict) and "page" in body and (size_key := next((k for k in _SIZE_KEYS if k in body),
                                                                            None)):
            try:
                get({size_key: PAGE_SIZE})
                size = PAGE_SIZE
            except httpx.HTTPStatusError:   # the API caps the page size: keep its own
                size = body[size_key]
            settings["pagination"] = {"type": "page", "page_param": "page", "size_param": size_key, "size": size}
            ref.notes["pagination"] = f"answers carry page and {size_key}"
        if connection.secret:
            settings["auth"] = {"type": "bearer"}
        _probe_incremental(ref, get, records)
    return ref


def _probe_incremental(ref: SourceRef, get: Any, records: list[Any]) -> None:
    """Find the parameter asking for rows changed since a time: with a far-future value, nothing comes back."""
    from hub.onboard.dictionary import match_header

    if not records or not isinstance(records[0], dict):
        return
    field_name = next((k for k in records[0] if any(str(t) == "cursor" for m in match_header(k)
                                                     for t in m.entry.targets)), None)
    if field_name is None:
        return
    for param in _SINCE_PARAMS:
        try:
            _, found = _records(get({param: _FAR_FUTURE}))
        except httpx.HTTPError:
            continue
        if not found:
            values = [str(r.get(field_name) or "") for r in records]
            ref.settings["incremental"] = {"param": param, "field": field_name, "ordered": values == sorted(values)}
            ref.notes["incremental"] = f"{param}={_FAR_FUTURE[:10]} returns nothing, so it filters on {field_name}"
            return
