"""API benchmark: the hub's reads under load against bare FastAPI, on a fused district in PostgreSQL.

    python -m bench.api [--residents 100000] [--runs 3] [--seconds 20] [--rate 1000]

Once per district (cached: a PostgreSQL database `hub_bench_api_<residents>` and the generated sources
under $HUB_BENCH_CACHE): generate, ingest, resolve and publish. Then, in each run, with `hub serve
--workers 2` (audit on, as in production) and the baseline app (bench.api.baseline_app: bare FastAPI,
one row by primary key, same server settings) started one after the other on loopback:

- baseline and person profile flat out (closed loop, 32 connections): the rate each sustains, loaded by
  wrk where it is installed (`make bench` installs it; bench/api/wrk.py), else by bench/api/load.py;
- person profile at `--rate` requests/s offered (open loop): p50/p99 latency from each request's due time
  (requests still unanswered 5 s after the last was sent count as errors), and at half the rate the server
  sustained flat out (`profile_open_half`), where its p99 means something;
- name search and resident-ID lookup (POST /api/v1/persons/search) at lower offered rates: p99;
- 核验 (POST /api/v1/verify/resident, half true and half false claims, each about another resident) at
  `--rate` offered, by a consumer that may make only resident claims and whose consumer-wide try limit the
  operator raised (HUB_VERIFY_CONSUMER_TRIES) as for any high-volume verifying app; the per-subject limit
  stays the default, so every run gets a consumer of its own;
- form prefill (GET /api/v1/forms/elderly_allowance/persons/{id}) at `--prefill-rate` offered: p99.

Medians over the runs go to bench/results/api-<residents>.md with each run's figures. The load
generator shares the two cores with the server: its own cost is part of every figure, baseline included;
the open-loop figures come from the Python generator, which costs far more per request than wrk.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench.api.baseline_app import prepare as prepare_baseline
from bench.api.load import request_bytes, run_load
from bench.api.wrk import Request, run_wrk
from bench.api.wrk import available as wrk_available
from bench.resolve.data import CACHE
from hub.api.serve import serve_command, server_process, settings_environment
from hub.demo import generate_district, running_property_api, write_connections_file
from hub.settings import HubSettings

ROOT = Path(__file__).resolve().parents[2]
PG_SERVER = os.environ.get("HUB_BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def ensure_database(name: str) -> str:
    url = f"{PG_SERVER}/{name}"
    admin = sa.create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url


def settings_for(residents: int, seed: int) -> HubSettings:
    home = CACHE / f"api-{residents}-{seed}"
    return HubSettings(home=home, database_url=ensure_database(f"hub_bench_api_{residents}_{seed}"),
                       mappings_dir=ROOT / "mappings")


def ensure_fused(settings: HubSettings, residents: int, seed: int) -> None:
    """Generate, ingest, resolve and publish once; a marker file says it is done."""
    from hub.pipeline import Hub, resolve

    marker, ingested = settings.home / "published", settings.home / "ingested"
    if marker.exists():
        return
    sources = settings.home / "demo"
    started = time.perf_counter()
    if not ingested.exists():
        ingest_district(settings, sources, residents, seed)
        ingested.write_text(f"ingested in {time.perf_counter() - started:.0f} s\n", encoding="utf-8")
    hub = Hub.open(settings.model_copy(update={"sources_dir": sources}))
    resolve(hub)
    hub.engine.dispose()
    marker.write_text(f"resolved and published in {time.perf_counter() - started:.0f} s\n", encoding="utf-8")


def ingest_district(settings: HubSettings, sources: Path, residents: int, seed: int) -> None:
    from hub.pipeline import Hub, ingest

    manifest = generate_district(sources, residents=residents, seed=seed,
                                 gongan_url=f"sqlite:///{sources / 'gongan.db'}",
                                 renshe_url=f"sqlite:///{sources / 'renshe.db'}")
    port = free_port()
    assert settings.connections_file is not None
    write_connections_file(manifest, settings.connections_file, port=port)
    settings = settings.model_copy(update={"sources_dir": sources})
    with running_property_api(manifest.property_db, manifest.property_token, port=port):
        hub = Hub.open(settings)
        failed = [r.source for r in ingest(hub) if r.status != "succeeded"]
    hub.engine.dispose()
    if failed:
        raise RuntimeError(f"ingest failed for {', '.join(failed)}")


def bench_consumer(settings: HubSettings, *, claims: tuple[str, ...] = ()) -> tuple[str, str]:
    """A consumer cleared for everything, scope the whole district: the costliest reads to serve. With `claims`,
    a 核验 app instead: those claim kinds and nothing to read."""
    from hub.access import AccessKeys
    from hub.access.consumers import add_consumer
    from hub.pipeline import Hub

    hub = Hub.open(settings, create=False)
    name = f"bench-{os.getpid()}-{time.time_ns()}"
    types = [] if claims else ["person", "house", "organization", "thing"]
    consumer, secret = add_consumer(hub.engine, AccessKeys.from_vault(hub.vault), name, "API benchmark",
                                    "highly_sensitive", types, claims=claims)
    hub.engine.dispose()
    return consumer.id, secret.value


def verify_claims(truth_dir: Path, count: int, seed: int = 2) -> list[dict[str, str]]:
    """Resident claims about distinct residents, every other one false (another resident's name), so that the
    answer cannot be learnt from the load and no subject reaches its try limit within a run."""
    with (truth_dir / "houses.csv").open(encoding="utf-8") as handle:
        community = {row["house_id"]: row["community"] for row in csv.DictReader(handle)}
    with (truth_dir / "persons.csv").open(encoding="utf-8") as handle:
        people = [row for row in csv.DictReader(handle)
                  if row["resident_id"] and row["name"] and row["residence_house_id"] in community]
    rng = random.Random(seed)
    rng.shuffle(people)
    people = people[:count]
    names = [row["name"] for row in people]
    rng.shuffle(names)
    return [{"resident_id": row["resident_id"], "community": community[row["residence_house_id"]],
             "name": row["name"] if i % 2 == 0 else names[i]} for i, row in enumerate(people)]


def samples(settings: HubSettings, count: int = 2000, seed: int = 1) -> dict[str, list[str]]:
    """Person ids, names and resident IDs to ask for, drawn from the published state and the truth."""
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT max(version) FROM publication WHERE state = 'published'")).scalar()
        ids = [r[0] for r in conn.execute(sa.text(
            "SELECT entity_id FROM pub_entity WHERE entity_type = 'person' AND state = 'active' AND since <= :v "
            "AND (until IS NULL OR until > :v) ORDER BY entity_id"), {"v": version})]
    engine.dispose()
    rng = random.Random(seed)
    with (settings.home / "demo" / "truth" / "persons.csv").open(encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    rng.shuffle(truth)
    return {"ids": rng.sample(ids, min(count, len(ids))),
            "names": [row["name"] for row in truth[:count] if row.get("name")],
            "resident_ids": [row["resident_id"] for row in truth[:count] if row.get("resident_id")]}


def hub_env(settings: HubSettings) -> dict[str, str]:
    return settings_environment(settings) | {"PYTHONPATH": str(ROOT), "HUB_VERIFY_CONSUMER_TRIES": "1000000000"}


def token_header(authority: str, consumer: tuple[str, str]) -> dict[str, str]:
    client_id, secret = consumer
    token = httpx.post(f"http://{authority}/api/v1/token", data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def flat_out(port: int, raw: list[bytes], requests: list[Request], seconds: float) -> dict[str, Any]:
    """The rate the server sustains, 32 connections closed loop: from wrk where it is installed (bench/api/wrk.py
    says why), else from the Python generator."""
    if wrk_available():
        return run_wrk(HOST, port, requests, seconds=seconds, connections=32)
    return run_load(HOST, port, raw, seconds=seconds, connections=32).summary() | {"generator": "python"}


def one_run(settings: HubSettings, sample: dict[str, list[str]], args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    port = free_port()
    authority = f"{HOST}:{port}"
    base = [sys.executable, "-m", "uvicorn", "--host", HOST, "--port", str(port), "--workers", "2",
            "--no-access-log", "--log-level", "warning"]
    env = dict(os.environ, HUB_BENCH_BASELINE_URL=settings.database_url, PYTHONPATH=str(ROOT))
    rows = [request_bytes("GET", f"/row/{i}", authority) for i in range(1, 2001)]
    with server_process([*base, "--factory", "bench.api.baseline_app:create_app"], env,
                        f"http://{authority}/row/1"):
        figures["baseline_closed"] = flat_out(port, rows, [Request("GET", f"/row/{i}") for i in range(1, 2001)],
                                              args.seconds)
        figures["baseline_open"] = run_load(HOST, port, rows, seconds=args.seconds, rate=args.rate,
                                            connections=64).summary()

    port = free_port()
    authority = f"{HOST}:{port}"
    command = serve_command(host=HOST, port=port, workers=2)
    with server_process(command, hub_env(settings), f"http://{authority}/health"):
        auth = token_header(authority, args.consumer)
        json_auth = auth | {"Content-Type": "application/json"}
        profiles = [request_bytes("GET", f"/api/v1/persons/{i}/profile", authority, auth) for i in sample["ids"]]
        names = [request_bytes("POST", "/api/v1/persons/search", authority, json_auth,
                               json.dumps({"name": n}, ensure_ascii=False).encode()) for n in sample["names"]]
        idnos = [request_bytes("POST", "/api/v1/persons/search", authority, json_auth,
                               json.dumps({"resident_id": n}).encode()) for n in sample["resident_ids"]]
        run_load(HOST, port, profiles[:200], seconds=3, connections=8)   # warm both workers' pools and caches
        figures["profile_closed"] = flat_out(port, profiles, [Request("GET", f"/api/v1/persons/{i}/profile", auth)
                                                              for i in sample["ids"]], args.seconds)
        figures["profile_open"] = run_load(HOST, port, profiles, seconds=args.seconds, rate=args.rate,
                                           connections=64).summary()
        half = max(5.0, round(figures["profile_closed"]["rate"] / 2))   # a rate this server sustains
        figures["profile_open_half"] = run_load(HOST, port, profiles, seconds=args.seconds, rate=half,
                                                connections=64).summary() | {"offered": half}
        figures["name_search_open"] = run_load(HOST, port, names, seconds=args.seconds, rate=args.search_rate,
                                               connections=32).summary()
        figures["id_lookup_open"] = run_load(HOST, port, idnos, seconds=args.seconds, rate=args.search_rate,
                                             connections=32).summary()
        prefills = [request_bytes("GET", f"/api/v1/forms/elderly_allowance/persons/{i}", authority, auth)
                    for i in sample["ids"]]
        figures["prefill_open"] = run_load(HOST, port, prefills, seconds=args.seconds, rate=args.prefill_rate,
                                           connections=32).summary()
        verifier = token_header(authority, bench_consumer(settings, claims=("resident",)))
        verify_auth = verifier | {"Content-Type": "application/json"}
        claims = [request_bytes("POST", "/api/v1/verify/resident", authority, verify_auth,
                                json.dumps(c, ensure_ascii=False).encode()) for c in sample["claims"]]
        run_load(HOST, port, claims[-200:], seconds=2, connections=8)   # warm the verify path
        figures["verify_open"] = run_load(HOST, port, claims, seconds=args.seconds, rate=args.rate,
                                          connections=64).summary()
    return figures


def median_table(runs: list[dict[str, Any]]) -> list[str]:
    lines = ["| measurement | rate answered (req/s) | p50 ms | p99 ms | errors (unanswered) | runs (rate / p99) |",
             "| --- | ---: | ---: | ---: | ---: | --- |"]
    for key in runs[0]:
        values: list[dict[str, Any]] = [run[key] for run in runs]
        med = {f: statistics.median(v[f] for v in values)
               for f in ("rate", "p50_ms", "p99_ms", "errors", "unanswered")}
        offered = f" at {statistics.median(v['offered'] for v in values):.0f}/s" if "offered" in values[0] else ""
        each = ", ".join(f"{v['rate']:.0f} / {v['p99_ms']:.1f}" for v in values)
        lines.append(f"| {key}{offered} | {med['rate']:.0f} | {med['p50_ms']:.1f} | {med['p99_ms']:.1f} | "
                     f"{med['errors']:.0f} ({med['unanswered']:.0f}) | {each} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=1000, help="offered rate of the profile reads")
    parser.add_argument("--search-rate", type=float, default=50, help="offered rate of name and ID searches")
    parser.add_argument("--prefill-rate", type=float, default=100, help="offered rate of form prefills")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    settings = settings_for(args.residents, args.seed)
    ensure_fused(settings, args.residents, args.seed)
    prepare_baseline(settings.database_url)
    args.consumer = bench_consumer(settings)
    sample: dict[str, Any] = samples(settings)
    sample["claims"] = verify_claims(settings.home / "demo" / "truth", int(args.rate * args.seconds) + 200)
    runs = []
    for i in range(args.runs):
        figures = one_run(settings, sample, args)
        print(json.dumps({"run": i + 1, **figures}), flush=True)
        runs.append(figures)
    out = args.out or ROOT / "bench" / "results" / f"api-{args.residents}.md"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=ROOT).stdout.strip()
    text = [f"# API benchmark, {args.residents:,} residents, commit {commit}, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
            f"`python -m bench.api --residents {args.residents} --runs {args.runs} --seconds {args.seconds:g} "
            f"--rate {args.rate:g} --search-rate {args.search_rate:g} --prefill-rate {args.prefill_rate:g}`: "
            f"medians of {args.runs} runs; "
            "`hub serve --workers 2` and the baseline (bare FastAPI, one row by primary key) on PostgreSQL, "
            "load generated on loopback on the same two cores: flat out by "
            f"{'wrk' if wrk_available() else 'bench/api/load.py'}, at an offered rate by bench/api/load.py.", "",
            *median_table(runs), "",
            "Each run as JSON:", "", "```", *(json.dumps(r) for r in runs), "```", ""]
    out.write_text("\n".join(text), encoding="utf-8")
    print("\n".join(median_table(runs)))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
