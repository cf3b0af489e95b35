"""The benchmark's Markdown table (medians over runs) and its raw JSON beside it."""

from __future__ import annotations

import json
import platform
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

METRICS = ("precision", "recall", "f1", "b3_precision", "b3_recall", "b3_f1")


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(float(r[key]) for r in runs))


def _hard(runs: list[dict[str, Any]]) -> str:
    merged = [r["hard_negatives_merged"]["total"] for r in runs]
    return str(int(statistics.median(merged)))


def _row(label: str, runs: list[dict[str, Any]]) -> str:
    cells = [f"{_median(runs, m):.4f}" for m in METRICS]
    extra = f"{_median(runs, 'pair_completeness'):.4f}" if "pair_completeness" in runs[0] else "–"
    return (f"| {label} | {runs[0]['records']:,} | " + " | ".join(cells) + f" | {_hard(runs)} | "
            f"{_median(runs, 'seconds'):.1f} | {_median(runs, 'max_rss_mb'):,.0f} | {extra} |")


def _queue_lines(results: dict[str, Any]) -> list[str]:
    """The review queue each type's first run left, and pairwise F1 with it decided either way."""
    rows = [(key.split(":", 1)[1], runs[0]["queue"]) for key, runs in results.items()
            if key.startswith("hub:") and runs and "queue" in runs[0]]
    if not rows:
        return []
    lines = ["", "Review queue after the first run (bench.resolve.score.queue_scores): items as `hub review list` "
             "shows them (one per pair of entities), and pairwise P / R / F1 with the queue as the engine left it, "
             "all items accepted, all rejected (each a run with those judgements).", "",
             "| entity | records | queued pairs | items | items / records | items truly one entity | engine P / R / F1 "
             "| all accepted P / R / F1 | all rejected P / R / F1 |",
             "|---|---:|---:|---:|---:|---:|---|---|---|"]
    for entity_type, q in rows:
        ways = [" / ".join(f"{q[f'{way}_{m}']:.4f}" for m in ("precision", "recall", "f1"))
                for way in ("engine", "accepted", "rejected")]
        lines.append(f"| {entity_type} | {q['records']:,} | {q['queue_pairs']:,} | {q['queue_items']:,} | "
                     f"{100 * q['queue_share']:.2f} % | {q['true_items']:,} | " + " | ".join(ways) + " |")
    return lines


def write_report(results: dict[str, Any], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    residents = results["residents"]
    lines = [
        f"# Entity resolution benchmark: {residents:,} residents (seed {results['seed']})",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()} "
        f"({platform.python_version()}); medians of {results['runs']} run(s) per engine, each in its own process.",
        "Command: `python -m bench.resolve --residents " + f"{residents} --runs {results['runs']}`.",
        "Time runs from the normalized record frame to clusters (training included); memory is the peak RSS of "
        "the process doing the work (VmHWM). Door events (gongan_access) are left out of persons. Pair completeness "
        "is the share of true pairs blocking kept as direct candidates; organizations are blocked as stars (each "
        "record against the first of its credit code or name), which keeps every cluster but few direct pairs.",
        "",
        "| engine : entity | records | pair P | pair R | pair F1 | B³ P | B³ R | B³ F1 | hard negatives merged "
        "| seconds | peak MB | pair completeness |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, runs in results.items():
        if ":" in key and runs and key != "hub:incremental":
            lines.append(_row(key, runs))
    lines += _queue_lines(results)
    inc = results.get("hub:incremental")
    full = results.get("hub:person")
    if inc and full:
        inc_s, full_s = _median(inc, "seconds"), _median(full, "seconds")
        lines += ["", f"Incremental: 1% new person records ({inc[0]['new_records']:,}) placed in "
                      f"{inc_s:.2f} s = {100 * inc_s / full_s:.1f}% of the full run ({full_s:.1f} s with training; "
                      f"{_median(inc, 'full_seconds_same_model'):.1f} s re-resolving with the same model; the index "
                      f"incremental runs probe is built once after a full run, in "
                      f"{_median(inc, 'index_seconds'):.1f} s); "
                      f"pairwise F1 after the increment {_median(inc, 'f1'):.4f}."]
    if full:
        lines += ["", "Hub stages (last run, s): " + json.dumps(full[-1]["stages"]),
                  "", "Hub blocking (last run): " + json.dumps(full[-1]["blocking"])]
    splink = results.get("splink:person")
    if splink:
        lines += ["", "Splink stages (last run, s): " + json.dumps(splink[-1]["stages"])]
    path = out_dir / f"resolve-{residents}.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out_dir / f"resolve-{residents}.json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    return path
