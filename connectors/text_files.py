"""CSV, JSON and JSON Lines exports, in whatever encoding the department's system wrote them.

Encodings: Chinese office software writes GBK/GB2312 as often as UTF-8 (with or without BOM). We
decode every GB variant as GB18030, its superset: Python's gb2312 codec turns the middle dot of
"阿依古丽·买买提" (bytes A1A4) into U+30FB, and GBK lacks characters GB18030 has. Undecodable bytes
never abort a file: they are kept as escapes and reject only the row that holds them.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes

from connectors.base import RejectedRow
from connectors.tables import (
    AUTO_HEADER_SCAN,
    Item,
    MissingPart,
    Record,
    Table,
    UnreadableFile,
    find_header,
    has_invalid_bytes,
    name_columns,
    printable,
    rows_to_items,
)

__all__ = ["detect_encoding", "read_csv", "read_json", "read_jsonl"]

SAMPLE_BYTES = 256 * 1024
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "hz"}
# Han ideographs (with extension A), CJK punctuation, full-width forms, and the middle dot of names.
_CJK_RANGES = (("\u3400", "\u9fff"), ("\u3000", "\u303f"), ("\uff00", "\uffef"), ("\u00b7", "\u00b7"))
_OTHER_CJK = {"big5", "big5hkscs", "cp950", "cp949", "euc_kr", "euc_jp", "shift_jis", "cp932", "iso2022_jp"}


def read_sample(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(SAMPLE_BYTES)


def _decodes(sample: bytes, encoding: str) -> str | None:
    """The sample decoded strictly, tolerating a multibyte character cut at the sample's end."""
    try:
        return codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError:
        return None


def _reads_as_chinese(sample: bytes) -> bool:
    """GB18030 turns the sample into Han text, with at most a few undecodable bytes (bad rows)."""
    text = sample.decode("gb18030", errors="replace")
    wide = [c for c in text if ord(c) > 0x7F]
    han = sum(1 for c in wide if any(low <= c <= high for low, high in _CJK_RANGES))
    broken = text.count("\ufffd")
    if not han:
        return False
    return han >= 0.8 * (len(wide) - broken) and han >= 8 * broken and broken <= max(2, 0.02 * len(wide))


def detect_encoding(sample: bytes) -> str:
    """BOM first, then strict UTF-8, then charset-normalizer. Any GB answer becomes gb18030; so does a
    non-CJK guess (short GBK samples come back as Thai cp874) when GB18030 reads the bytes as Chinese."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _decodes(sample, "utf-8") is not None:
        return "utf-8"
    best = from_bytes(sample).best()
    guess = codecs.lookup(best.encoding).name if best is not None else None
    if guess in _GB_FAMILY:
        return "gb18030"
    if guess not in _OTHER_CJK and _reads_as_chinese(sample):
        return "gb18030"
    return guess or "gb18030"


def _choose_encoding(path: Path, setting: str) -> str:
    if setting == "auto":
        return detect_encoding(read_sample(path))
    name = codecs.lookup(setting).name
    return "gb18030" if name in _GB_FAMILY else name


def _sniff_delimiter(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, errors="surrogateescape", newline="") as handle:
        sample = handle.read(64 * 1024)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


def _csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str] | None]]:
    """(first physical line, cells) per record; cells None where the csv module gave up on a line."""
    with path.open(encoding=encoding, errors="surrogateescape", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        line = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error:
                cells = None
            yield line, cells
            line = reader.line_num + 1


def read_csv(path: Path, *, label: str, encoding: str, header_row: int | str, delimiter: str | None) -> Table:
    codec = _choose_encoding(path, encoding)
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff_delimiter(path, codec)
    scan = max(AUTO_HEADER_SCAN, header_row if isinstance(header_row, int) else 0)
    head = [cells or [] for _, cells in islice(_csv_rows(path, codec, delimiter), scan)]
    index = find_header(head, header_row)
    columns = name_columns(head[index]) if index is not None else []
    detail = {"encoding": codec, "header_row": None if index is None else index + 1, "delimiter": delimiter}

    def items() -> Iterator[Item]:
        if index is None:
            return
        rows = islice(_csv_rows(path, codec, delimiter), index + 1, None)
        for line, cells in rows:
            position = f"{label}line {line}"
            if cells is None:
                yield RejectedRow(position=position, reason="line cannot be parsed as CSV")
            else:
                yield from rows_to_items([(position, cells)], columns, encoding=codec)

    return Table(columns=columns, items=items(), detail=detail)


def _dig(document: Any, records_path: str | None) -> Any:
    for part in (records_path or "").split(".") if records_path else []:
        if not isinstance(document, dict) or part not in document:
            raise KeyError(part)
        document = document[part]
    return document


def _json_item(position: str, item: Any, encoding: str) -> Item:
    text = json.dumps(item, ensure_ascii=False)
    if not isinstance(item, dict):
        reason = f"item is a {type(item).__name__}, not an object"
        return RejectedRow(position=position, reason=reason, raw=printable(text))
    if has_invalid_bytes(text):
        reason = f"invalid bytes for encoding {encoding}"
        return RejectedRow(position=position, reason=reason, raw=printable(text))
    return Record(position=position, values=item)


def _union_of_keys(items: list[Any]) -> list[str]:
    return list(dict.fromkeys(k for item in items if isinstance(item, dict) for k in item))


def read_json(path: Path, *, label: str, encoding: str, records_path: str | None) -> Table:
    """A JSON document holding a list of objects, at `records_path` (dotted) or at the top."""
    codec = _choose_encoding(path, encoding)
    text = path.read_bytes().decode(codec, errors="surrogateescape")
    if not text.strip():
        return Table(columns=[], items=iter(()), detail={"encoding": codec})
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"not valid JSON (line {exc.lineno} column {exc.colno})") from None
    try:
        found = _dig(document, records_path)
    except KeyError as missing:
        raise MissingPart(f"records_path {records_path!r}: key {missing} not found") from None
    records = [found] if isinstance(found, dict) and records_path else found
    if not isinstance(records, list):
        raise UnreadableFile(f"expected a list of records, found a {type(records).__name__}")
    items = (_json_item(f"{label}item {n}", item, codec) for n, item in enumerate(records, start=1))
    return Table(columns=_union_of_keys(records), items=items, detail={"encoding": codec})


def _jsonl_items(path: Path, label: str, codec: str) -> Iterator[Item]:
    with path.open(encoding=codec, errors="surrogateescape") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            position = f"{label}line {line_number}"
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                reason = f"not valid JSON (column {exc.colno})"
                yield RejectedRow(position=position, reason=reason, raw=printable(line.rstrip("\n")))
                continue
            yield _json_item(position, item, codec)


def read_jsonl(path: Path, *, label: str, encoding: str) -> Table:
    codec = _choose_encoding(path, encoding)
    keys: dict[str, None] = {}
    for item in _jsonl_items(path, label, codec):
        if isinstance(item, Record):
            keys.update(dict.fromkeys(item.values))
    return Table(columns=list(keys), items=_jsonl_items(path, label, codec), detail={"encoding": codec})
