"""What a rule file may say (pydantic v2): the YAML form of a cross-department check.

A rule names the entity type its findings are about and a condition on such an entity: a list of clauses that
must all hold. Each clause is one set operation over the fused tables (hub.rules.engine):

- `value`: a golden value of the entity passes a test (present, eq, in, not_in; gt, ge, lt, le on numbers);
- `related`: the entity has current relations of a predicate to entities of a type, optionally only those
  whose golden values pass tests (`where`) or that a given source asserts (`sources`), at least `min` of them;
- `record`: the entity holds a record of one of the given sources;
- `any`: at least one of the inner clauses holds;
- `not`: the inner clause does not hold (an anti-join; it cites no evidence);
- `shares`: another entity of the type, one that meets the inner clauses (`with`), has the same golden value of
  an attribute or the same entity at the end of a relation (`on`): a welfare recipient in the household of a
  staff member (hub.rules.shares).
- `count`, `age`, `ratio`: paths of relations counted (optionally in a time window), ages and ratios at the run's
  reference time (hub.rules.windows).

Clauses named with `as` are the evidence a finding cites: the statements behind the golden values and the
relations the clause used (`evidence` lists which; every named positive clause when left out).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.rules.situations import Derives
from hub.rules.windows import AgeClause, CountClause, Hop, RatioClause

SEVERITIES = ("low", "medium", "high")
TESTS = ("present", "eq", "in_", "not_in", "gt", "ge", "lt", "le")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, hide_input_in_errors=True)


class Texts(_Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class ValueTest(_Strict):
    """A test of one value (compared as normalized text: dates are ISO, codes are the canonical names)."""

    present: bool | None = None
    eq: str | None = None
    in_: list[str] | None = Field(default=None, alias="in", min_length=1)
    not_in: list[str] | None = Field(default=None, min_length=1)
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    """Numeric comparisons (amounts, bases): a value that is not a number fails them."""

    @model_validator(mode="after")
    def _one_test(self) -> ValueTest:
        given = [k for k in TESTS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one test of: present, eq, in, not_in, gt, ge, lt, le")
        return self


Hop.model_rebuild(_types_namespace={"ValueTest": ValueTest})   # paths, windows, ages, ratios: hub.rules.windows


class ValueClause(ValueTest):
    attribute: str = Field(min_length=1)


class RelatedClause(_Strict):
    predicate: str
    direction: Literal["out", "in"] = "out"
    """out: the entity is the relation's subject (person rents house); in: its object (situation applies_to person)."""
    entity_type: str
    """The entity type at the other end."""
    where: dict[str, ValueTest] = Field(default_factory=dict)
    """Tests on golden values of the entity at the other end, all of which must pass."""
    sources: list[str] | None = Field(default=None, min_length=1)
    """Only relations asserted by one of these sources."""
    min: int = Field(default=1, ge=1)
    """At least this many distinct entities at the other end."""
    current: bool = True
    """Only relations a current record still states (valid_to empty)."""


class RecordClause(_Strict):
    sources: list[str] = Field(min_length=1)


class SharesClause(_Strict):
    """Another entity of the same type that meets `with` shares one of `on` with this one (hub.rules.shares)."""

    on: list[str] = Field(min_length=1)
    """What is shared: an attribute (the same golden value: household_no, the same 户号) or a predicate whose
    subject is the entity (the same entity at its other end: registered_at, registered at the same house)."""
    with_: list[Clause] = Field(alias="with", min_length=1)
    """Clauses the other entity must all meet (a staff member: employed_by a committee the roster names)."""


class Clause(_Strict):
    as_: str | None = Field(default=None, alias="as", pattern=r"^[a-z][a-z0-9_]*$")
    value: ValueClause | None = None
    related: RelatedClause | None = None
    record: RecordClause | None = None
    any_: list[Clause] | None = Field(default=None, alias="any", min_length=2)
    not_: Clause | None = Field(default=None, alias="not")
    shares: SharesClause | None = None
    count: CountClause | None = None
    age: AgeClause | None = None
    ratio: RatioClause | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Clause:
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a clause is exactly one of: " + ", ".join(k.rstrip("_") for k in KINDS))
        return self


KINDS = ("value", "related", "record", "any_", "not_", "shares", "count", "age", "ratio")


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,62}$")
    name: Texts
    description: Texts
    severity: Literal["low", "medium", "high"]
    entity_type: str
    condition: list[Clause] = Field(min_length=1)
    evidence: list[str] | None = Field(default=None, min_length=1)
    """The named clauses (`as`) whose statements a finding cites; every named positive clause when left out."""
    derives: Derives | None = None
    """A situation (情) the rule derives: its hits are periods of that situation (hub.rules.situations), not
    findings unless `derives.findings`."""

    def cited(self) -> list[str]:
        named = [c.as_ for c in self.condition if c.as_ and c.not_ is None]
        return list(self.evidence) if self.evidence is not None else [n for n in named if n]

SharesClause.model_rebuild()
