"""The hub's engine on one frame, in its own process (so its peak memory is its own).

    python -m bench.resolve.hub_run FRAME.pkl ENTITY_TYPE OUTPUT.csv [--incremental 0.01]

Full mode times resolve() with training, from the normalized frame to clusters. Incremental mode
resolves all but a random share first (untimed), then times resolve_incremental() on that share.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from hub.resolve.engine import resolve
from hub.resolve.incremental import resolve_incremental
from hub.resolve.resolved_state import ResolvedState


def _rss_mb() -> float:
    """Peak RSS of this process since exec (VmHWM): ru_maxrss would count the parent's size at fork."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def full(frame_path: str, entity_type: str, output: str) -> dict[str, object]:
    """resolve() on the frame read here and held nowhere else, so that resolve can free the records
    once it has their features (as a service reading a frame for one run would)."""
    holder = [pd.read_pickle(frame_path)]
    started = time.perf_counter()
    result = resolve(holder.pop(), entity_type)
    seconds = time.perf_counter() - started
    result.clusters.to_csv(output, index=False)
    # the review queue's pairs, and the weights, for bench.resolve.score.queue_scores
    result.pairs[["a", "b", "weight", "reason", "queued"]].to_pickle(output + ".pairs.pkl")
    result.model.save(Path(output + ".model.json"))
    return {"seconds": round(seconds, 3), "stages": result.stats["seconds"], "max_rss_mb": _rss_mb(),
            "candidate_pairs": result.stats["candidate_pairs"], "decisions": result.stats["decisions"],
            "blocking": result.stats["blocking"], "training": result.model.training}


def incremental(frame: pd.DataFrame, entity_type: str, output: str, share: float) -> dict[str, object]:
    new = np.random.default_rng(1).random(len(frame)) < share
    model = resolve(frame, entity_type).model
    started = time.perf_counter()
    existing = resolve(frame[~new], entity_type, model=model)
    full_seconds = time.perf_counter() - started
    started = time.perf_counter()
    state = ResolvedState.from_resolution(existing)   # what a full run leaves for the increments after it
    index_seconds = time.perf_counter() - started
    started = time.perf_counter()
    increment = resolve_incremental(state, frame[new], model)
    seconds = time.perf_counter() - started
    labels = pd.concat([existing.clusters, increment.assignments])
    labels.to_csv(output, index=False)
    return {"seconds": round(seconds, 3), "full_seconds_same_model": round(full_seconds, 3),
            "index_seconds": round(index_seconds, 3),
            "new_records": int(new.sum()), "stats": increment.stats}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("frame")
    parser.add_argument("entity_type")
    parser.add_argument("output")
    parser.add_argument("--incremental", type=float, default=0.0)
    args = parser.parse_args()
    if args.incremental:
        out = incremental(pd.read_pickle(args.frame), args.entity_type, args.output, args.incremental)
    else:
        out = full(args.frame, args.entity_type, args.output)
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
