"""`hub export`: the record → entity links, golden records and conflicts between departments as files.

What an operator hands to an analyst or another system instead of a hand-written query of record_link:
links.csv (every source record resolution linked, with its canonical id, per entity type), golden.csv (each
active entity's golden values at the published version), conflicts.csv (each department's claim where they
disagree), and manifest.json (version, time, columns, row counts, masked or clear).

Values are masked as the operator sees them at the command line (`present` at clearance internal: ID numbers
and phones masked, sensitive values withheld). Clear values need `clear=True` AND a reason; the export is
audited (hub.audit, actor = the operator, purpose = the reason) before any file is written, so a failed audit
write fails the export, and the run table records it (stage "export"). The manifest keeps a hash of the
reason, never its text: the files may travel further than the audit log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

import schemas
from hub.access.keys import AccessKeys
from hub.access.policy import Policy
from hub.audit import AuditEntry, AuditValueError, append, seal
from hub.errors import ConfigurationError, HubError
from hub.export import files, frames
from hub.export.files import Encoding, Format, parquet_available, require_format
from hub.private_files import make_private_dir, write_private_text
from hub.protect import Vault
from hub.publish import STAGE as PUBLISH_STAGE
from hub.publish import up_to_date
from hub.store import runs, tables
from hub.store.runs import failure_text

log = logging.getLogger(__name__)

STAGE, SOURCE, ACTION = "export", "all", "hub export"
TABLES = ("links", "golden", "conflicts")
WRITERS_OF_LINKS = ("resolve", "fuse")
"""Run stages that change record_link and the fusion tables an export reads beside the read model."""


class ExportRefused(HubError):
    """The store is not in a state an export can describe whole (nothing published, fusion newer than it)."""


@dataclass
class ExportResult:
    out_dir: Path
    version: int
    clear: bool
    files: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    audit_id: int = 0
    run_id: str = ""
    seconds: float = 0.0


def reason_hash(reason: str) -> str:
    """What the manifest keeps of a clear export's reason: enough to match it with the audit row, not the text."""
    return "sha256:" + hashlib.sha256(reason.strip().encode("utf-8")).hexdigest()


def published_version(engine: Engine) -> int:
    """The version to export: the latest publication, when it holds what resolution and fusion last wrote.

    Refused when nothing is published, the last publication failed or was interrupted, or a resolution or
    fusion run that changed rows (or is still running) started after it: record_link and the conflict table
    would then describe another state than the published golden values."""
    version = up_to_date(engine)
    if version is None:
        raise ExportRefused("no publication holds the current resolution (none yet, or the last one failed or was "
                            "interrupted): run `hub resolve`, then export")
    r = tables.run.c
    with engine.connect() as conn:
        published_at = conn.execute(sa.select(sa.func.max(r.started_at)).where(
            r.stage == PUBLISH_STAGE, r.status == "succeeded")).scalar()
        newer = 0 if published_at is None else conn.execute(sa.select(sa.func.count()).where(
            r.stage.in_(WRITERS_OF_LINKS), r.started_at > published_at,
            sa.or_(r.status == runs.RUNNING, sa.and_(r.status == "succeeded", r.loaded > 0)))).scalar()
    if newer:
        raise ExportRefused("a resolution changed links after the last publication, or is running: wait for "
                            "`hub resolve` to finish (it publishes), then export")
    return version


def _audit(engine: Engine, vault: Vault, actor: str, reason: str | None, detail: dict[str, object]) -> int:
    """The export's audit row, sealed, before any file exists: a clear export names its reason as purpose
    and in the detail, where `hub audit log` shows it."""
    policy = Policy.operator(actor, purpose=reason.strip() if reason else ACTION)
    if reason:
        policy = replace(policy, clearance=schemas.Sensitivity.highly_sensitive)
    try:
        with engine.begin() as conn:
            log_id = append(conn, AuditEntry.of(policy, ACTION, detail={**detail, "reason": reason.strip()
                                                                        if reason else None}))
    except AuditValueError:
        raise ConfigurationError("the reason looks like a resident ID or phone number: say why in words "
                                 "(the audit log never holds such numbers)") from None
    seal(engine, AccessKeys.from_vault(vault))
    return log_id


def _sources(engine: Engine, version: int, vault: Vault, clearance: schemas.Sensitivity
             ) -> dict[str, Callable[[sa.Connection], Iterator[pd.DataFrame]]]:
    return {"links": frames.links,
            "golden": lambda conn: frames.golden(conn, version, vault, clearance),
            "conflicts": lambda conn: frames.conflicts(conn, version, vault, clearance)}


def export(engine: Engine, vault: Vault, out_dir: Path, *, actor: str, fmt: str = "csv",
           encoding: Encoding = "utf-8", clear: bool = False, reason: str | None = None,
           which: Sequence[str] = TABLES, progress: Callable[[str, int], None] | None = None) -> ExportResult:
    """Write the tables `which` of the published version into `out_dir`, masked unless `clear` with a reason.

    Files are private (0600), written batch by batch under temporary names and renamed together at the end,
    then the manifest; an existing export of the same names in `out_dir` is replaced only then.
    """
    started = time.perf_counter()
    form: Format = require_format(fmt)
    if clear and not (reason and reason.strip()):
        raise ConfigurationError("clear values need a reason: --clear --reason '…' (it is written to the audit log)")
    if reason and not clear:
        raise ConfigurationError("--reason goes with --clear: a masked export needs no reason")
    unknown = sorted(set(which) - set(TABLES))
    if unknown:
        raise ConfigurationError(f"unknown export table(s) {', '.join(unknown)}: choose from {', '.join(TABLES)}")
    version = published_version(engine)
    clearance = schemas.Sensitivity.highly_sensitive if clear else schemas.Sensitivity.internal
    result = ExportResult(Path(out_dir), version, clear)
    detail: dict[str, object] = {"version": version, "tables": list(which), "format": form,
                                 "values": "clear" if clear else "masked"}
    result.audit_id = _audit(engine, vault, actor, reason if clear else None, detail)
    run = runs.start_run(engine, STAGE, SOURCE)
    result.run_id = run.id
    if clear:
        log.warning("hub export: clear values of version %d by %s, audit row %d, run %s", version, actor,
                    result.audit_id, run.id)
    paths = {name: Path(out_dir) / f"{name}{files.SUFFIX[form]}" for name in which}
    try:
        make_private_dir(Path(out_dir))
        sources = _sources(engine, version, vault, clearance)
        with engine.connect() as conn:
            for name in which:
                table = files.open_table(paths[name], frames.COLUMNS[name], form, encoding)
                try:
                    for frame in sources[name](conn):
                        table.write(frame)
                        if progress is not None:
                            progress(name, len(frame))
                finally:
                    table.close()
                result.rows[name] = table.rows
        files.publish_files(paths.values())
        result.files = dict(paths)
        manifest = _manifest(result, form, encoding, which, reason)
        write_private_text(Path(out_dir) / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    except BaseException as exc:
        files.discard_files(paths.values())
        with engine.begin() as conn:
            runs.finish_run(conn, run.id, "failed", error=failure_text(exc))
        raise
    total = sum(result.rows.values())
    with engine.begin() as conn:
        runs.finish_run(conn, run.id, "succeeded", extracted=total, loaded=total,
                        watermark_after=_run_note(result, reason))
    result.seconds = time.perf_counter() - started
    return result


def _run_note(result: ExportResult, reason: str | None) -> str:
    """What the run row keeps of an export (in its watermark column, the point an export reached): the version,
    masked or clear, and for a clear one the reason's hash and the audit row that holds the reason."""
    values = f"clear, reason {reason_hash(reason)}" if result.clear and reason else "masked"
    return f"version {result.version}; {values}; audit row {result.audit_id}"


def _manifest(result: ExportResult, form: Format, encoding: Encoding, which: Sequence[str],
              reason: str | None) -> dict[str, object]:
    return {
        "exported": "published read model",
        "version": result.version,
        "at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "format": form,
        "encoding": encoding if form == "csv" else None,
        "values": "clear" if result.clear else "masked",
        "reason_sha256": reason_hash(reason) if result.clear and reason else None,
        "audit_row": result.audit_id,
        "run_id": result.run_id,
        "tables": {name: {"file": result.files[name].name, "rows": result.rows[name],
                          "columns": list(frames.COLUMNS[name])} for name in which},
        "sources": {"links": "record_link (resolution)", "golden": "pub_value at version",
                    "conflicts": "pub_claim at version, for the (entity, attribute) pairs of the conflict table"},
    }


__all__ = ["TABLES", "ExportRefused", "ExportResult", "export", "parquet_available", "published_version",
           "reason_hash"]
