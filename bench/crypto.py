"""Crypto profile timing: tokens, keyed hashes and encryption of 1,000,000 values, per profile.

    python -m bench.crypto [--values 1000000] [--runs 3]

The three per-value hot paths of ingest (bench/results/ingest.md): `Vault.tokens` of ID numbers and
phones, `Vault.keyed_hashes` of statement-id texts and `Vault.encrypt_many` of sensitive values. Each
profile the code knows is timed (a code without profiles: its one Vault, as "before"), runs interleaved
so that the machine's drift touches every profile alike; the median of the runs is printed as a table.
A timing script, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import hub.protect as protect


def _values(n: int) -> tuple[list[str], list[str]]:
    """ID-number-like and statement-id-like texts, as an ingest batch hands them to the vault."""
    ids = [f"11010119{i % 100:02d}{(i * 7919) % 10**8:08d}" for i in range(n)]
    statement_keys = [f"renshe_insured\x1f{i}\x1fperson\x1fresident_id\x1f{ids[i]}" for i in range(n)]
    return ids, statement_keys


def _vaults() -> dict[str, protect.Vault]:
    key = os.urandom(32)
    profiles = getattr(protect, "PROFILES", None)
    if profiles is None:
        return {"before (keyed BLAKE2b, AES-256-GCM)": protect.Vault(key)}
    return {profile.label: protect.Vault(key, profile) for profile in profiles.values()}


def _time(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ids, statement_keys = _values(args.values)
    vaults = _vaults()
    timings: dict[str, dict[str, list[float]]] = {name: {"tokens": [], "hashes": [], "encrypt": []} for name in vaults}
    for _ in range(args.runs):
        for name, vault in vaults.items():
            timings[name]["tokens"].append(_time(lambda v=vault: v.tokens(ids)))
            timings[name]["hashes"].append(_time(lambda v=vault: v.keyed_hashes(statement_keys)))
            timings[name]["encrypt"].append(_time(lambda v=vault: v.encrypt_many(ids)))
    n = args.values
    print(f"{n:,} values, median of {args.runs} runs")
    print("| profile | tokens/s | keyed hashes/s | tokens + hashes s | encrypt_many values/s |")
    print("| --- | --- | --- | --- | --- |")
    for name, t in timings.items():
        tokens, hashes, encrypt = (statistics.median(t[k]) for k in ("tokens", "hashes", "encrypt"))
        print(f"| {name} | {n / tokens:,.0f} | {n / hashes:,.0f} | {tokens + hashes:.2f} | {n / encrypt:,.0f} |")


if __name__ == "__main__":
    main()
