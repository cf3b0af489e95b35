"""Ingest benchmark of one large source: a one-file GBK export (bench.one_source) of N rows, two free-text
addresses per row, landed by `hub ingest` into an empty store, the serial build (`--workers 1`) against the
default (the machine's cores), interleaved run by run, medians of several runs.

    python -m bench.ingest_one_source [--rows 1000000] [--runs 3] [--store postgres|sqlite] [--workers 1,default]

The export is generated once and cached under var/bench/one-source-<rows>/. Each run starts from an empty
store and runs in a fresh process (bench.ingest_worker): wall time of the whole process (imports and the
quality gate included), CPU seconds of the process and its workers (wait4), and peak memory as the largest
sum of the resident sets of the process and all its descendants, sampled every 0.2 s. The table goes to
bench/results/ingest-one-source-<rows>.md (or --out).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from bench.ingest import fresh_store
from bench.one_source import FILE_NAME, generate

ROOT = Path(__file__).resolve().parents[1]


def export(rows: int) -> Path:
    out = ROOT / "var" / "bench" / f"one-source-{rows}"
    if not (out / "mappings").exists() or not (out / FILE_NAME).exists():
        print(f"generating {rows:,} rows into {out} …", flush=True)
        generate(out, rows)
    return out


def _tree_rss(pid: int) -> int:
    try:
        root = psutil.Process(pid)
        total = root.memory_info().rss
        for child in root.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        return int(total)
    except psutil.Error:
        return 0


def measured(workers: str, env: dict[str, str]) -> dict[str, Any]:
    """Run one ingest in its own process: its JSON, wall seconds, CPU seconds and the peak summed RSS in MB."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "bench.ingest_worker", "ingest", workers], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE)
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(process.pid))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    done.set()
    sampler.join()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"ingest worker failed with status {status}")
    result: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - started
    result["cpu"] = usage.ru_utime + usage.ru_stime
    result["peak_mb"] = peak[0] / 2**20
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--store", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--workers", default="1,default", help="comma-separated: a count, or default (the cores)")
    parser.add_argument("--out", type=Path, help="default: bench/results/ingest-one-source-<rows>.md")
    args = parser.parse_args()
    out_file = args.out or ROOT / "bench" / "results" / f"ingest-one-source-{args.rows}.md"
    source = export(args.rows)
    plans = args.workers.split(",")
    runs: dict[str, list[dict[str, Any]]] = {w: [] for w in plans}
    load = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        base_env = {**os.environ, "HUB_HOME": str(workdir / "home"), "HUB_SOURCES_DIR": str(source),
                    "HUB_MAPPINGS_DIR": str(source / "mappings"),
                    "HUB_SECRET_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
        for n in range(args.runs):
            for workers in plans:   # interleaved: each run of each setting sees the machine of the same minutes
                url, drop = fresh_store(args.store, workdir)
                load.append(os.getloadavg()[0])
                try:
                    result = measured(workers, {**base_env, "HUB_DATABASE_URL": url})
                finally:
                    drop()
                if result["failed"]:
                    raise RuntimeError(f"--workers {workers}: {result['failed']}")
                runs[workers].append(result)
                print(f"--workers {workers} run {n + 1}: {result['records']:,} records in {result['wall']:.1f} s "
                      f"({result['records'] / result['wall']:,.0f}/s), CPU {result['cpu']:.0f} s, "
                      f"peak {result['peak_mb']:,.0f} MB, load {load[-1]:.1f}", flush=True)
    rows = []
    for workers, measured_runs in runs.items():
        wall = statistics.median(r["wall"] for r in measured_runs)
        cpu = statistics.median(r["cpu"] for r in measured_runs)
        peak = statistics.median(r["peak_mb"] for r in measured_runs)
        records, statements = measured_runs[0]["records"], measured_runs[0]["statements"]
        label = "serial build (baseline)" if workers == "1" else f"--workers {workers}"
        if workers == "default":
            label = f"default (--workers = {os.cpu_count()} cores)"
        rows.append(f"| {label} | {records:,} | {statements:,} | {wall:.1f} | {records / wall:,.0f} | {cpu:.0f} | "
                    f"{peak:,.0f} | {', '.join(format(r['wall'], '.1f') for r in measured_runs)} |")
    table = "\n".join([
        f"# Ingest of one large source ({args.rows:,} rows, one GBK CSV, two free-text addresses per row)", "",
        f"Command: `python -m bench.ingest_one_source --rows {args.rows} --runs {args.runs} --store {args.store} "
        f"--workers {args.workers}`; machine: {os.cpu_count()} cores, shared with other jobs (1-minute load average "
        f"at the start of each run: {', '.join(format(x, '.1f') for x in load)}). Runs interleaved; wall time is the "
        "whole `hub ingest` process (imports and the quality gate included); CPU: user + system seconds of it and "
        "its workers; peak: the largest sum of the resident sets of the process and its descendants.", "",
        "| what | records | statements | median s | records/s | CPU s | peak RSS MB | runs (s) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |", *rows, ""])
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(table, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
