"""Rule benchmark: precision and recall of each rule against the planted truth, and the time to evaluate.

    python -m bench.rules --residents 10000 --seed 7 --home var/bench-rules [--runs 3]

Generates the demo district (SQLite department databases), ingests and resolves it into a SQLite store under
`--home` (kept: a second call with the same home reuses it), then evaluates the rule set `--runs` times and
scores the findings (bench/rules/score.py). Prints one line per rule and the median evaluation time.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

from pydantic import SecretStr

from bench.rules.score import rule_scores
from hub.demo import generate_district, load_manifest, running_property_api, write_connections_file
from hub.demo.clock import SNAPSHOT_TIME
from hub.pipeline import Hub, ingest, resolve
from hub.protect import new_key_text
from hub.rules import evaluate, load_rules
from hub.settings import HubSettings

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--home", type=Path, default=ROOT / "var" / "bench-rules")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    home: Path = args.home.resolve()
    key_file = home / "bench.key"
    fresh = not key_file.exists()
    home.mkdir(parents=True, exist_ok=True)
    if fresh:
        key_file.write_text(new_key_text(), encoding="utf-8")
        key_file.chmod(0o600)
    settings = HubSettings(home=home, mappings_dir=ROOT / "mappings", secret_key=SecretStr(key_file.read_text("utf-8")))
    if fresh:
        m = generate_district(home / "demo", residents=args.residents, seed=args.seed,
                              gongan_url=f"sqlite:///{home / 'gongan.db'}",
                              renshe_url=f"sqlite:///{home / 'renshe.db'}")
        hub = Hub.open(settings)
        with running_property_api(m.property_db, m.property_token) as base_url:
            assert settings.connections_file is not None
            write_connections_file(m, settings.connections_file, port=int(urlparse(base_url).port or 0))
            ingest(hub)
        resolve(hub)
    m = load_manifest(home / "demo")
    hub = Hub.open(settings)
    rules = load_rules(ROOT / "rules").require_ok()
    seconds = []
    for _ in range(args.runs):
        started = time.perf_counter()
        found = evaluate(hub.engine, hub.vault, rules, at=SNAPSHOT_TIME.astype(datetime))   # the district's "now"
        seconds.append(time.perf_counter() - started)
    print(f"district: {m.residents:,} residents, seed {m.seed}; planted {m.anomalies}")
    for rule_id, s in rule_scores(hub.engine, m.truth_dir, found).items():
        print(f"{rule_id}: planted {s['planted']}, found {s['found']}, precision {s['precision']:.3f}, "
              f"recall {s['recall']:.3f}, false positives {len(s['false_positives'])}, missed {len(s['missed'])}")
    print(f"evaluate (all rules, SQLite store): median {statistics.median(seconds):.2f} s of {args.runs} runs "
          f"({', '.join(f'{x:.2f}' for x in seconds)})")


if __name__ == "__main__":
    main()
