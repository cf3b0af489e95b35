"""Forms on a generated district (SQLite, one process): the share of each form's fields the hub serves over its
applicants (hub.forms.served_shares, what `hub forms list` and `make run` print), the prefill core view's time
per person, and a write-back's time to land and pass the quality gate.

    python -m bench.forms --residents 2000 --out /tmp/forms-bench
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import sqlalchemy as sa

import schemas
from connectors.registry import available_kinds, register
from connectors.submissions import SubmissionsConnector
from hub.access.policy import Policy
from hub.forms import prefill, served_shares
from hub.forms.writeback import hub_forms, submit
from hub.store import tables
from hub.views import open_reader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--persons", type=int, default=200, help="persons prefilled for the timing")
    args = parser.parse_args()
    if "submissions" not in available_kinds():   # an install older than the entry point: build in this process
        register("submissions", SubmissionsConnector)
        os.environ["HUB_INGEST_WORKERS"] = "1"
    from tests.hub.api.conftest import build_fused

    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    hub, _manifest = build_fused(f"sqlite:///{args.out / 'hub.db'}", args.out, args.residents)
    print(f"district of {args.residents} residents built in {time.perf_counter() - started:.0f} s")
    forms = {f.id: f for f in hub_forms(hub.settings).require_ok()}
    with hub.engine.connect() as conn:
        reader = open_reader(conn, hub.vault)
        print("| form | title | applicants | fields | served from the hub | required fields served |")
        print("| --- | --- | --- | --- | --- | --- |")
        for share in served_shares(reader, list(forms.values())):
            print(f"| {share.form} | {share.title} | {share.persons} | {len(share.fields)} | {share.share:.1%} | "
                  f"{share.required_share:.1%} |")
        e = tables.pub_entity.c
        ids = [row[0] for row in conn.execute(sa.select(e.entity_id).where(
            e.entity_type == "person", e.state == "active").order_by(e.entity_id).limit(args.persons))]
        policy = Policy(actor="bench", role="consumer", purpose="bench", clearance=schemas.Sensitivity.internal,
                        entity_types=frozenset({"person", "house", "situation"}),
                        writes=frozenset({"floating_registration"}))
        times = []
        for entity_id in ids:
            cpu = time.process_time()
            prefill(reader, policy, forms["elderly_allowance"], entity_id)
            times.append(time.process_time() - cpu)
    times.sort()
    print(f"prefill (core view, CPU): median {statistics.median(times) * 1000:.1f} ms, "
          f"p99 {times[max(0, int(len(times) * 0.99) - 1)] * 1000:.1f} ms over {len(times)} persons")
    landed = []
    for entity_id in ids[:5]:
        wall = time.perf_counter()
        submit(hub, policy, forms["floating_registration"], {"education": "高中"}, subject_id=entity_id,
               collector="bench")
        landed.append(time.perf_counter() - wall)
    print(f"write-back (land + quality gate, wall): median {statistics.median(landed) * 1000:.0f} ms over 5")
    hub.engine.dispose()


if __name__ == "__main__":
    main()
