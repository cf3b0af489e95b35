"""The rule set on a resolved demo district, on each store: precision and recall against the planted truth
(truth/anomalies.csv) of at least 0.95 per rule; and the demo's truth itself: seeded, and what it says holds in
the departments' records."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest

from bench.rules.score import rule_scores
from hub.demo import DemoManifest, running_property_api, write_connections_file
from hub.demo.anomalies import ANOMALIES
from hub.demo.clock import SNAPSHOT_TIME
from hub.pipeline import Hub, ingest, resolve
from hub.rules import load_rules, read_findings, run_rules
from hub.settings import HubSettings
from tests.conftest import MakeDistrict

ROOT = Path(__file__).resolve().parents[3]
RESIDENTS = 3000
FLOOR = 0.95
REFERENCE = SNAPSHOT_TIME.astype(datetime)


@pytest.fixture(scope="module")
def rules_district(tmp_path_factory: pytest.TempPathFactory, make_district: MakeDistrict) -> DemoManifest:
    return make_district(tmp_path_factory.mktemp("rules_district"), RESIDENTS, seed=7)


def test_planted_truth_is_seeded_and_holds_in_the_records(rules_district: DemoManifest, make_district: MakeDistrict,
                                                          tmp_path: Path) -> None:
    m = rules_district
    truth = pd.read_csv(m.truth_dir / "anomalies.csv", dtype=str, keep_default_na=False)
    assert m.anomalies == {a: int((truth["anomaly"] == a).sum()) for a in ANOMALIES}
    # a dead holder whose certificate stayed valid is rare (4 at 10,000 residents, none at 3,000): bench/rules;
    # a staff member's relative among the recipients too (3 at 3,000 residents, 24 at 20,000)
    rare = ("certificate_after_death", "welfare_staff_relative")
    assert all(n >= 5 for a, n in m.anomalies.items() if a not in rare), m.anomalies
    assert m.anomalies["welfare_staff_relative"] >= 2, m.anomalies
    again = make_district(tmp_path / "again", RESIDENTS, seed=7)
    assert (again.truth_dir / "anomalies.csv").read_bytes() == (m.truth_dir / "anomalies.csv").read_bytes()

    records = pd.read_csv(m.truth_dir / "records.csv", dtype=str, keep_default_na=False)
    people = records[records["entity_type"] == "person"]
    unregistered = set(truth.loc[truth["anomaly"] == "unregistered_tenant", "person_id"])
    assert not unregistered & set(people.loc[people["source"] == "gongan_population", "true_id"])
    assert unregistered <= set(people.loc[people["source"] == "wuye_tenants", "true_id"])
    persons = pd.read_csv(m.truth_dir / "persons.csv", dtype=str, keep_default_na=False).set_index("person_id")
    dead = truth.loc[truth["anomaly"] == "welfare_after_death", "person_id"]
    assert (persons.loc[dead, "death_date"] != "").all()
    floating_tenants = persons.loc[list(unregistered), "population_type"]
    assert (floating_tenants == "floating").all()
    orgs = records[records["entity_type"] == "organization"]
    sham = set(truth.loc[truth["anomaly"] == "insured_employer_unregistered", "organization_id"])
    assert sham and not sham & set(orgs.loc[orgs["source"] == "shichang_entities", "true_id"])
    assert sham <= set(orgs.loc[orgs["source"] == "renshe_insured", "true_id"])
    paying = set(truth.loc[truth["anomaly"] == "welfare_with_income", "person_id"])
    assert paying <= set(people.loc[people["source"] == "renshe_insured", "true_id"])
    assert set(truth.loc[truth["anomaly"] == "welfare_staff_relative", "person_id"]) <= set(
        people.loc[people["source"] == "minzheng_assistance", "true_id"])


def test_every_rule_meets_the_floor_on_the_planted_truth(rules_district: DemoManifest, settings: HubSettings,
                                                         record_property: pytest.RecordProperty) -> None:
    m = rules_district
    settings = settings.model_copy(update={"mappings_dir": ROOT / "mappings", "sources_dir": m.out_dir})
    hub = Hub.open(settings)
    try:
        with running_property_api(m.property_db, m.property_token) as base_url:
            assert settings.connections_file is not None
            write_connections_file(m, settings.connections_file, port=int(urlparse(base_url).port or 0))
            assert all(r.status == "succeeded" for r in ingest(hub))
        resolve(hub)
        rules = load_rules(ROOT / "rules", [s.source for s in hub.mappings()]).require_ok()
        run_rules(hub.engine, hub.vault, rules, now=REFERENCE)   # windows and ages judged at the snapshot
        found = read_findings(hub.engine)
        by_rule = {r.id: found[found["rule_id"] == r.id] for r in rules}
        scores = rule_scores(hub.engine, m.truth_dir, by_rule)
    finally:
        hub.engine.dispose()
    for rule_id, s in scores.items():
        line = f"planted {s['planted']}, found {s['found']}, precision {s['precision']:.3f}, recall {s['recall']:.3f}"
        record_property(rule_id, line)
        print(f"{rule_id}: {line}")   # shown by `pytest -rA`
    for rule_id in ANOMALIES:
        s = scores[rule_id]
        assert s["precision"] >= FLOOR and s["recall"] >= FLOOR, (rule_id, s)
