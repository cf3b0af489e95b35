"""Change-feed lag: how long after a full resolution run publishes its version a follower has read every event.

    python -m bench.feed [--residents 2000] [--runs 3] [--store sqlite|postgres]

Each run generates the district (seed 7) into a fresh store, ingests every department, then starts a follower
that polls the feed as `hub feed tail --follow` does (operator policy, 1,000 events a page, 0.5 s between
polls when it is caught up) and runs a full resolution, which ends by publishing. The lag is the time between
the publication's commit (`publication.published_at`) and the moment the follower has read the last event of
that version; the follower's CPU seconds and the time to page the same events with `values=true` (masked
values, one more query a page) are reported too. Medians over the runs go to bench/results/feed-<residents>.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import sqlalchemy as sa
from pydantic import SecretStr

from hub.access.policy import Policy
from hub.demo import generate_district, running_property_api, write_connections_file
from hub.feed.view import feed_cursor, feed_steps
from hub.pipeline import Hub, ingest, resolve
from hub.protect import new_key_text
from hub.settings import HubSettings
from hub.store import tables
from hub.store.runs import as_utc, now
from hub.store.steps import run_steps
from hub.views import NothingPublished, open_reader

ROOT = Path(__file__).resolve().parents[1]
PG_SERVER = os.environ.get("HUB_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
POLICY = Policy.operator("bench")


class Follower(threading.Thread):
    def __init__(self, hub: Hub, interval: float = 0.5):
        super().__init__(daemon=True)
        self.hub, self.interval = hub, interval
        self.stop = threading.Event()
        self.read: dict[int, tuple[int, float]] = {}      # version → (events read, wall time of the last one)
        self.cpu = 0.0

    def run(self) -> None:
        cursor = feed_cursor(0)
        started = time.thread_time()
        while not self.stop.is_set():
            try:
                with self.hub.engine.connect() as conn:
                    page = run_steps(conn, feed_steps(open_reader(conn, self.hub.vault), POLICY, cursor=cursor,
                                                      limit=1000))
            except NothingPublished:
                page = None
            if page is not None and page.items:
                at = time.time()
                for item in page.items:
                    count, _ = self.read.get(item.version, (0, 0.0))
                    self.read[item.version] = (count + 1, at)
                cursor = page.next_cursor
                if page.more:
                    continue
            self.stop.wait(self.interval)
        self.cpu = time.thread_time() - started


def one_run(residents: int, store: str, tmp: Path) -> dict[str, float]:
    manifest = generate_district(tmp / "district", residents=residents, seed=7,
                                 gongan_url=f"sqlite:///{tmp / 'district' / 'gongan.db'}",
                                 renshe_url=f"sqlite:///{tmp / 'district' / 'renshe.db'}")
    schema = None
    if store == "sqlite":
        url = f"sqlite:///{tmp / 'hub.db'}"
    else:
        schema = f"hub_bench_feed_{uuid.uuid4().hex[:8]}"
        with sa.create_engine(PG_SERVER).begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        url = f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    settings = HubSettings(home=tmp / "home", database_url=url, sources_dir=manifest.out_dir,
                           secret_key=SecretStr(new_key_text()), mappings_dir=ROOT / "mappings")
    try:
        assert settings.connections_file is not None
        with running_property_api(manifest.property_db, manifest.property_token) as base_url:
            write_connections_file(manifest, settings.connections_file, port=urlparse(base_url).port or 0)
            hub = Hub.open(settings)
            ingest(hub)
        follower = Follower(hub)
        follower.start()
        started = time.perf_counter()
        report = resolve(hub)
        resolved = time.perf_counter() - started
        version = report.publication.version
        assert version is not None
        e, p = tables.change_event.c, tables.publication.c
        with hub.engine.connect() as conn:
            events = int(conn.execute(sa.select(sa.func.count()).where(e.version == version)).scalar_one())
            published = as_utc(conn.execute(sa.select(p.published_at).where(p.version == version)).scalar_one())
        assert published is not None
        deadline = time.time() + 120
        while follower.read.get(version, (0, 0.0))[0] < events and time.time() < deadline:
            time.sleep(0.05)
        follower.stop.set()
        follower.join()
        count, last = follower.read.get(version, (0, 0.0))
        lag = last - published.timestamp() if count == events else float("inf")
        started = time.perf_counter()
        cursor, paged = feed_cursor(0), 0
        with hub.engine.connect() as conn:
            while True:
                page = run_steps(conn, feed_steps(open_reader(conn, hub.vault), POLICY, cursor=cursor, limit=1000,
                                                  values=True))
                paged += len(page.items)
                cursor = page.next_cursor
                if not page.more:
                    break
        with_values = time.perf_counter() - started
        hub.engine.dispose()
        return {"events": events, "lag_s": lag, "follower_cpu_s": follower.cpu, "values_paging_s": with_values,
                "resolve_s": resolved, "publish_s": report.publication.seconds, "checked_at": now().timestamp()}
    finally:
        if schema is not None:
            with sa.create_engine(PG_SERVER).begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    results = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="hub-bench-feed-") as tmp:
            result = one_run(args.residents, args.store, Path(tmp))
        results.append(result)
        print(f"run {run + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in result.items() if k != "checked_at"),
              flush=True)
    keys = ("events", "lag_s", "follower_cpu_s", "values_paging_s", "resolve_s", "publish_s")
    medians = {k: statistics.median(r[k] for r in results) for k in keys}
    load = os.getloadavg()
    lines = [f"# Change-feed lag, {args.residents:,} residents ({args.store})", "",
             f"`python -m bench.feed --residents {args.residents} --runs {args.runs} --store {args.store}`; "
             f"{os.cpu_count()} cores shared with other work (load average {load[0]:.1f} at the end).", "",
             "| figure | median | runs |", "| --- | ---: | --- |"]
    for k in keys:
        lines.append(f"| {k} | {medians[k]:,.2f} | " + ", ".join(f"{r[k]:,.2f}" for r in results) + " |")
    out = ROOT / "bench" / "results" / f"feed-{args.residents}-{args.store}.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
