"""Persons: blocking keys, comparison levels and guards for department person records.

The field knowledge behind each choice is in /work/shared/matching-notes.md (§1 IDs, §3–4 names,
§5 dates, §6 phones, §7 addresses, §8 method); docs/matching.md lists the learned weights.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hub.resolve.compare import (
    ELSE,
    NULL,
    Comparison,
    Level,
    any_of,
    both_present,
    edits_at_most,
    equal,
    jaro_winkler_at_least,
    present,
)
from hub.resolve.features import person_features
from hub.resolve.keys import BlockingRule, column_keys, wildcard_keys
from hub.resolve.spec import EntitySpec, Guards, LevelMatrix, TrainingSession, level_of

REGISTER = "gongan_population"
"""The hukou register: one record per person, except the few duplicates its own ID settles."""

NAME = Comparison("name", present("name"), [
    NULL,
    Level("exact", equal("name"), "the same normalized name (simplified, U+00B7 separator)", "name"),
    Level("pinyin", equal("name_py"), "the same pinyin, surname read as a surname: homophones 王伟/王玮", "name_py"),
    Level("loose", equal("name_loose"),
          "the same loose pinyin (zh=z, ai=a, ng=n …): transliteration variants 买买提/玛买提, 艾力/阿里"),
    Level("swapped", equal("name_han_sorted"), "a Han name's characters in another order (伟王/王伟): "
                                                 "surname and given name fields joined backwards"),
    Level("reordered", any_of(equal("name_multi_sorted"), equal("name_loose", "name_loose_rev")),
          "a transliterated name's parts in another order (艾力·买买提): also father and son, so it needs "
          "the birth date or ID to agree"),
    Level("part_missing", equal("name_first", "name_loose"),
          "one side is only the other's own-name part: the father's name was dropped (买买提 / 买买提·艾力)"),
    Level("similar", jaro_winkler_at_least("name_loose", 0.9), "loose pinyin Jaro-Winkler ≥ 0.9"),
    Level("honorific", equal("name_honorific", "name_head"),
          "a surname with a form of address (王先生) and a name with that surname: needs a shared phone "
          "or house"),
    ELSE,
], "Person name, compared on keys that survive the defects of §3–4 of the matching notes.")

RESIDENT_ID = Comparison("resident_id", present("id_any", "id_masked_ends", "id_prefix14"), [
    NULL,
    Level("exact", equal("id_any"), "the same 18-character ID (a 15-digit number upgraded)"),
    Level("one_edit", edits_at_most("id_any", 1),
          "one character or one adjacent swap apart: a typo (two valid IDs never differ so little)"),
    Level("compatible", any_of(equal("id_masked_full", "id_any"), equal("id_prefix14", "id_any14")),
          "a masked ID rebuilt with the birth date, or the 14 digits an Excel cell kept, agree"),
    Level("masked_ends", equal("id_masked_ends", "id_ends"),
          "a masked ID (no birth date to rebuild it) shows the same district code and last four characters"),
    Level("different_valid", both_present("id"), "two different checksum-valid IDs: different persons, "
          "save a corrected number (review, never automatic)"),
    ELSE,
], "Resident ID number (GB 11643): typo-tolerant, with masked and spreadsheet-truncated forms.")

BIRTH_DATE = Comparison("birth_date", present("dob"), [
    NULL,
    Level("exact", equal("dob"), "the same birth date"),
    Level("swapped", equal("dob", "dob_swapped"), "day and month swapped (both ≤ 12)"),
    Level("typo", edits_at_most("dob", 1), "one digit or one adjacent swap apart"),
    Level("year", equal("birth_year"), "the same year only"),
    ELSE,
], "Birth date from the record, else read from its ID number.")

SEX = Comparison("sex", present("sex"), [
    NULL, Level("same", equal("sex"), "the same sex code"), ELSE,
], "Sex from the record, else from digit 17 of the ID.")

PHONE = Comparison("phone", present("phone"), [
    NULL,
    Level("exact", equal("phone"), "the same number; weighed by how many records share it (an office "
                                   "phone on many welfare rows says little)", "phone"),
    ELSE,
], "Phone: weak evidence (households and grid workers share numbers), term-frequency adjusted.")

HOUSE = Comparison("house", present("house_bur", "house_estate"), [
    NULL,
    Level("same_house", equal("house"), "the same estate, building, unit and room"),
    Level("same_rooms", equal("house_bur"), "the same building, unit and room, the estate written otherwise "
                                            "or missing"),
    Level("same_building", equal("house_building"), "the same building of the same estate"),
    Level("same_estate", equal("house_estate"), "the same estate"),
    ELSE,
], "The house a record places the person in (residence, else owned, else rented).")

SAME_ID = ("resident_id", "exact")
COMPARISONS = (NAME, RESIDENT_ID, BIRTH_DATE, SEX, PHONE, HOUSE)

RULES = (
    BlockingRule("id", column_keys("id_any"), cap=50),
    BlockingRule("id_masked", column_keys("id_any"), probe=column_keys("id_masked_full"), cap=50),
    BlockingRule("id_masked_ends", column_keys("id_ends", "name_head"),
                 probe=column_keys("id_masked_ends", "name_head"), cap=50),
    BlockingRule("id_prefix14", column_keys("id_any14"), probe=column_keys("id_prefix14"), cap=50),
    BlockingRule("id_typo", wildcard_keys(["id_any"]), probe=wildcard_keys(["id_unchecked"]), cap=50),
    BlockingRule("phone", column_keys("phone"), cap=30),
    BlockingRule("pinyin_dob", column_keys("name_py", "dob"), cap=50),
    BlockingRule("parts_year", column_keys("name_parts", "birth_year"), cap=100),
    BlockingRule("house_head", column_keys("house", "name_head"), cap=30),
    BlockingRule("rare_name", column_keys("name_py"), cap=8),
)


def _seed(levels: LevelMatrix) -> npt.NDArray[np.bool_]:
    """Pairs a data team's rules would link: the same ID, or the same name and birth date with a shared
    phone or house."""
    same_id = level_of(levels, COMPARISONS, "resident_id", "exact")
    same_name = level_of(levels, COMPARISONS, "name", "exact", "pinyin")
    same_dob = level_of(levels, COMPARISONS, "birth_date", "exact")
    contact = level_of(levels, COMPARISONS, "phone", "exact") | level_of(levels, COMPARISONS, "house", "same_house")
    no_conflict = ~level_of(levels, COMPARISONS, "resident_id", "different_valid")
    return same_id | (same_name & same_dob & contact & no_conflict)


PERSONS = EntitySpec(
    entity_type="person",
    features=person_features,
    rules=RULES,
    comparisons=COMPARISONS,
    seed_rule=_seed,
    guards=Guards(
        unique_column="id",
        duplicate_free_sources=frozenset({REGISTER}),
        same_entity=(SAME_ID,),
        requires={
            ("sex", "else"): (SAME_ID,),
            ("birth_date", "year"): (SAME_ID,),
            ("birth_date", "else"): (SAME_ID,),
            ("name", "else"): (SAME_ID,),
            ("name", "reordered"): (SAME_ID, ("birth_date", "exact"), ("birth_date", "swapped")),
            ("name", "honorific"): (("phone", "exact"), ("house", "same_house")),
        },
        # no question for a reviewer: two valid IDs are two persons, and a different name with no ID
        # agreeing is a household member sharing the phone and the flat
        vetoes={
            ("resident_id", "different_valid"): (),
            ("name", "else"): (SAME_ID, ("resident_id", "one_edit"), ("resident_id", "compatible"),
                               ("resident_id", "masked_ends")),
        },
    ),
    training_sessions=(
        TrainingSession("same_id", lambda levels: level_of(levels, COMPARISONS, "resident_id", "exact"),
                        frozenset({"resident_id"})),
        TrainingSession("same_name_and_birth_date",
                        lambda levels: level_of(levels, COMPARISONS, "name", "exact", "pinyin")
                        & level_of(levels, COMPARISONS, "birth_date", "exact"),
                        frozenset({"name", "birth_date"})),
    ),
    fixed_m={("resident_id", "different_valid"): 1e-4},
    prior_weights={
        ("resident_id", "one_edit"): 8.0, ("resident_id", "compatible"): 6.0, ("resident_id", "masked_ends"): 5.0,
        ("resident_id", "else"): -6.0,
        ("birth_date", "swapped"): 3.0, ("birth_date", "typo"): 2.0,
        ("name", "swapped"): 6.0, ("name", "reordered"): 2.0, ("name", "part_missing"): 3.0,
        ("name", "honorific"): 0.0,
    },
    upper=12.0,
    lower=8.0,
)
