"""One measured ingest, run in its own process so its peak memory is its own (see bench.ingest).

Modes: `ingest` lands every mapping into the store (workers: a count, or `default`, the machine's cores);
`extract` only reads every source through its connector (the baseline: what reading alone costs).
Prints one JSON line with counts and seconds.
"""

from __future__ import annotations

import json
import sys
import time

from hub.pipeline import Hub, build_connector, ingest


def main(mode: str, workers: int | None) -> None:
    hub = Hub.open()
    started = time.perf_counter()
    if mode == "extract":
        records = 0
        for spec in hub.mappings():
            for batch in build_connector(spec, hub.settings).extract(None):
                records += len(batch.rows) + len(batch.rejected)
        statements, failed = 0, []
    else:
        results = ingest(hub, workers=workers)
        records = sum(r.extracted for r in results)
        statements = sum(r.statements for r in results)
        failed = [f"{r.source}: {r.error}" for r in results if r.status != "succeeded"]
    seconds = time.perf_counter() - started
    print(json.dumps({"records": records, "statements": statements, "seconds": seconds, "failed": failed}))


if __name__ == "__main__":
    given = sys.argv[2] if len(sys.argv) > 2 else "1"
    main(sys.argv[1] if len(sys.argv) > 1 else "ingest", None if given == "default" else int(given))
