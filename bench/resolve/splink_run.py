"""Splink 5 baseline, run as a script in its own interpreter (and virtualenv: splink brings pyarrow,
which changes pandas' string storage for everything else in a process).

    python bench/resolve/splink_run.py INPUT.csv OUTPUT.csv [--threshold 0.95]

INPUT holds the normalized person records (unique_id, name, name_py, surname_py, name_loose, resident_id,
resident_id_masked, birth_date, gender, phone, house, estate; the hub's normalizer wrote them, outside the
timing; name_loose and resident_id_masked may be absent). Prints one JSON line: seconds per stage,
pairs at or above the threshold, peak memory.

Configured as a careful Splink user would, from the Splink 5 API (comparison and comparison-level
libraries, block_on, EM per training block):

- Derived columns (in DuckDB, see PREPARE): the region and last four digits of the ID, which is all a
  masked ID keeps; a Han name's characters sorted; whether the name is a surname plus a form of address.
- Blocking (BLOCKING): ID; phone; pinyin name + birth date; pinyin name + estate; surname + flat;
  surname + ID ends. At 100,000 residents they keep 96% of true pairs directly (clustering is transitive).
- Name: exact / same pinyin / same loose pinyin (a phonetic key, as Splink's dmetaphone level) with term
  frequencies; surname + form of address (王先生); one loose name starting the other (the father's name
  dropped from a transliterated name); same characters in another order (伟王); Jaro-Winkler 0.92 / 0.85
  on the loose pinyin; same surname (term frequencies); else.
- ID: exact / one edit or transposition (Damerau-Levenshtein 1: the check character makes two valid IDs
  differ in at least two places, so one edit is a typo) / same region and last four (masked IDs) / else.
- Birth date: exact / else. Day-month swap and one-edit levels were tried: no true pair in the generated
  data has them, EM drives their m to exactly 0 and Splink 5.0 then raises ("m_probability value 0.0 is
  below the minimum"), so they are left out.
- Phone and house as one comparison (both / phone with term frequencies / flat with term frequencies /
  estate / else): family members share both, and as two comparisons Splink's independence assumption
  counts one household twice, which merged spouses and twins.
- Gender exact.
- Training: prior from deterministic rules (ID; phone + name) at recall 0.8; u by random sampling of
  10 million pairs (seed 1); m by EM blocked on phone, on pinyin name + birth date and on ID (each session
  trains the comparisons it does not block on; Splink takes the median over sessions).
- Threshold: match probability 0.95 for prediction and for connected-components clustering, the same at
  every scale. Splink's match probability already carries the prior (probability two random records
  match, estimated per run from the data), so one probability is one decision rule at every size, where
  one match weight would not be. 0.95 was chosen on the 20,000-resident district (pairwise F1 0.9922 /
  0.9939 / 0.9955 / 0.9956 / 0.9905 / 0.9586 at 0.5 / 0.8 / 0.9 / 0.95 / 0.99 / 0.999) and not re-tuned
  for larger districts.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import duckdb
import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.backends.duckdb import DuckDBAPI

PREPARE = """
select *,
       coalesce(substr(resident_id, 1, 6) || substr(resident_id, 15, 4),
                substr(resident_id_masked, 1, 6) || substr(resident_id_masked, 15, 4)) as id_ends,
       case when not contains(name, '·') then array_to_string(list_sort(string_split(name, '')), '') end
           as name_sorted,
       regexp_matches(name, '{honorific}') as honorific
from read_csv('{path}', all_varchar=true, header=true, types={{'unique_id': 'BIGINT'}})
"""
"""Input as strings, plus derived columns: the ID's region and last four digits (all a masked ID,
650102********1234, keeps), a Han name's characters in sorted order (伟王 = 王伟), and whether the
name is a surname with a form of address (王先生)."""

HONORIFIC = "^.{1,2}(先生|女士|小姐|师傅|老师|阿姨|大爷|大妈|大姐|同志)$"

BLOCKING = [
    block_on("resident_id"),
    block_on("phone"),
    block_on("name_py", "birth_date"),
    block_on("name_py", "estate"),
    block_on("surname_py", "house"),
    block_on("surname_py", "id_ends"),
]
"""Candidate pairs: the same ID, phone, name (as pinyin, so homophone variants meet) and birth date,
name and estate, surname and flat, surname and masked ID."""


def settings() -> SettingsCreator:
    name = cl.CustomComparison(output_column_name="name", comparison_levels=[
        cll.NullLevel("name"),
        cll.ExactMatchLevel("name").configure(tf_adjustment_column="name"),
        cll.ExactMatchLevel("name_py").configure(tf_adjustment_column="name_py",
                                                 label_for_charts="same pinyin (homophone)"),
        cll.ExactMatchLevel("name_loose").configure(tf_adjustment_column="name_loose",
                                                    label_for_charts="same loose pinyin (other spelling)"),
        cll.CustomLevel("surname_py_l = surname_py_r and (honorific_l or honorific_r)",
                        "surname and a form of address (王先生)"),
        cll.CustomLevel("starts_with(name_loose_l, name_loose_r) or starts_with(name_loose_r, name_loose_l)",
                        "one name starts the other (father's name dropped)"),
        cll.ExactMatchLevel("name_sorted").configure(label_for_charts="same characters in another order (伟王)"),
        cll.JaroWinklerLevel("name_loose", 0.92),
        cll.JaroWinklerLevel("name_loose", 0.85),
        cll.ExactMatchLevel("surname_py").configure(tf_adjustment_column="surname_py",
                                                    label_for_charts="same surname"),
        cll.ElseLevel(),
    ])
    resident_id = cl.CustomComparison(output_column_name="resident_id", comparison_levels=[
        cll.NullLevel("id_ends"),
        cll.ExactMatchLevel("resident_id"),
        cll.DamerauLevenshteinLevel("resident_id", 1),
        cll.ExactMatchLevel("id_ends").configure(label_for_charts="region and last four digits"),
        cll.ElseLevel(),
    ])
    birth_date = cl.CustomComparison(output_column_name="birth_date", comparison_levels=[
        cll.NullLevel("birth_date"),
        cll.ExactMatchLevel("birth_date"),
        cll.ElseLevel(),
    ])
    contact = cl.CustomComparison(output_column_name="phone_house", comparison_levels=[
        cll.CustomLevel("(phone_l is null or phone_r is null) and (estate_l is null or estate_r is null)",
                        "nothing to compare").configure(is_null_level=True),
        cll.And(cll.ExactMatchLevel("phone"), cll.ExactMatchLevel("house")),
        cll.ExactMatchLevel("phone").configure(tf_adjustment_column="phone"),
        cll.ExactMatchLevel("house").configure(tf_adjustment_column="house"),
        cll.ExactMatchLevel("estate"),
        cll.ElseLevel(),
    ])
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        blocking_rules_to_generate_predictions=BLOCKING,
        comparisons=[
            name,
            resident_id,
            birth_date,
            cl.ExactMatch("gender"),
            contact,
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def train(linker: Linker) -> None:
    """Prior from near-certain rules, u by random sampling, m by EM on three blockings (each leaves
    the comparisons it blocks on to the others)."""
    linker.training.estimate_probability_two_random_records_match(
        [block_on("resident_id"), block_on("phone", "name")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("phone"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_py", "birth_date"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("resident_id"))


OPTIONAL = ("resident_id_masked", "name_loose")
"""Input columns older callers may not send: read as empty."""


def read_input(con: duckdb.DuckDBPyConnection, input_csv: str) -> pd.DataFrame:
    columns = con.sql(f"select * from read_csv('{input_csv}', header=true) limit 0").columns
    absent = "".join(f"null::varchar as {c}, " for c in OPTIONAL if c not in columns)
    sql = PREPARE.format(path=input_csv, honorific=HONORIFIC).replace("select *,", f"select *, {absent}", 1)
    return con.sql(sql).df()


def load(con: duckdb.DuckDBPyConnection, input_csv: str) -> Linker:
    return Linker(DuckDBAPI(connection=con).register(read_input(con, input_csv)), settings())


def run(input_csv: str, output_csv: str, threshold: float) -> dict[str, object]:
    con = duckdb.connect()
    df = read_input(con, input_csv)
    timings: dict[str, float] = {}
    started = clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 3)
        clock = now

    linker = Linker(DuckDBAPI(connection=con).register(df), settings())
    train(linker)
    lap("train")
    predictions = linker.inference.predict(threshold_match_probability=threshold)
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
    parser.add_argument("--threshold", type=float, default=0.95)
    args = parser.parse_args()
    print(json.dumps(run(args.input, args.output, args.threshold)))


if __name__ == "__main__":
    main()
