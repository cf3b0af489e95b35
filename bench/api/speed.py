"""The hub's read paths on a small district: requests/s, latency and server CPU per request, to iterate on.

    python -m bench.api.speed [--residents 3000] [--runs 3] [--seconds 10] [--database NAME]
                              [--home DIR] [--py-spy FILE]

The store is built once with the API benchmark's builder (bench.api: generate, ingest, resolve, publish;
PostgreSQL database `--database`, default `hub_bench_api_<residents>_<seed>`). Each run starts `hub serve
--workers 2` (audit on) and measures, one after the other, on loopback:

- person profile, resident-ID lookup and name search flat out (wrk, 32 connections where wrk is installed):
  the rate, and the CPU the server's processes spent per request (their user + system time over the run,
  sealer thread included) and the PostgreSQL backends connected to the store's database, the figures that
  depend least on what else the machine runs;
- person profile at 1,000 requests/s offered (bench/api/load.py, open loop): rate answered and p99;
- resident-ID lookup and name search at 50 requests/s offered: p99.

Medians of the runs are printed as a Markdown table, each run as a JSON line. `--py-spy FILE`: in the first
run, py-spy records one worker (`--gil`, raw collapsed stacks) during the profile's flat-out load;
bench/api/profile_split.py sorts those samples into framework, SQLAlchemy, driver, views, audit and so on.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil
import sqlalchemy as sa

from bench.api.__main__ import HOST, ROOT, ensure_database, ensure_fused, free_port, hub_env, samples
from bench.api.__main__ import bench_consumer as make_consumer
from bench.api.load import request_bytes, run_load
from bench.api.wrk import Request, run_wrk
from bench.api.wrk import available as wrk_available
from bench.resolve.data import CACHE
from hub.api.serve import serve_command, server_process
from hub.settings import HubSettings

SEARCH_RATE = 50.0
PROFILE_RATE = 1000.0


def cpu_seconds(process: psutil.Process) -> float:
    """User + system CPU of a server and every process under it (uvicorn's supervisor and its workers)."""
    total = 0.0
    for proc in [process, *process.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def store_backends(settings: HubSettings) -> dict[int, float]:
    """CPU (user + system seconds) of each PostgreSQL backend connected to the store's database."""
    engine = sa.create_engine(settings.database_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        pids = [int(r[0]) for r in conn.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"))]
    engine.dispose()
    found = {}
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        found[pid] = times.user + times.system
    return found


def store_cpu(before: dict[int, float], after: dict[int, float]) -> float:
    """The store's CPU between two readings: backends that ended meanwhile are missing (an undercount for a
    server that opens and closes connections under load; the hub's API keeps its connections)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def closed_loop(port: int, requests: list[Request], raw: list[bytes], seconds: float,
                server: psutil.Process, settings: HubSettings) -> dict[str, Any]:
    """Flat out, with the server's and the store's CPU per answered request."""
    before, store_before = cpu_seconds(server), store_backends(settings)
    if wrk_available():
        figures: dict[str, Any] = dict(run_wrk(HOST, port, requests, seconds=seconds, connections=32))
    else:
        figures = run_load(HOST, port, raw, seconds=seconds, connections=32).summary() | {"generator": "python"}
    spent, store_spent = cpu_seconds(server) - before, store_cpu(store_before, store_backends(settings))
    figures["server_cpu_ms"] = round(spent * 1000 / max(1, figures["requests"]), 3)
    figures["store_cpu_ms"] = round(store_spent * 1000 / max(1, figures["requests"]), 3)
    return figures


def _spy(worker: psutil.Process, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return subprocess.Popen([spy, "record", "--gil", "--nonblocking", "-r", "200", "-f", "raw", "-d",
                             str(int(seconds)), "-o", str(out), "-p", str(worker.pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def one_run(settings: HubSettings, sample: dict[str, list[str]], consumer: tuple[str, str], seconds: float,
            spy_to: Path | None) -> dict[str, Any]:
    port = free_port()
    authority = f"{HOST}:{port}"
    figures: dict[str, Any] = {}
    with server_process(serve_command(host=HOST, port=port, workers=2), hub_env(settings),
                        f"http://{authority}/health") as process:
        server = psutil.Process(process.pid)
        token = httpx.post(f"http://{authority}/api/v1/token", data={
            "grant_type": "client_credentials", "client_id": consumer[0], "client_secret": consumer[1]},
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        json_auth = auth | {"Content-Type": "application/json"}

        def gets(paths: list[str]) -> tuple[list[Request], list[bytes]]:
            return ([Request("GET", p, auth) for p in paths], [request_bytes("GET", p, authority, auth) for p in paths])

        def posts(bodies: list[str]) -> tuple[list[Request], list[bytes]]:
            path = "/api/v1/persons/search"
            return ([Request("POST", path, json_auth, b) for b in bodies],
                    [request_bytes("POST", path, authority, json_auth, b.encode()) for b in bodies])

        # JSON with \\u escapes: ASCII, so wrk's Lua strings carry it unchanged
        profile = gets([f"/api/v1/persons/{i}/profile" for i in sample["ids"]])
        by_id = posts([json.dumps({"resident_id": n}) for n in sample["resident_ids"]])
        by_name = posts([json.dumps({"name": n}) for n in sample["names"]])
        run_load(HOST, port, profile[1][:200], seconds=3, connections=8)   # warm both workers' pools and caches
        run_load(HOST, port, by_id[1][:50] + by_name[1][:50], seconds=2, connections=8)
        spy = None
        if spy_to is not None:
            workers = server.children(recursive=True)
            spy = _spy(max(workers, key=lambda p: p.pid), spy_to, seconds) if workers else None
        figures["profile_closed"] = closed_loop(port, *profile, seconds, server, settings)
        if spy is not None:
            spy.wait(timeout=seconds + 60)
        figures["id_lookup_closed"] = closed_loop(port, *by_id, seconds, server, settings)
        figures["name_search_closed"] = closed_loop(port, *by_name, seconds, server, settings)
        figures["profile_open"] = run_load(HOST, port, profile[1], seconds=seconds, rate=PROFILE_RATE,
                                           connections=64).summary() | {"offered": PROFILE_RATE}
        figures["id_lookup_open"] = run_load(HOST, port, by_id[1], seconds=seconds, rate=SEARCH_RATE,
                                             connections=32).summary() | {"offered": SEARCH_RATE}
        figures["name_search_open"] = run_load(HOST, port, by_name[1], seconds=seconds, rate=SEARCH_RATE,
                                               connections=32).summary() | {"offered": SEARCH_RATE}
    return figures


def median_table(runs: list[dict[str, Any]]) -> list[str]:
    lines = ["| measurement | rate answered (req/s) | p50 ms | p99 ms | server CPU ms/request | "
             "PostgreSQL CPU ms/request | errors | runs (rate / p99) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]

    def med(values: list[dict[str, Any]], key: str, fmt: Callable[[float], str]) -> str:
        found = [v[key] for v in values if key in v]
        return fmt(statistics.median(found)) if found else "–"

    for key in runs[0]:
        values = [run[key] for run in runs]
        offered = f" at {values[0]['offered']:.0f}/s" if "offered" in values[0] else ""
        each = ", ".join(f"{v['rate']:.0f} / {v['p99_ms']:.1f}" for v in values)
        lines.append(f"| {key}{offered} | {med(values, 'rate', '{:.0f}'.format)} | "
                     f"{med(values, 'p50_ms', '{:.1f}'.format)} | {med(values, 'p99_ms', '{:.1f}'.format)} | "
                     f"{med(values, 'server_cpu_ms', '{:.2f}'.format)} | "
                     f"{med(values, 'store_cpu_ms', '{:.2f}'.format)} | "
                     f"{med(values, 'errors', '{:.0f}'.format)} | "
                     f"{each} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--database", default=None, help="PostgreSQL database of the store")
    parser.add_argument("--home", type=Path, default=None, help="the store's HUB_HOME (its key, the sources)")
    parser.add_argument("--py-spy", type=Path, default=None, help="raw py-spy samples of one worker, first run")
    args = parser.parse_args()
    database = args.database or f"hub_bench_api_{args.residents}_{args.seed}"
    settings = HubSettings(home=args.home or CACHE / f"api-speed-{database}", database_url=ensure_database(database),
                           mappings_dir=ROOT / "mappings")
    ensure_fused(settings, args.residents, args.seed)
    consumer = make_consumer(settings)
    sample = samples(settings)
    runs = []
    for i in range(args.runs):
        figures = one_run(settings, sample, consumer, args.seconds, args.py_spy if i == 0 else None)
        print(json.dumps({"run": i + 1, **figures}), flush=True)
        runs.append(figures)
    print("\n".join(median_table(runs)))


if __name__ == "__main__":
    main()
