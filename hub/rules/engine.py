"""Run rules as set operations over the fused tables: each clause is a filter, join, anti-join or count over
whole columns (pandas), never a loop per entity.

The fused tables are read once per (entity type, attribute) and per (predicate, end types) for the whole rule
set, with the filters pushed into SQL. Welfare attributes are stored encrypted (schemas/: situation status is
itself sensitive), so a rule testing one decrypts that column in memory for the test and keeps only entity ids
and statement ids: no value leaves this module, and none is written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

from hub.fuse.statements import in_chunks
from hub.protect import Vault
from hub.rules.compare import compares
from hub.rules.model import Clause, RelatedClause, Rule, ValueTest
from hub.rules.shares import shared
from hub.rules.windows import PathRunner
from hub.store import tables
from hub.store.frames import frame_of

EVIDENCE = ["entity_id", "clause", "statement_id", "other_id"]
FINDING_COLUMNS = ["rule_id", "entity_type", "entity_id", "severity", "evidence", "sources", "related"]


def _no_evidence() -> pd.DataFrame:
    return pd.DataFrame(columns=EVIDENCE)


@dataclass
class FusedTables:
    """Reads of the fused tables, each done once per rule run and shared by every rule that needs it."""

    engine: Engine
    vault: Vault
    _golden: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict)
    _relations: dict[tuple[str, str, str], pd.DataFrame] = field(default_factory=dict)
    _entities: dict[str, pd.Index] = field(default_factory=dict)

    def entities(self, entity_type: str) -> pd.Index:
        """Ids of the active entities of a type."""
        if entity_type not in self._entities:
            e = tables.entity.c
            with self.engine.connect() as conn:
                ids = conn.execute(sa.select(e.id).where((e.entity_type == entity_type) & (e.state == "active"))
                                   ).scalars().all()
            self._entities[entity_type] = pd.Index(sorted(ids), dtype=object)
        return self._entities[entity_type]

    def golden(self, entity_type: str, attribute: str) -> pd.DataFrame:
        """entity_id, value (clear text, decrypted in memory where stored encrypted), statement_id; present values."""
        key = (entity_type, attribute)
        if key not in self._golden:
            g = tables.golden_value.c
            query = sa.select(g.entity_id, g.value, g.value_enc, g.statement_id).where(
                (g.entity_type == entity_type) & (g.attribute == attribute))
            with self.engine.connect() as conn:
                rows = frame_of(conn.execute(query), ["entity_id", "value", "value_enc", "statement_id"])
            hidden = rows["value"].isna() & rows["value_enc"].notna()
            if hidden.any():
                decrypt = self.vault.decrypt_text
                values = rows["value"].astype(object).to_numpy(copy=True)
                values[hidden.to_numpy()] = [decrypt(bytes(blob)) for blob in rows.loc[hidden, "value_enc"]]
                rows["value"] = values
            rows = rows.drop(columns="value_enc")
            self._golden[key] = rows[rows["value"].notna() & (rows["value"].astype(str) != "")].reset_index(drop=True)
        return self._golden[key]

    def relations(self, predicate: str, subject_type: str, object_type: str) -> pd.DataFrame:
        """subject_id, object_id, sources (JSON text), statement_ids (JSON text), current."""
        key = (predicate, subject_type, object_type)
        if key not in self._relations:
            r = tables.relation.c
            query = sa.select(r.subject_id, r.object_id, r.sources, r.statement_ids, r.valid_to).where(
                (r.predicate == predicate) & (r.subject_type == subject_type) & (r.object_type == object_type))
            with self.engine.connect() as conn:
                rows = frame_of(conn.execute(query), ["subject_id", "object_id", "sources", "statement_ids",
                                                      "valid_to"])
            rows["current"] = rows["valid_to"].isna()
            self._relations[key] = rows.drop(columns="valid_to")
        return self._relations[key]

    def holders(self, entity_type: str, sources: Sequence[str]) -> pd.Index:
        """Entities of a type holding a record of one of `sources`."""
        link = tables.record_link.c
        with self.engine.connect() as conn:
            ids = conn.execute(sa.select(link.entity_id).distinct().where(
                (link.entity_type == entity_type) & link.source.in_(list(sources)))).scalars().all()
        return pd.Index(ids, dtype=object)

    def statement_sources(self, statement_ids: Sequence[str]) -> pd.Series:
        """statement id → its source, for the evidence of the findings."""
        s = tables.statement.c
        with self.engine.connect() as conn:
            rows = in_chunks(conn, sa.select(s.id, s.source), ["id", "source"], s.id.in_, statement_ids)
        return rows.drop_duplicates("id").set_index("id")["source"]


def _passes(values: pd.Series, test: ValueTest) -> tuple[np.ndarray, bool]:
    """(mask over present values, positive): a positive test keeps the entities whose value passes; a negative
    one (`not_in`, `present: false`) drops the entities whose value fails it, so an absent value passes."""
    if test.present is not None:
        return np.ones(len(values), dtype=bool), test.present
    text = values.astype(str)
    if test.eq is not None:
        return (text == test.eq).to_numpy(), True
    if test.in_ is not None:
        return text.isin(test.in_).to_numpy(), True
    if test.not_in is not None:
        return text.isin(test.not_in).to_numpy(), False
    return compares(values, test), True


def _filter_by_value(ids: pd.Series, rows: pd.DataFrame, test: ValueTest) -> tuple[np.ndarray, pd.DataFrame]:
    """Which of `ids` pass `test` on the golden values `rows`, and the golden rows cited for those that do."""
    mask, positive = _passes(rows["value"], test)
    hit = rows.loc[mask]
    inside = ids.isin(hit["entity_id"]).to_numpy()
    keep = inside if positive else ~inside
    cited = hit if positive else rows.loc[~mask]
    return keep, cited


class RuleRunner:
    def __init__(self, fused: FusedTables, at: datetime | None = None):
        self.fused = fused
        self.paths = PathRunner(fused, at or datetime.now(UTC))

    def run(self, rule: Rule) -> pd.DataFrame:
        """The findings of one rule: FINDING_COLUMNS, one row per entity, sorted by entity id."""
        candidates = self.fused.entities(rule.entity_type)
        cited = set(rule.cited())
        evidence = []
        for clause in rule.condition:
            candidates, found = self.clause(rule.entity_type, clause, candidates)
            if clause.as_ in cited:
                evidence.append(found.assign(clause=clause.as_))
            if candidates.empty:
                break
        ev = pd.concat(evidence, ignore_index=True) if evidence else _no_evidence()
        ev = ev[ev["entity_id"].isin(candidates)]
        return self._findings(rule, candidates, ev)

    def clause(self, entity_type: str, clause: Clause, candidates: pd.Index) -> tuple[pd.Index, pd.DataFrame]:
        """The candidates for which `clause` holds, and the evidence rows (EVIDENCE columns) it cites for them."""
        ids = pd.Series(candidates, dtype=object)
        if clause.value is not None:
            rows = self.fused.golden(entity_type, clause.value.attribute)
            rows = rows[rows["entity_id"].isin(candidates)]
            keep, hit = _filter_by_value(ids, rows, clause.value)
            found = pd.DataFrame({"entity_id": hit["entity_id"], "clause": None, "statement_id": hit["statement_id"],
                                  "other_id": None})
            return pd.Index(ids[keep], dtype=object), found[EVIDENCE]
        if clause.related is not None:
            return self.related(entity_type, clause.related, ids)
        if clause.count is not None:
            return self.paths.count(entity_type, clause.count, ids)
        if clause.age is not None:
            return self.paths.age(entity_type, clause.age, ids)
        if clause.ratio is not None:
            return self.paths.ratio(entity_type, clause.ratio, ids)
        if clause.record is not None:
            held = self.fused.holders(entity_type, clause.record.sources)
            return pd.Index(ids[ids.isin(held)], dtype=object), _no_evidence()
        if clause.shares is not None:
            return shared(self, entity_type, clause.shares, ids)
        if clause.any_ is not None:
            branches = [self.clause(entity_type, branch, candidates) for branch in clause.any_]
            union = np.concatenate([got.to_numpy() for got, _ in branches])
            return (pd.Index(ids[ids.isin(union)], dtype=object),
                    pd.concat([ev for _, ev in branches], ignore_index=True))
        assert clause.not_ is not None
        negated, _ = self.clause(entity_type, clause.not_, candidates)
        return pd.Index(ids[~ids.isin(negated)], dtype=object), _no_evidence()

    def related(self, entity_type: str, clause: RelatedClause, ids: pd.Series) -> tuple[pd.Index, pd.DataFrame]:
        out = clause.direction == "out"
        subject, obj = (entity_type, clause.entity_type) if out else (clause.entity_type, entity_type)
        rows = self.fused.relations(clause.predicate, subject, obj)
        rows = rows.rename(columns={"subject_id": "entity_id", "object_id": "other_id"} if out
                           else {"object_id": "entity_id", "subject_id": "other_id"})
        rows = rows[rows["entity_id"].isin(ids)]
        if clause.current:
            rows = rows[rows["current"]]
        if clause.sources is not None:
            asserted = np.zeros(len(rows), dtype=bool)
            for source in clause.sources:
                asserted |= rows["sources"].str.contains(json.dumps(source), regex=False).to_numpy()
            rows = rows[asserted]
        extra = []
        for attribute, test in clause.where.items():
            golden = self.fused.golden(clause.entity_type, attribute)
            golden = golden[golden["entity_id"].isin(rows["other_id"])]
            keep, hit = _filter_by_value(rows["other_id"], golden, test)
            rows = rows[keep]
            extra.append(hit[["entity_id", "statement_id"]].rename(columns={"entity_id": "other_id"}))
        counts = rows.groupby("entity_id")["other_id"].nunique()
        passing = counts.index[counts.to_numpy() >= clause.min]
        rows = rows[rows["entity_id"].isin(passing)]
        behind = rows[["entity_id", "other_id", "statement_ids"]].assign(
            statement_id=[json.loads(text) for text in rows["statement_ids"]]).explode("statement_id")
        found = [behind[["entity_id", "other_id", "statement_id"]]]
        for hit in extra:   # the statements behind the tested values of the entities at the other end
            found.append(rows[["entity_id", "other_id"]].merge(hit, on="other_id"))
        ev = pd.concat(found, ignore_index=True).assign(clause=None)[EVIDENCE]
        return pd.Index(ids[ids.isin(passing)], dtype=object), ev

    def _findings(self, rule: Rule, ids: pd.Index, ev: pd.DataFrame) -> pd.DataFrame:
        if ids.empty:
            return pd.DataFrame(columns=FINDING_COLUMNS)
        ev = ev.dropna(subset=["statement_id"]).drop_duplicates(["entity_id", "clause", "statement_id", "other_id"])
        sources = self.fused.statement_sources(ev["statement_id"].unique().tolist())
        ev = ev.assign(source=ev["statement_id"].map(sources).fillna(""))
        ev = ev.sort_values(["entity_id", "clause", "source", "statement_id"], kind="stable")
        cites = {k: json.dumps(g[["clause", "source", "statement_id"]].to_numpy().tolist(), ensure_ascii=False)
                 for k, g in ev.groupby("entity_id", sort=False)}
        srcs = {k: json.dumps(sorted(set(g)), ensure_ascii=False) for k, g in ev.groupby("entity_id")["source"]}
        others = ev.dropna(subset=["other_id"]).drop_duplicates(["entity_id", "clause", "other_id"])
        related = {k: json.dumps({c: sorted(o["other_id"]) for c, o in g.groupby("clause")}, ensure_ascii=False)
                   for k, g in others.groupby("entity_id")}
        frame = pd.DataFrame({"entity_id": sorted(ids)})
        return frame.assign(
            rule_id=rule.id, entity_type=rule.entity_type, severity=rule.severity,
            evidence=frame["entity_id"].map(cites).astype(object).fillna("[]"),
            sources=frame["entity_id"].map(srcs).astype(object).fillna("[]"),
            related=frame["entity_id"].map(related).astype(object).fillna("{}"),   # all missing: float64 else
        )[FINDING_COLUMNS]


def evaluate(engine: Engine, vault: Vault, rules: Sequence[Rule], at: datetime | None = None
             ) -> dict[str, pd.DataFrame]:
    """The findings of each rule (rule id → FINDING_COLUMNS frame), the fused tables read once for all; windows
    and ages are judged at `at` (now when left out)."""
    runner = RuleRunner(FusedTables(engine, vault), at)
    return {rule.id: runner.run(rule) for rule in rules}
