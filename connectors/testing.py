"""The conformance suite every connector gets with one line, as meltano's `get_tap_test_class`.

    TestMyContract = connector_contract_tests(lambda: MyConnector("src", {...}), expected_rows=120)

or, when the source needs a pytest fixture (a temporary file, a database), name a fixture that returns
the factory: `connector_contract_tests("my_factory", expected_rows=120)`. The checks:

- the object satisfies the Connector protocol and names its kind;
- `discover()` returns at least one column, with distinct names;
- `extract()` yields Batches of dicts whose keys are discovered columns, with aligned positions;
- rows + rejected rows add up to `expected_rows` (nothing dropped silently);
- watermarks are text, and the last batch has one when the connector is incremental;
- a new connector started from the last watermark yields nothing new: nothing at all when
  `strict_rerun`, else only rows already seen (closed-start sources re-send their boundary).

`check_connector` runs the same checks outside pytest (e.g. from a CLI).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.base import Batch, Connector, RejectedRow, SourceSchema

__all__ = ["check_connector", "connector_contract_tests"]

Factory = Callable[[], Connector]


@dataclass
class Run:
    batches: list[Batch]

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [row for batch in self.batches for row in batch.rows]

    @property
    def rejected(self) -> list[RejectedRow]:
        return [row for batch in self.batches for row in batch.rejected]

    @property
    def last_watermark(self) -> str | None:
        return self.batches[-1].watermark if self.batches else None


def run_extract(connector: Connector, watermark: str | None = None) -> Run:
    return Run(list(connector.extract(watermark)))


def check_protocol(connector: Connector) -> None:
    assert isinstance(connector, Connector), f"{type(connector).__name__} lacks discover() or extract()"
    kind = getattr(type(connector), "kind", None)
    assert isinstance(kind, str) and kind, f"{type(connector).__name__}.kind must name the connector kind"


def check_discover(connector: Connector) -> SourceSchema:
    schema = connector.discover()
    assert isinstance(schema, SourceSchema), f"discover() returned {type(schema).__name__}"
    assert schema.columns, "discover() found no columns"
    assert all(isinstance(n, str) and n for n in schema.names), "column names must be non-empty text"
    assert len(set(schema.names)) == len(schema.names), f"repeated column names: {schema.names}"
    return schema


def check_batches(run: Run, schema: SourceSchema) -> None:
    known = set(schema.names)
    for number, batch in enumerate(run.batches, start=1):
        assert isinstance(batch, Batch), f"batch {number} is a {type(batch).__name__}"
        assert isinstance(batch.rows, list) and isinstance(batch.rejected, list)
        assert batch.positions is None or len(batch.positions) == len(batch.rows), (
            f"batch {number}: {len(batch.positions or [])} positions for {len(batch.rows)} rows"
        )
        assert all(isinstance(r, RejectedRow) and r.position and r.reason for r in batch.rejected)
        for row in batch.rows:
            assert isinstance(row, dict), f"batch {number} holds a {type(row).__name__}, not a dict"
            unknown = set(row) - known
            assert not unknown, f"batch {number}: keys {sorted(unknown)} were not discovered"


def check_counts(run: Run, expected_rows: int | None) -> None:
    if expected_rows is not None:
        total = len(run.rows) + len(run.rejected)
        found = f"extracted {len(run.rows)} rows + {len(run.rejected)} rejected = {total}"
        assert total == expected_rows, f"{found}, expected {expected_rows}"


def check_watermarks(run: Run, strict_rerun: bool) -> None:
    for number, batch in enumerate(run.batches, start=1):
        assert batch.watermark is None or isinstance(batch.watermark, str), (
            f"batch {number}: watermark is a {type(batch.watermark).__name__}, not text"
        )
    if strict_rerun and run.batches:
        assert run.last_watermark is not None, "the last batch carries no watermark"


def _identity(row: dict[str, Any]) -> str:
    return json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)


def check_rerun(factory: Factory, first: Run, strict_rerun: bool) -> None:
    again = run_extract(factory(), first.last_watermark)
    if strict_rerun:
        assert not again.rows and not again.rejected, (
            f"extract(last watermark) yielded {len(again.rows)} rows and {len(again.rejected)} rejected again"
        )
    else:
        seen = {_identity(row) for row in first.rows}
        new = [row for row in again.rows if _identity(row) not in seen]
        assert not new, f"extract(last watermark) yielded {len(new)} rows the first run did not"


def check_connector(factory: Factory, *, expected_rows: int | None = None, strict_rerun: bool = True) -> None:
    """Every check in order; raises AssertionError naming the first one that fails."""
    connector = factory()
    check_protocol(connector)
    schema = check_discover(connector)
    first = run_extract(factory())
    check_batches(first, schema)
    check_counts(first, expected_rows)
    check_watermarks(first, strict_rerun)
    check_rerun(factory, first, strict_rerun)


def connector_contract_tests(
    factory: Factory | str, *, expected_rows: int | None = None, strict_rerun: bool = True
) -> type:
    """A pytest test class with one test per check. `factory` is a zero-argument callable returning a
    fresh connector, or the name of a fixture that returns such a callable."""
    import pytest

    class ConnectorContract:
        @pytest.fixture
        def make_connector(self, request: pytest.FixtureRequest) -> Factory:
            made: Factory = request.getfixturevalue(factory) if isinstance(factory, str) else factory
            return made

        @pytest.fixture
        def first_run(self, make_connector: Factory) -> Run:
            return run_extract(make_connector())

        def test_satisfies_protocol(self, make_connector: Factory) -> None:
            check_protocol(make_connector())

        def test_discover_returns_columns(self, make_connector: Factory) -> None:
            check_discover(make_connector())

        def test_batches_hold_discovered_columns(self, make_connector: Factory, first_run: Run) -> None:
            check_batches(first_run, make_connector().discover())

        def test_rows_and_rejected_add_up(self, first_run: Run) -> None:
            check_counts(first_run, expected_rows)

        def test_watermarks_are_text(self, first_run: Run) -> None:
            check_watermarks(first_run, strict_rerun)

        def test_rerun_from_last_watermark_adds_nothing(
            self, make_connector: Factory, first_run: Run
        ) -> None:
            check_rerun(make_connector, first_run, strict_rerun)

    ConnectorContract.__name__ = ConnectorContract.__qualname__ = "TestConnectorContract"
    return ConnectorContract
