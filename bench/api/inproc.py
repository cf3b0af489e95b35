"""CPU per request of the hub's read paths in one process, sequentially: the figure that shared cores disturb least.

    python bench/api/inproc.py --database NAME --home DIR [--requests 2000] [--endpoint profile] [--concurrency 1]

Run as a file, with PYTHONPATH naming the tree whose hub is measured (a baseline: `git archive` of main):
the app is created in this process (audit on, its sealer thread running), called through httpx's ASGI
transport one request at a time, and the figures are this process's CPU (app, sealer and the test client,
whose share is the same for every tree: `health` measures that floor) and the CPU of the PostgreSQL backends
of the store's database, each divided by the requests answered. Prints one JSON line. `--concurrency N`: N
requests in flight at a time (as N clients would send them), so that what requests share (a group commit of
their audit rows) shows; 1, the default, one at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import httpx

from bench.api.__main__ import ROOT, bench_consumer, ensure_database, samples
from bench.api.speed import store_backends, store_cpu
from hub.api.app import create_app
from hub.settings import HubSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--endpoint", choices=["profile", "person", "health"], default="profile")
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    settings = HubSettings(home=args.home, database_url=ensure_database(args.database), mappings_dir=ROOT / "mappings")
    client_id, secret = bench_consumer(settings)
    ids = samples(settings, count=500)["ids"]
    paths = {"profile": [f"/api/v1/persons/{i}/profile" for i in ids], "person": [f"/api/v1/persons/{i}" for i in ids],
             "health": ["/health"]}[args.endpoint]
    app = create_app(settings)

    async def run() -> dict[str, float]:
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            token = (await client.post("/api/v1/token", data={
                "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            for path in paths[:200]:                                   # warm: prepared statements, caches
                assert (await client.get(path, headers=headers)).status_code == 200
            await asyncio.sleep(1.0)                                   # the sealer catches up
            store_before, cpu_before, wall = store_backends(settings), time.process_time(), time.perf_counter()
            async def client_loop(first: int) -> None:
                for k in range(first, args.requests, args.concurrency):
                    response = await client.get(paths[k % len(paths)], headers=headers)
                    assert response.status_code == 200, response.text

            await asyncio.gather(*(client_loop(i) for i in range(args.concurrency)))
            await asyncio.sleep(1.0)                                   # the sealer's share of these requests
            cpu, wall = time.process_time() - cpu_before, time.perf_counter() - wall - 1.0
            store = store_cpu(store_before, store_backends(settings))
        return {"process_cpu_ms": round(cpu * 1000 / args.requests, 3),
                "store_cpu_ms": round(store * 1000 / args.requests, 3),
                "wall_ms": round(wall * 1000 / args.requests, 3)}

    print(json.dumps({"endpoint": args.endpoint, "requests": args.requests, "concurrency": args.concurrency,
                      **asyncio.run(run())}), flush=True)


if __name__ == "__main__":
    main()
