"""Splink 5 baseline, run as a script in its own interpreter (and virtualenv: splink brings pyarrow,
which changes pandas' string storage for everything else in a process).

    python bench/resolve/splink_run.py INPUT.csv OUTPUT.csv [--threshold 0.9]

INPUT holds the normalized person records (unique_id, name, name_py, surname_py, resident_id,
birth_date, gender, phone, house, estate). Prints one JSON line: seconds per stage, pairs, peak memory.
Configured as well as we could: blocking on ID, phone, pinyin name + birth date and house + surname;
name levels exact / pinyin exact / pinyin Jaro-Winkler 0.9 and 0.8 with term frequencies; ID
exact / one or two edits; birth date exact / one edit / same year; phone exact with term
frequencies; house / estate; sex; u by random sampling, m by EM blocked on ID and on name + birth
date, prior from the ID rule, clustering at the chosen match probability.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import duckdb
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.backends.duckdb import DuckDBAPI


def settings() -> SettingsCreator:
    name = cl.CustomComparison(output_column_name="name", comparison_levels=[
        cll.NullLevel("name"),
        cll.ExactMatchLevel("name").configure(tf_adjustment_column="name"),
        cll.ExactMatchLevel("name_py").configure(tf_adjustment_column="name_py"),
        cll.JaroWinklerLevel("name_py", 0.9),
        cll.JaroWinklerLevel("name_py", 0.8),
        cll.ElseLevel(),
    ])
    dob = cl.CustomComparison(output_column_name="birth_date", comparison_levels=[
        cll.NullLevel("birth_date"),
        cll.ExactMatchLevel("birth_date"),
        cll.LevenshteinLevel("birth_date", 1),
        cll.CustomLevel("substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4)", "same year"),
        cll.ElseLevel(),
    ])
    house = cl.CustomComparison(output_column_name="house", comparison_levels=[
        cll.NullLevel("estate"),
        cll.ExactMatchLevel("house"),
        cll.ExactMatchLevel("estate"),
        cll.ElseLevel(),
    ])
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        blocking_rules_to_generate_predictions=[
            block_on("resident_id"),
            block_on("phone"),
            block_on("name_py", "birth_date"),
            block_on("house", "surname_py"),
        ],
        comparisons=[
            name,
            cl.LevenshteinAtThresholds("resident_id", [1, 2]),
            dob,
            cl.ExactMatch("gender"),
            cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
            house,
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def run(input_csv: str, output_csv: str, threshold: float) -> dict[str, object]:
    con = duckdb.connect()
    df = con.execute(f"select * from read_csv('{input_csv}', all_varchar=true, header=true)").df()
    df["unique_id"] = df["unique_id"].astype("int64")
    timings: dict[str, float] = {}
    started = clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 3)
        clock = now

    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register(df), settings())
    linker.training.estimate_probability_two_random_records_match([block_on("resident_id")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("resident_id"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_py", "birth_date"))
    lap("train")
    predictions = linker.inference.predict(threshold_match_probability=min(threshold, 0.5))
    pairs = predictions.as_duckdbpyrelation().count("*").fetchall()[0][0]
    lap("predict")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold)
    out = clusters.as_duckdbpyrelation().select("unique_id, cluster_id").df()
    lap("cluster")
    total = time.perf_counter() - started
    out.to_csv(output_csv, index=False)
    return {"seconds": round(total, 3), "stages": timings, "scored_pairs": int(pairs),
            "max_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """Peak RSS of this process since exec (VmHWM): ru_maxrss would count the parent's size at fork."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--threshold", type=float, default=0.9)
    args = parser.parse_args()
    print(json.dumps(run(args.input, args.output, args.threshold)))


if __name__ == "__main__":
    main()
