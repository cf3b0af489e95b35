"""The pipeline under Airflow against the same hub functions called directly (issue 22, point 8).

    python -m bench.airflow [--residents 2000] [--runs 3] [--store sqlite|postgresql]

One simulated district (SQLite department databases, the 物业 API served on loopback) is generated once.
Each run starts from an empty store (a SQLite file, or a new PostgreSQL database on HUB_BENCH_PG_SERVER,
default the local server), twice:

- direct: the bodies of the DAG tasks (hub.orchestrate.tasks: ingest_task per source, then resolve_task,
  fuse_task, publish_task) called one after the other in this process, credentials from Airflow-less
  sources (the connections file);
- airflow: every ingest DAG, then the fusion DAG, run with `dag.test()` in a throwaway AIRFLOW_HOME: the
  same functions inside Airflow's task runner (execution API, XComs, asset events, metadata writes). The
  scheduler's own latency between tasks is not in it: that depends on its heartbeat settings, not on the hub.

Per stage (ingest of all sources, resolve, fuse, publish) the wall time, the median over the runs, and
Airflow's overhead against direct calls. Results go to bench/results/airflow-<residents>.md.
Not part of the test suite; `make bench` does not run it either (it is point 8's module, run by hand).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

PROJECT = Path(__file__).resolve().parents[1]
STAGES = ("ingest", "resolve", "fuse", "publish")


def _direct(sources: list[str]) -> dict[str, float]:
    from hub.orchestrate.tasks import fuse_task, ingest_task, publish_task, resolve_task

    times: dict[str, float] = {}
    clock = time.perf_counter()
    for source in sources:
        ingest_task(source, PROJECT)
    times["ingest"] = time.perf_counter() - clock
    clock = time.perf_counter()
    resolved = resolve_task(PROJECT)
    times["resolve"] = time.perf_counter() - clock
    clock = time.perf_counter()
    fused = fuse_task(PROJECT, resolved)
    times["fuse"] = time.perf_counter() - clock
    clock = time.perf_counter()
    publish_task(PROJECT, fused)
    times["publish"] = time.perf_counter() - clock
    return times


def _airflow(bag: Any, sources: list[str]) -> dict[str, float]:
    from hub.orchestrate import FUSION_DAG_ID, INGEST_DAG_PREFIX

    times: dict[str, float] = {}
    clock = time.perf_counter()
    for source in sources:
        run = bag.dags[INGEST_DAG_PREFIX + source].test()
        assert run.state == "success", f"{source}: {run.state}"
    times["ingest"] = time.perf_counter() - clock
    clock = time.perf_counter()
    run = bag.dags[FUSION_DAG_ID].test()
    fusion_wall = time.perf_counter() - clock
    assert run.state == "success", run.state
    spans = {ti.task_id: (ti.end_date - ti.start_date).total_seconds() for ti in run.get_task_instances()}
    # the fusion DAG's wall time shared out by its tasks' own durations (what lies between them included)
    scale = fusion_wall / max(sum(spans.values()), 1e-9)
    times.update({stage: spans[stage] * scale for stage in ("resolve", "fuse", "publish")})
    return times


PG_SERVER = os.environ.get("HUB_BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")


def _set_store(work: Path, run: int, mode: str, store: str) -> None:
    home = work / f"home-{run}-{mode}"
    shutil.copytree(work / "home-template", home)
    os.environ["HUB_HOME"] = str(home)
    os.environ["HUB_DATABASE_URL"] = (f"sqlite:///{home / 'hub.db'}" if store == "sqlite"
                                      else _empty_database(f"hub_bench_airflow_{run}_{mode}"))


def _empty_database(name: str) -> str:
    """A new, empty PostgreSQL database for one run (an earlier bench's of the same name is dropped)."""
    import sqlalchemy as sa

    admin = sa.create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{PG_SERVER}/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hub-bench-airflow-"))
    try:   # Ctrl-C included: the district, the homes and Airflow's folder go
        _bench(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _bench(args: argparse.Namespace, work: Path) -> None:
    os.environ.update({"AIRFLOW_HOME": str(work / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                       "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"), "HUB_DAG_INGEST_SCHEDULE": "none",
                       "HUB_DAG_RETRIES": "0", "HUB_MAPPINGS_DIR": str(PROJECT / "mappings")})
    from hub.demo import generate_district, running_property_api, write_connections_file
    from hub.orchestrate import POOL, hub_settings, ingest_dag_specs
    from hub.protect import new_key_text

    os.environ["HUB_SECRET_KEY"] = new_key_text()
    template = work / "home-template"
    demo = work / "district"
    manifest = generate_district(demo, residents=args.residents, seed=args.seed,
                                 gongan_url=f"sqlite:///{demo / 'gongan.db'}",
                                 renshe_url=f"sqlite:///{demo / 'renshe.db'}")
    os.environ["HUB_SOURCES_DIR"] = str(demo)
    airflow = str(Path(sys.executable).parent / "airflow")
    for command in (["db", "migrate"], ["pools", "set", POOL, "2", "hub"]):
        subprocess.run([airflow, *command], check=True, capture_output=True)
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT / "dags"))
    assert not bag.import_errors, bag.import_errors
    sources = [spec.source for spec in ingest_dag_specs(PROJECT / "mappings")]
    results: dict[str, list[dict[str, float]]] = {"direct": [], "airflow": []}
    with running_property_api(manifest.property_db, manifest.property_token) as base_url:
        os.environ["HUB_HOME"] = str(template)
        settings = hub_settings(PROJECT)
        assert settings.connections_file is not None
        write_connections_file(manifest, settings.connections_file, port=urlparse(base_url).port or 0)
        for run in range(args.runs):
            for mode in ("direct", "airflow"):   # alternated, so that drift in the machine's load hits both
                _set_store(work, run, mode, args.store)
                times = _direct(sources) if mode == "direct" else _airflow(bag, sources)
                results[mode].append(times)
                print(f"run {run + 1} {mode}: " + ", ".join(f"{s} {times[s]:.2f} s" for s in STAGES), flush=True)
            _write(args, sources, results)   # after every run: a long bench stopped early keeps its figures


def _write(args: argparse.Namespace, sources: list[str], results: dict[str, list[dict[str, float]]]) -> None:
    median = {mode: {s: statistics.median(r[s] for r in runs) for s in STAGES} for mode, runs in results.items()}
    store = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[args.store]
    lines = [f"# The pipeline under Airflow against direct calls: {args.residents:,} residents, {len(sources)} sources",
             "", f"Median of {len(results['direct'])} of {args.runs} runs, each from an empty {store} store; "
             "`python -m bench.airflow "
             f"--residents {args.residents} --runs {args.runs} --store {args.store}` (bench/airflow.py says what "
             "is measured).", "",
             "| stage | direct (s) | Airflow dag.test (s) | overhead |", "| --- | ---: | ---: | ---: |"]
    for stage in (*STAGES, "total"):
        direct = sum(median["direct"].values()) if stage == "total" else median["direct"][stage]
        under = sum(median["airflow"].values()) if stage == "total" else median["airflow"][stage]
        lines.append(f"| {stage} | {direct:.2f} | {under:.2f} | {100 * (under - direct) / direct:+.0f} % |")
    lines += ["", "Each run:", ""]
    for mode, runs in results.items():
        for i, times in enumerate(runs, 1):
            lines.append(f"- {mode} {i}: " + ", ".join(f"{s} {times[s]:.2f} s" for s in STAGES))
    suffix = "" if args.store == "sqlite" else f"-{args.store}"
    out = PROJECT / "bench" / "results" / f"airflow-{args.residents}{suffix}.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
