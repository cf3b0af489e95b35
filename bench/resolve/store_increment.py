"""Incremental resolution through the store: `hub resolve` after 1% of the source records changed.

    python -m bench.resolve.store_increment --residents 100000 --runs 3 [--share 0.01]

Each run copies the benchmark's ingested district store (bench.resolve.data), then
1. times a full resolution of persons (`resolve_type(..., full=True)`: reading and decrypting the
   statements, the engine, ids, links, and the resolved state it leaves);
2. changes `share` of the source records that hold persons: a new phone number where the record has
   one, else another value of an unmapped column. The new versions land exactly as an ingest lands
   them (prepare_batch / write_batch: new raw records, statements, one transaction per source);
3. times the person resolution after it (an increment from the kept state);
4. with `--verify`, resolves everything again (`full=True`, untimed) and counts the records whose entity
   differs from what the increment decided.
Prints the medians and each run as JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from bench.resolve.data import ROOT, ensure_store
from connectors.base import Batch
from hub.ingest.landing import prepare_batch, write_batch
from hub.pipeline import Hub
from hub.resolve.runner import resolve_type
from hub.settings import HubSettings
from hub.store import tables

PHONE = "phone"


def _open(home: Path) -> Hub:
    return Hub.open(HubSettings(home=home, mappings_dir=ROOT / "mappings"))


def change_records(hub: Hub, share: float, seed: int) -> int:
    """Land a new version of `share` of the person-bearing source records; returns how many changed."""
    rng = np.random.default_rng(seed)
    specs = {spec.source: spec for spec in hub.mappings()
             if any(entity.type == "person" for entity in spec.entities.values())}
    raw = tables.raw_record.c
    changed = 0
    with hub.engine.connect() as conn:
        latest = conn.execute(sa.select(raw.source, raw.source_record_id, sa.func.max(raw.extracted_at))
                              .where(raw.source.in_(list(specs))).group_by(raw.source, raw.source_record_id)).all()
    picked = [(s, r) for s, r, _ in latest if rng.random() < share]
    by_source: dict[str, list[str]] = {}
    for source, record_id in picked:
        by_source.setdefault(source, []).append(record_id)
    for source, record_ids in sorted(by_source.items()):
        spec = specs[source]
        phone_fields = [field.column for entity in spec.entities.values() if entity.type == "person"
                        for attribute, field in entity.fields.items() if attribute == PHONE and field.column]
        with hub.engine.connect() as conn:
            payloads = conn.execute(sa.select(raw.source_record_id, raw.payload, raw.extracted_at).where(
                raw.source == source, raw.source_record_id.in_(record_ids))).all()
        newest: dict[str, tuple[datetime, bytes]] = {}
        for record_id, payload, at in payloads:
            if record_id not in newest or at > newest[record_id][0]:
                newest[record_id] = (at, payload)
        rows = []
        for _, payload in newest.values():
            row = json.loads(hub.vault.decrypt(payload))
            field = next((f for f in phone_fields if f in row), None)
            if field is not None:
                row[field] = f"139{rng.integers(0, 10**8):08d}"
            else:
                row["_bench_revision"] = str(uuid.uuid4())
            rows.append(row)
        with hub.engine.begin() as conn:
            prepared = prepare_batch(conn, spec, Batch(rows), run_id=uuid.uuid4().hex, now=datetime.now(UTC),
                                     vault=hub.vault)
            write_batch(conn, prepared)
        changed += len(rows)
    return changed


def one_run(home: Path, work: Path, share: float, seed: int, verify: bool = False) -> dict[str, Any]:
    copy = work / "store"
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir(parents=True)
    for name in ("hub.db", "hub.key"):
        shutil.copy(home / name, copy / name)
    hub = _open(copy)
    state_dir = copy / "state"
    started = time.perf_counter()
    full = resolve_type(hub.engine, hub.vault, "person", full=True, state_dir=state_dir)
    full_s = time.perf_counter() - started
    changed = change_records(hub, share, seed)
    started = time.perf_counter()
    increment = resolve_type(hub.engine, hub.vault, "person", state_dir=state_dir)
    increment_s = time.perf_counter() - started
    check: dict[str, Any] = {}
    if verify:
        again = resolve_type(hub.engine, hub.vault, "person", full=True, state_dir=state_dir)
        check = {"full_rerun_links_changed": again.links_written, "full_rerun_changes": again.changes}
    hub.engine.dispose()
    return {"records": full.records, "changed_source_records": changed, "full_s": round(full_s, 2),
            "increment_s": round(increment_s, 2), "share_of_full": round(increment_s / full_s, 4),
            "increment_mode": increment.mode, "increment_records": increment.records,
            "increment_stats": {k: v for k, v in increment.stats.items() if k != "blocking"},
            "increment_changes": increment.changes, **check}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--share", type=float, default=0.01)
    parser.add_argument("--verify", action="store_true", help="compare each increment with a full re-run")
    args = parser.parse_args()
    home = ensure_store(args.residents, args.seed)
    runs = []
    with tempfile.TemporaryDirectory(prefix="store-increment-") as tmp:
        for k in range(args.runs):
            runs.append(one_run(home, Path(tmp), args.share, seed=k, verify=args.verify))
            print(json.dumps(runs[-1], ensure_ascii=False), flush=True)
    summary = {key: statistics.median(r[key] for r in runs) for key in ("full_s", "increment_s", "share_of_full")}
    print(json.dumps({"residents": args.residents, "runs": len(runs), "median": summary}, ensure_ascii=False))


if __name__ == "__main__":
    main()
