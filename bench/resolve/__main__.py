"""Entity-resolution benchmark: the hub's engine against Splink 5 on one generated district.

    python -m bench.resolve --residents 100000 --runs 3 [--splink-python PATH]

Steps: generate and ingest the district (cached), read the person frame (and houses,
organizations, vehicles), then run each engine `runs` times in a fresh subprocess on the same
normalized records and score each run against the generator's truth. Medians go to
bench/results/resolve-<residents>.md. Splink needs `splink==5.0.0` in the interpreter given by
--splink-python (its own virtualenv, by default $HUB_BENCH_CACHE/splink-venv; see splink_run.py for why).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from bench.resolve.data import CACHE, ROOT, ensure_store, load_frame, truth_dir
from bench.resolve.report import write_report
from bench.resolve.score import hard_negatives_merged, pair_completeness, queue_scores, scores, truth_labels
from hub.resolve.features import person_features
from hub.resolve.model import Model

DEFAULT_SPLINK_PYTHON = CACHE / "splink-venv" / "bin" / "python"
SPLINK_COLUMNS = {"name": "name", "name_py": "name_py", "surname_py": "name_head", "resident_id": "id_any",
                  "birth_date": "dob", "gender": "sex", "phone": "phone", "house": "house", "estate": "house_estate",
                  "name_loose": "name_loose", "resident_id_masked": "id_masked"}


def _run(command: list[str]) -> dict[str, Any]:
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command[1]} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _accuracy(labels: pd.Series, truth: pd.Series, tdir: Path) -> dict[str, Any]:
    out: dict[str, Any] = scores(labels, truth)
    out["hard_negatives_merged"] = hard_negatives_merged(labels, truth, tdir)
    return out


def run_hub(frame_path: Path, entity_type: str, work: Path, truth: pd.Series, tdir: Path,
            with_queue: bool = True) -> dict[str, Any]:
    """One timed run of the engine, scored; `with_queue`: also the review queue it left and its worth
    decided both ways (two more runs, untimed)."""
    output = work / f"hub-{entity_type}.csv"
    timing = _run([sys.executable, "-m", "bench.resolve.hub_run", str(frame_path), entity_type, str(output)])
    clusters = pd.read_csv(output, dtype=str)
    labels = clusters.set_index("record_key")["cluster"]
    result = {**timing, **_accuracy(labels, truth, tdir)}
    pairs = pd.read_pickle(str(output) + ".pairs.pkl")
    keys = clusters["record_key"].to_numpy(dtype=object)
    position = pd.Series(range(len(keys)), index=keys)
    result["pair_completeness"] = pair_completeness(
        keys, pairs["a"].map(position).to_numpy(), pairs["b"].map(position).to_numpy(), truth)
    if not with_queue:
        return result
    model = Model.load(Path(str(output) + ".model.json"))
    result["queue"] = queue_scores(pd.read_pickle(frame_path), entity_type, clusters, pairs, model, truth)
    return result


def run_incremental(frame_path: Path, work: Path, truth: pd.Series, tdir: Path) -> dict[str, Any]:
    output = work / "hub-incremental.csv"
    timing = _run([sys.executable, "-m", "bench.resolve.hub_run", str(frame_path), "person", str(output),
                   "--incremental", "0.01"])
    labels = pd.read_csv(output, dtype=str).set_index("record_key")["cluster"]
    return {**timing, **_accuracy(labels, truth, tdir)}


def splink_input(frame: pd.DataFrame, path: Path) -> pd.Series:
    """The same normalized records as Splink's CSV input; returns unique_id → record_key."""
    features = person_features(frame.sort_values("record_key").reset_index(drop=True))
    table = pd.DataFrame({"unique_id": range(len(features))})
    for column, feature in SPLINK_COLUMNS.items():
        table[column] = features[feature].to_numpy(dtype=object)
    table.to_csv(path, index=False)
    return features["record_key"]


def run_splink(python: Path, csv: Path, work: Path, keys: pd.Series, truth: pd.Series, tdir: Path,
               threshold: float) -> dict[str, Any]:
    output = work / "splink.csv"
    timing = _run([str(python), str(ROOT / "bench" / "resolve" / "splink_run.py"), str(csv), str(output),
                   "--threshold", str(threshold)])
    clusters = pd.read_csv(output)
    labels = pd.Series(clusters["cluster_id"].astype(str).to_numpy(), index=keys.iloc[clusters["unique_id"]].to_numpy())
    return {**timing, **_accuracy(labels, truth, tdir)}


def median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(float(r[key]) for r in runs))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.resolve")
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--splink-python", type=Path, default=DEFAULT_SPLINK_PYTHON)
    parser.add_argument("--splink-threshold", type=float, default=0.95)
    parser.add_argument("--skip-splink", action="store_true")
    parser.add_argument("--skip-incremental", action="store_true",
                        help="no incremental person run (it resolves the district twice more: long at 1M residents)")
    parser.add_argument("--engines", default="hub,splink",
                        help="comma-separated subset of hub,splink; without hub no report file is written")
    parser.add_argument("--entity-types", default="person,house,organization,thing")
    args = parser.parse_args()
    engines = set(args.engines.split(","))
    home = ensure_store(args.residents, args.seed)
    tdir = truth_dir(home)
    results: dict[str, Any] = {"residents": args.residents, "seed": args.seed, "runs": args.runs}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for entity_type in args.entity_types.split(","):
            frame = load_frame(home, entity_type)
            frame_path = work / f"{entity_type}.pkl"
            frame.to_pickle(frame_path)
            truth = truth_labels(tdir, entity_type)
            if "hub" in engines:
                results[f"hub:{entity_type}"] = [run_hub(frame_path, entity_type, work, truth, tdir, with_queue=i == 0)
                                                for i in range(args.runs if entity_type == "person" else 1)]
                print(entity_type, json.dumps(results[f"hub:{entity_type}"][-1], default=str)[:600], flush=True)
            if entity_type != "person":
                continue
            if "hub" in engines and not args.skip_incremental:
                results["hub:incremental"] = [run_incremental(frame_path, work, truth, tdir)
                                              for _ in range(args.runs)]
                print("incremental", json.dumps(results["hub:incremental"][-1], default=str)[:400], flush=True)
            if "splink" in engines and not args.skip_splink:
                keys = splink_input(frame, work / "splink-input.csv")
                results["splink:person"] = [
                    run_splink(args.splink_python, work / "splink-input.csv", work, keys, truth, tdir,
                               args.splink_threshold) for _ in range(args.runs)]
                print("splink", json.dumps(results["splink:person"][-1], default=str)[:600], flush=True)
    if "hub" not in engines:
        print("hub not run: report not written")
        return
    path = write_report(results, ROOT / "bench" / "results")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
