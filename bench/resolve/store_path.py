"""`hub resolve` through the store, stage by stage: resolve per entity type, fuse, publish (issue 20, point 4).

    python -m bench.resolve.store_path --residents 20000 --runs 3 --store postgresql [--baseline /work/main]

The district is generated and ingested once into a PostgreSQL database that serves as a template
(`<prefix>_tpl_<residents>_<seed>`, prefix from HUB_BENCH_PG_PREFIX, default hub_bench_store_path), its home
(key file, connections) cached beside bench.resolve.data's stores. Each run copies the template
(CREATE DATABASE ... TEMPLATE) and a fresh home, then runs in a subprocess, one after the other, what
`hub resolve` runs: resolve_entities per type, fuse_entities, publish. Per stage the wall time; per run the
subprocess's peak RSS (ru_maxrss of the child).

With `--baseline DIR`, every run is made twice, alternated: once with this checkout's code and once with
DIR's (PYTHONPATH=DIR), so that the machine's load hits both the same. `--keep` keeps each run's
database (for comparing entity output with bench.resolve.store_equal); by default they are dropped.
Results go to bench/results/resolve-store-<residents>.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PG_SERVER = os.environ.get("HUB_BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
PREFIX = os.environ.get("HUB_BENCH_PG_PREFIX", "hub_bench_store_path")
CACHE = Path(os.environ.get("HUB_BENCH_CACHE", Path.home() / ".cache" / "community-hub-bench"))
TYPES = ("person", "house", "organization", "thing", "event", "situation")
"""hub.resolve.runner.ENTITY_TYPES, in its order."""
STAGES = (*(f"resolve {t}" for t in TYPES), "fuse", "publish")


def _admin() -> Any:
    import sqlalchemy as sa

    return sa.create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT")


def _create_database(name: str, template: str | None = None) -> str:
    import sqlalchemy as sa

    admin = _admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    admin.dispose()
    return f"{PG_SERVER}/{name}"


def drop_database(name: str) -> None:
    import sqlalchemy as sa

    admin = _admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def template_name(residents: int, seed: int) -> str:
    return f"{PREFIX}_tpl_{residents}_{seed}"


def ensure_template(residents: int, seed: int) -> Path:
    """Generate and ingest the district once into the template database; its home folder."""
    from bench.resolve.data import _free_port
    from hub.demo import generate_district, running_property_api, write_connections_file
    from hub.pipeline import Hub, ingest
    from hub.settings import HubSettings

    home = CACHE / f"store-path-{residents}-{seed}"
    done = home / "ingested"
    if done.exists():
        return home
    shutil.rmtree(home, ignore_errors=True)
    name = template_name(residents, seed)
    url = _create_database(name)
    settings = HubSettings(home=home, mappings_dir=ROOT / "mappings", database_url=url)
    started = time.perf_counter()
    sources = home / "demo"
    manifest = generate_district(sources, residents=residents, seed=seed,
                                 gongan_url=f"sqlite:///{sources / 'gongan.db'}",
                                 renshe_url=f"sqlite:///{sources / 'renshe.db'}")
    port = _free_port()
    assert settings.connections_file is not None
    write_connections_file(manifest, settings.connections_file, port=port)
    generated = time.perf_counter()
    hub = Hub.open(settings)
    try:
        with running_property_api(manifest.property_db, manifest.property_token, port=port):
            results = ingest(hub)
    finally:
        hub.engine.dispose()
    failed = [r.source for r in results if r.status != "succeeded"]
    if failed:
        raise RuntimeError(f"ingest failed for {', '.join(failed)}")
    ended = time.perf_counter()
    done.write_text(f"generate {generated - started:.1f} s\ningest {ended - generated:.1f} s\n", encoding="utf-8")
    print(f"district {residents:,}: generated in {generated - started:.0f} s, ingested in {ended - generated:.0f} s",
          flush=True)
    return home


def one_run(home: Path, database_url: str, profile: Path | None = None) -> dict[str, float]:
    """In this process: resolve per type, fuse, publish against the store at database_url; seconds per stage
    (and with `profile`, a cProfile file per stage in that folder)."""
    import cProfile
    import resource
    from collections.abc import Callable
    from functools import partial

    from hub.pipeline import Hub, fuse_entities, publish, resolve_entities
    from hub.settings import HubSettings

    settings = HubSettings(home=home, mappings_dir=ROOT / "mappings", database_url=database_url)
    hub = Hub.open(settings)
    times: dict[str, float] = {}
    server = ServerCpu(database_url)

    def timed(stage: str, work: Callable[[], Any]) -> Any:
        profiler = cProfile.Profile() if profile else None
        usage = resource.getrusage(resource.RUSAGE_SELF)
        served = server.seconds()
        clock = time.perf_counter()
        if profiler:
            profiler.enable()
        try:
            return work()
        finally:
            if profiler:
                profiler.disable()
            times[stage] = time.perf_counter() - clock
            after = resource.getrusage(resource.RUSAGE_SELF)
            times[f"{stage} cpu"] = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
            times[f"{stage} peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            times[f"{stage} server"] = server.seconds() - served
            if profiler and profile:
                profile.mkdir(parents=True, exist_ok=True)
                profiler.dump_stats(str(profile / (stage.replace(" ", "-") + ".prof")))

    runs = []
    try:
        specs = hub.mappings()
        for entity_type in TYPES:
            runs.extend(timed(f"resolve {entity_type}", partial(resolve_entities, hub, [entity_type])))
        fusion = timed("fuse", lambda: fuse_entities(hub, {run.entity_type: run.touched for run in runs},
                                                     mappings=specs))
        changed = bool(any(run.links_written or any(run.changes.values()) for run in runs)
                       or any(fusion.golden_entities.values()) or fusion.relations or fusion.places)
        timed("publish", lambda: publish(hub, mappings=specs, fusion_changed=changed))
    finally:
        hub.engine.dispose()
        server.stop()
    times["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return times


class ServerCpu:
    """CPU seconds of the PostgreSQL backends serving one database, read from /proc (the server runs on this
    machine): a thread samples the backends of `database_url`'s database every 0.2 s and keeps each one's
    last user + system time, so a backend that ends between samples loses at most 0.2 s. Other databases'
    backends (other work on the shared server) are not counted."""

    def __init__(self, database_url: str) -> None:
        import threading

        import sqlalchemy as sa

        self._name = database_url.rsplit("/", 1)[1]
        self._admin = sa.create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT")
        self._ticks = os.sysconf("SC_CLK_TCK")
        self._last: dict[int, float] = {}
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import sqlalchemy as sa

        with self._admin.connect() as conn:
            pids = conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                                {"d": self._name}).scalars().all()
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            with self._lock:
                self._last[pid] = (int(fields[11]) + int(fields[12])) / self._ticks

    def _loop(self) -> None:
        while not self._done.wait(0.2):
            self._sample()

    def seconds(self) -> float:
        self._sample()
        with self._lock:
            return sum(self._last.values())

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        self._admin.dispose()


def _child(code_dir: Path, home: Path, url: str, profile: Path | None = None) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(code_dir)}
    env.pop("HUB_DATABASE_URL", None)
    # run as a script, so that `hub` comes from code_dir (PYTHONPATH), not from this checkout
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(home), url,
                           str(profile or "")], cwd=code_dir, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-4000:])
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    return dict(json.loads(line[len("RESULT "):]))


def _fresh_home(template_home: Path, run_home: Path) -> Path:
    shutil.rmtree(run_home, ignore_errors=True)
    run_home.mkdir(parents=True)
    for name in ("hub.key", "connections.yaml"):
        if (template_home / name).exists():
            shutil.copy2(template_home / name, run_home / name)
    return run_home


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--store", choices=("postgresql",), default="postgresql")
    parser.add_argument("--baseline", type=Path, help="a checkout whose code runs as the baseline, alternated")
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="the checkout measured (default this one; a `git archive` of a commit keeps a long "
                             "bench from picking up edits)")
    parser.add_argument("--keep", action="store_true", help="keep each run's database")
    parser.add_argument("--only-template", action="store_true", help="build the ingested template and stop")
    parser.add_argument("--out", type=Path, help="the results file (default bench/results/resolve-store-N.md)")
    parser.add_argument("--profile", type=Path, help="write a cProfile file per stage and code under this folder")
    args = parser.parse_args()

    home = ensure_template(args.residents, args.seed)
    if args.only_template:
        return
    codes = {"this": args.code.resolve()}
    if args.baseline:
        codes = {"baseline": args.baseline.resolve(), "this": args.code.resolve()}
    results: dict[str, list[dict[str, float]]] = {label: [] for label in codes}
    for run in range(args.runs):
        for label, code in codes.items():
            name = f"{PREFIX}_{args.residents}_{label}_{run}"
            url = _create_database(name, template=template_name(args.residents, args.seed))
            run_home = _fresh_home(home, CACHE / f"store-path-run-{label}-{run}")
            try:
                times = _child(code, run_home, url, args.profile / f"{label}-{run}" if args.profile else None)
            finally:
                if not args.keep:
                    drop_database(name)
                    shutil.rmtree(run_home, ignore_errors=True)
            results[label].append(times)
            print(f"run {run + 1} {label}: " + ", ".join(f"{s} {times[s]:.1f} s" for s in STAGES)
                  + f", peak {times['peak_mb']:.0f} MB", flush=True)
        _write(args, results)


def _write(args: argparse.Namespace, results: dict[str, list[dict[str, float]]]) -> None:
    keys = (*STAGES, "total", *(f"{s} cpu" for s in STAGES), "total cpu", *(f"{s} server" for s in STAGES),
            "total server", "peak_mb")
    for runs in results.values():
        for times in runs:
            times["total"] = sum(times[s] for s in STAGES)
            times["total cpu"] = sum(times[f"{s} cpu"] for s in STAGES)
            times["total server"] = sum(times[f"{s} server"] for s in STAGES)
    median = {label: {k: statistics.median(r[k] for r in runs) for k in keys} for label, runs in results.items()}
    labels = list(results)
    lines = [f"# `hub resolve` through the store, per stage: {args.residents:,} residents, PostgreSQL", "",
             f"Median of {len(results[labels[0]])} runs, each from a copy of the same ingested store; "
             f"`python -m bench.resolve.store_path --residents {args.residents} --runs {args.runs} "
             f"--store {args.store}" + (f" --baseline {args.baseline}" if args.baseline else "") + "`. "
             "Runs alternated between the codes; the 2-core machine was shared with other work.", "",
             "| stage | " + " | ".join(labels) + " |", "| --- |" + " ---: |" * len(labels)]
    for key in keys:
        unit = ("MB" if key == "peak_mb" else "s, client CPU" if key.endswith(" cpu")
                else "s, server CPU" if key.endswith(" server") else "s, wall")
        name = "peak RSS" if key == "peak_mb" else key.removesuffix(" cpu").removesuffix(" server")
        lines.append(f"| {name} ({unit}) | " + " | ".join(f"{median[label][key]:.1f}" for label in labels) + " |")
    lines += ["", "Each run:", ""]
    for label, runs in results.items():
        for i, times in enumerate(runs, 1):
            lines.append(f"- {label} {i}: " + ", ".join(f"{s} {times[s]:.1f} s" for s in STAGES)
                         + f", peak {times['peak_mb']:.0f} MB")
    out = args.out or ROOT / "bench" / "results" / f"resolve-store-{args.residents}.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _home, _url, _profile = sys.argv[2:5]
        print("RESULT " + json.dumps(one_run(Path(_home), _url, Path(_profile) if _profile else None)), flush=True)
    else:
        main()
