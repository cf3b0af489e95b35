"""File exports dropped by a department: CSV, Excel, JSON, JSON Lines; one file or a glob of them.

The watermark is a digest of the files' names and bytes: an unchanged export extracts nothing. Within
a run, batches before the last carry `<digest>#<records done>`, so a run that stops half way resumes
after the last landed batch instead of starting over; only the last batch carries the bare digest.
Every cell is text as the file shows it (no type guessing that would turn an ID number into a float);
a row that cannot be read becomes a RejectedRow with its line or sheet row, never an exception.
Every file is opened only after `confined_files` found it inside the sources folder or another
allowed root, links followed.
"""

from __future__ import annotations

import codecs
import glob
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from connectors.base import Batch, Column, RejectedRow, SourceSchema
from connectors.connection import Connection
from connectors.settings import ConnectorSettings, parse_settings
from connectors.spreadsheets import read_workbook
from connectors.tables import MissingPart, Record, Table, UnreadableFile
from connectors.text_files import read_csv, read_json, read_jsonl
from hub.errors import (
    ConfigurationError,
    ConnectorError,
    SourceDataError,
    SourceSchemaChanged,
    SourceUnavailable,
)

__all__ = ["FileConnector", "FileSettings", "confined_files"]

FileFormat = Literal["csv", "xlsx", "json", "jsonl"]
_SUFFIX_FORMATS: dict[str, FileFormat] = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv",
    ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xlsx", ".xlsb": "xlsx", ".ods": "xlsx",
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
}


class FileSettings(ConnectorSettings):
    """`path` is relative to the hub's data directory and may be a glob (`民政/低保_*.xlsx`)."""

    path: str
    format: FileFormat | None = None
    encoding: str = "auto"
    header_row: int | Literal["auto"] = Field(1)
    sheet: str | int | None = None
    delimiter: str | None = Field(None, min_length=1, max_length=1)
    columns: list[str] | None = None
    records_path: str | None = None

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        if value != "auto":
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @field_validator("header_row")
    @classmethod
    def _one_based(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError("header_row counts from 1")
        return value


class FileConnector:
    kind: ClassVar[str] = "file"
    reads_whole_source: ClassVar[bool] = True
    """An export is read whole whenever it changed: a record missing from it is gone from the source."""
    settings_model: ClassVar[type[FileSettings]] = FileSettings

    def __init__(
        self,
        source: str,
        settings: Mapping[str, Any],
        connection: Connection | None = None,
        *,
        batch_size: int = 5000,
        base_dir: Path | None = None,
        source_roots: Sequence[Path] = (),
    ):
        self.source = source
        self.settings = parse_settings(FileSettings, source, settings)
        self.base_dir = base_dir if base_dir is not None else Path.cwd()
        self.source_roots = tuple(source_roots)
        self.batch_size = batch_size

    def discover(self) -> SourceSchema:
        files = self._files()
        tables = [table for _, table in self._tables(files)]
        names = list(dict.fromkeys(name for table in tables for name in table.columns))
        for table in tables:
            self._require(table)
        detail: dict[str, Any] = {"files": [self._name(f) for f in files], "format": self._format(files[0])}
        detail.update({"encoding": None, "header_row": None, "sheet": None})
        if tables:
            detail.update(tables[0].detail)
        return SourceSchema(columns=tuple(Column(n) for n in names), detail=detail)

    def extract(self, watermark: str | None = None) -> Iterator[Batch]:
        files = self._files()
        digest = self._digest(files)
        if watermark == digest:
            return
        skip = _records_done(watermark, digest)
        rows: list[dict[str, Any]] = []
        positions: list[str] = []
        rejected: list[RejectedRow] = []
        done = 0
        for item in self._items(files):
            done += 1
            if done <= skip:
                continue
            if len(rows) + len(rejected) == self.batch_size:   # flushed only once more follows
                partial = f"{digest}#{done - 1}"
                yield Batch(rows=rows, watermark=partial, rejected=rejected, positions=positions)
                rows, positions, rejected = [], [], []
            if isinstance(item, RejectedRow):
                rejected.append(item)
            else:
                rows.append(self._select(item.values))
                positions.append(item.position)
        if rows or rejected or skip:
            yield Batch(rows=rows, watermark=digest, rejected=rejected, positions=positions)

    # -- helpers -------------------------------------------------------------------------------

    def _files(self) -> list[Path]:
        return confined_files(self.source, self.settings.path, base_dir=self.base_dir, roots=self.source_roots)

    def _name(self, path: Path) -> str:
        return _shown_name(path, self.base_dir)

    def _format(self, path: Path) -> FileFormat:
        if self.settings.format:
            return self.settings.format
        if path.suffix.lower() in _SUFFIX_FORMATS:
            return _SUFFIX_FORMATS[path.suffix.lower()]
        raise ConfigurationError(
            f"source {self.source!r}: cannot tell the format of {path.name!r}; set settings.format"
        )

    def _tables(self, files: Sequence[Path]) -> Iterator[tuple[str, Table]]:
        s = self.settings
        for path in files:
            name = self._name(path)
            label = f"{name} " if len(files) > 1 else ""
            with self._translated(name):
                if path.stat().st_size == 0:
                    continue
                fmt = self._format(path)
                if fmt == "csv":
                    yield name, read_csv(
                        path, label=label, encoding=s.encoding, header_row=s.header_row, delimiter=s.delimiter
                    )
                elif fmt == "xlsx":
                    for table in read_workbook(path, label=label, sheet=s.sheet, header_row=s.header_row):
                        yield name, table
                elif fmt == "json":
                    yield name, read_json(path, label=label, encoding=s.encoding, records_path=s.records_path)
                else:
                    yield name, read_jsonl(path, label=label, encoding=s.encoding)

    def _items(self, files: Sequence[Path]) -> Iterator[Record | RejectedRow]:
        for name, table in self._tables(files):
            self._require(table)
            with self._translated(name):
                yield from table.items

    @contextmanager
    def _translated(self, name: str) -> Iterator[None]:
        """Reader failures as the hub's errors, naming the source and the file."""
        try:
            yield
        except UnreadableFile as exc:
            raise SourceDataError(self.source, f"{name}: {exc}") from None
        except MissingPart as exc:
            raise SourceSchemaChanged(self.source, f"{name}: {exc}") from None
        except OSError as exc:
            raise SourceUnavailable(self.source, f"{name}: cannot be read ({type(exc).__name__})") from None

    def _require(self, table: Table) -> None:
        if not self.settings.columns or not table.columns:
            return
        missing = [c for c in self.settings.columns if c not in table.columns]
        if missing:
            where = f" of sheet {table.detail['sheet']!r}" if table.detail.get("sheet") else ""
            message = f"column {missing[0]!r} (settings.columns) not in the header{where}"
            raise SourceSchemaChanged(self.source, message)

    def _select(self, values: dict[str, Any]) -> dict[str, Any]:
        wanted = self.settings.columns
        if not wanted:
            return values
        picked = {name: values.get(name) for name in wanted}
        if "_sheet" in values:
            picked["_sheet"] = values["_sheet"]
        return picked

    def _digest(self, files: Sequence[Path]) -> str:
        total = hashlib.sha256()
        for path in files:
            with path.open("rb") as handle:
                content = hashlib.file_digest(handle, "sha256").hexdigest()
            total.update(f"{self._name(path)}\0{content}\0".encode())
        return f"sha256:{total.hexdigest()}"


def confined_files(source: str, written: str, *, base_dir: Path, roots: Sequence[Path] = ()) -> list[Path]:
    """The files `written` names (relative to `base_dir`, or absolute; a glob may match several), each
    with its links followed, refused unless it lies inside `base_dir` or one of `roots`.

    The one gate every file source passes before a byte is read (ingest, `hub mappings suggest`,
    `check`, `preview`): a mapping is a text file, and without it `path: /etc/passwd`, `../../x.csv`
    or a link dropped into the sources folder would land, and echo, any file the hub's user can read.
    Confinement is checked before existence, so a refused path reveals nothing about what is there:
    of a glob, the folder its wildcards start in is checked before anything is listed (`/etc/pass*`
    and `/etc/nonexistent*` get the same answer), and a match that leads out through a link is named
    by its own name inside the allowed folders, never by its target or what lies beyond it.
    The paths returned are the resolved ones: what was checked is what gets opened.
    """
    allowed = [root.resolve() for root in (base_dir, *roots)]
    refused = ConnectorError(source, f"path {written!r} {_outside(allowed)}")
    if not glob.has_magic(written):
        real = _resolved(base_dir / written)   # an absolute `written` stands on its own
        if real is None or not _inside(real, allowed):
            raise refused
        if not real.is_file():
            raise SourceUnavailable(source, f"file {written!r} not found")
        return [real]
    parts = Path(written).parts
    first_magic = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    literal, wildcards = Path(*parts[:first_magic]), parts[first_magic:]
    folder = _resolved(base_dir / literal)
    if folder is None or not _inside(folder, allowed):
        raise refused
    if ".." in wildcards:   # `exports/*/../../..` climbs out of the folder checked above
        raise ConnectorError(source, f"path {written!r} has '..' after a wildcard: write the folder it "
                                     "means before the first wildcard, without '..'")
    found = []
    for match in sorted(glob.glob(str(Path(*wildcards)), root_dir=folder, recursive=True)):
        steps = Path(match).parts
        out = _steps_to_outside(folder, steps, allowed)
        if out is not None:   # named as far as it lies inside: a linked folder, not the files beyond it
            which = str(literal.joinpath(*steps[:out]))
            raise ConnectorError(source, f"path {written!r} matches {which!r}, which {_outside(allowed)}")
        real = folder.joinpath(*steps).resolve()
        if real.is_file():
            found.append(real)
    if not found:
        raise SourceUnavailable(source, f"no file matches {written!r}")
    return found


def _resolved(path: Path) -> Path | None:
    """`path` with its links followed, or None when they cannot be (a loop): such a path is refused."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return None


def _steps_to_outside(folder: Path, steps: Sequence[str], allowed: Sequence[Path]) -> int | None:
    """How many of `steps` below `folder` it takes to leave the allowed folders through a link, if any."""
    for depth in range(1, len(steps) + 1):
        real = _resolved(folder.joinpath(*steps[:depth]))
        if real is None or not _inside(real, allowed):
            return depth
    return None


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path.is_relative_to(root) for root in roots)


def _outside(roots: Sequence[Path]) -> str:
    listed = ", ".join(str(root) for root in roots)
    return (f"leads outside the folders file sources are read from ({listed}), links followed: move the file "
            "into HUB_SOURCES_DIR, or add its folder to HUB_SOURCE_ROOTS")


def _shown_name(path: Path, base_dir: Path) -> str:
    """A file's name relative to the sources folder (what watermarks and messages carry), else its name."""
    for base in (base_dir, base_dir.resolve()):
        try:
            return str(path.relative_to(base))
        except ValueError:
            continue
    return path.name


def _records_done(watermark: str | None, digest: str) -> int:
    if watermark and watermark.startswith(digest + "#"):
        tail = watermark[len(digest) + 1 :]
        return int(tail) if tail.isdigit() else 0
    return 0
