"""Writing an export's tables batch by batch, as CSV or Parquet, atomically.

Each table is written under a temporary name beside its final one, in a private (0600) file, and renamed only
when every table of the export is complete: a reader never sees half an export, and a failed export leaves
nothing but removed temporaries. Parquet needs pyarrow, which the hub does not install: it is offered when
pyarrow can be imported, and asked for without it the export stops before reading anything.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, Protocol

import pandas as pd

from hub.errors import ConfigurationError

Format = Literal["csv", "parquet"]
Encoding = Literal["utf-8", "utf-8-sig"]
SUFFIX = {"csv": ".csv", "parquet": ".parquet"}


def parquet_available() -> bool:
    return importlib.util.find_spec("pyarrow") is not None


def require_format(fmt: str) -> Format:
    """`fmt` when this installation can write it; a ConfigurationError saying what to do otherwise."""
    if fmt == "csv":
        return "csv"
    if fmt == "parquet":
        if not parquet_available():
            raise ConfigurationError("Parquet needs pyarrow, which the hub does not install: `pip install pyarrow` "
                                     "into the hub's virtualenv, or export as CSV (--format csv)")
        return "parquet"
    raise ConfigurationError(f"unknown export format {fmt!r}: csv or parquet")


class TableFile(Protocol):
    rows: int

    def write(self, frame: pd.DataFrame) -> None: ...
    def close(self) -> None: ...


def _private(path: Path) -> int:
    path.unlink(missing_ok=True)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)


class CsvFile:
    """A CSV file appended a batch at a time; `utf-8-sig` puts a byte-order mark first, which Excel needs to
    read UTF-8 Chinese text instead of guessing the system's code page (GBK on a Chinese Windows)."""

    def __init__(self, path: Path, columns: Iterable[str], encoding: Encoding):
        self.rows = 0
        self._handle = os.fdopen(_private(path), "w", encoding=encoding, newline="")
        pd.DataFrame(columns=list(columns)).to_csv(self._handle, index=False)

    def write(self, frame: pd.DataFrame) -> None:
        frame.to_csv(self._handle, index=False, header=False)
        self.rows += len(frame)

    def close(self) -> None:
        self._handle.close()


ARROW_TYPES = {"statements": "int64", "sources": "int64", "score": "float64", "chosen": "bool",
               "last_seen": "timestamp"}
"""Parquet column types other than text."""


class ParquetFile:
    """A Parquet file with one row group per batch, all batches under one fixed schema."""

    def __init__(self, path: Path, columns: Iterable[str]):
        import pyarrow as pa
        import pyarrow.parquet as pq

        kinds = {"int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_(),
                 "timestamp": pa.timestamp("us", tz="UTC")}
        self._pa = pa
        self._schema = pa.schema([(c, kinds[ARROW_TYPES[c]] if c in ARROW_TYPES else pa.string()) for c in columns])
        self.rows = 0
        self._handle = os.fdopen(_private(path), "wb")
        self._writer: Any = pq.ParquetWriter(self._handle, self._schema)

    def write(self, frame: pd.DataFrame) -> None:
        if "last_seen" in frame.columns:
            frame = frame.assign(last_seen=pd.to_datetime(frame["last_seen"], utc=True))
        self._writer.write_table(self._pa.Table.from_pandas(frame, schema=self._schema, preserve_index=False))
        self.rows += len(frame)

    def close(self) -> None:
        self._writer.close()
        self._handle.close()


def partial_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


def open_table(path: Path, columns: Iterable[str], fmt: Format, encoding: Encoding) -> TableFile:
    """A writer into the temporary file of `path`; `publish_files` renames it once all tables are done."""
    partial = partial_path(path)
    return CsvFile(partial, columns, encoding) if fmt == "csv" else ParquetFile(partial, columns)


def publish_files(paths: Iterable[Path]) -> None:
    """Rename every finished temporary file onto its final name."""
    for path in paths:
        os.replace(partial_path(path), path)


def discard_files(paths: Iterable[Path]) -> None:
    for path in paths:
        partial_path(path).unlink(missing_ok=True)
