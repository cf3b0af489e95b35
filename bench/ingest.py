"""Ingest benchmark: land and normalize about 1,000,000 department records, median of several runs.

    python -m bench.ingest [--records 1000000] [--runs 3] [--store postgres|sqlite|both]

The simulated district is sized to give the requested number of source records over all thirteen
sources (公安/人社 in SQLite files, 民政 files, 物业 over HTTP from a separate process) and is cached
under var/bench/. Each run starts from an empty store and runs in a fresh process (bench.ingest_worker),
whose wall time and peak RSS (wait4: the largest of the process and its workers) are measured. The
baseline, measured in the same session, is the connectors alone reading every source without landing
anything: the floor any ingest stands on. The table goes to bench/results/ingest-<records>.md (or --out);
bench/results/ingest.md is the curated history, with what changed between measurements.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from hub.demo import generate_district, load_manifest, write_connections_file

ROOT = Path(__file__).resolve().parents[1]
RECORDS_PER_RESIDENT = 3.63   # measured on seed 7: sum of all sources' records / residents
PG_ADMIN = os.environ.get("HUB_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def district(records: int) -> Any:
    residents = int(records / RECORDS_PER_RESIDENT)
    out = ROOT / "var" / "bench" / f"district-{residents}"
    if (out / "manifest.json").exists():
        return load_manifest(out)
    print(f"generating {residents:,} residents into {out} …", flush=True)
    return generate_district(out, residents=residents, seed=7, gongan_url=f"sqlite:///{out / 'gongan.db'}",
                             renshe_url=f"sqlite:///{out / 'renshe.db'}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_property_api(manifest: Any, port: int) -> subprocess.Popen[bytes]:
    code = ("import sys; from pathlib import Path; from hub.demo import serve_property_api; "
            "serve_property_api(Path(sys.argv[1]), sys.argv[2], port=int(sys.argv[3]))")
    process = subprocess.Popen([sys.executable, "-c", code, str(manifest.property_db), manifest.property_token,
                                str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the property API did not start")


def fresh_store(kind: str, workdir: Path) -> tuple[str, Any]:
    if kind == "sqlite":
        path = workdir / f"hub-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{path}", lambda: [p.unlink() for p in workdir.glob(path.name + "*")]
    schema = f"hub_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))

    return f"{PG_ADMIN}?options=-csearch_path%3D{schema}", drop


def measured(mode: str, workers: int, env: dict[str, str]) -> dict[str, Any]:
    """Run the worker, return its JSON plus wall seconds and peak RSS in MB (from wait4)."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "bench.ingest_worker", mode, str(workers)], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{mode} worker failed with exit code {process.returncode}")
    result: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - started
    result["peak_mb"] = usage.ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--store", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--workers", default="2", help="comma-separated worker counts to measure, e.g. 1,2")
    parser.add_argument("--out", type=Path, help="default: bench/results/ingest-<records>.md")
    args = parser.parse_args()
    args.out = args.out or ROOT / "bench" / "results" / f"ingest-{args.records}.md"

    manifest = district(args.records)
    total = sum(manifest.record_counts.values())
    port = free_port()
    api = serve_property_api(manifest, port)
    rows: list[str] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            connections = workdir / "connections.yaml"
            write_connections_file(manifest, connections, port=port)
            base_env = {**os.environ, "HUB_HOME": str(workdir / "home"), "HUB_SOURCES_DIR": str(manifest.out_dir),
                        "HUB_CONNECTIONS_FILE": str(connections), "HUB_MAPPINGS_DIR": str(ROOT / "mappings"),
                        "HUB_SECRET_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
            stores = ["postgres", "sqlite"] if args.store == "both" else [args.store]
            plans = [("baseline: connectors only (read, no landing)", "extract", 1, "sqlite")]
            for store in stores:
                plans += [(f"hub ingest --workers {w} → {store}", "ingest", int(w), store)
                          for w in args.workers.split(",")]
            for label, mode, workers, store in plans:
                runs = []
                for n in range(args.runs):
                    url, drop = fresh_store(store, workdir)
                    try:
                        result = measured(mode, workers, {**base_env, "HUB_DATABASE_URL": url})
                    finally:
                        drop()
                    if result["failed"]:
                        raise RuntimeError(f"{label}: {result['failed']}")
                    runs.append(result)
                    rate = result["records"] / result["wall"]
                    print(f"{label} run {n + 1}: {result['records']:,} records in {result['wall']:.1f} s "
                          f"({rate:,.0f}/s), peak {result['peak_mb']:,.0f} MB", flush=True)
                wall = statistics.median(r["wall"] for r in runs)
                peak = statistics.median(r["peak_mb"] for r in runs)
                statements = runs[0]["statements"]
                rows.append(f"| {label} | {runs[0]['records']:,} | {statements:,} | {wall:.1f} | "
                            f"{runs[0]['records'] / wall:,.0f} | {peak:,.0f} | "
                            f"{', '.join(format(r['wall'], '.1f') for r in runs)} |")
    finally:
        api.terminate()
        api.wait()
    table = "\n".join([
        f"# Ingest benchmark ({total:,} source records, {manifest.residents:,} residents, {args.runs} runs)", "",
        f"Command: `python -m bench.ingest --records {args.records} --runs {args.runs} --store {args.store} "
        f"--workers {args.workers}`;"
        f" machine: {os.cpu_count()} cores. Wall time is the whole process (imports included).", "",
        "| what | records | statements | median s | records/s | peak RSS MB | runs (s) |",
        "| --- | --- | --- | --- | --- | --- | --- |", *rows, ""])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
