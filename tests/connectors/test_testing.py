"""The contract suite itself: it passes a sound connector and catches each kind of broken one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from connectors.base import Batch, Column, RejectedRow, SourceSchema
from connectors.testing import check_connector, connector_contract_tests

ROWS = [{"n": i} for i in range(5)]


class Listing:
    """A tiny connector whose faults are switched on by name."""

    kind: ClassVar[str] = "listing"

    def __init__(self, *faults: str):
        self.faults = set(faults)

    def discover(self) -> SourceSchema:
        return SourceSchema(columns=(Column("n"),))

    def extract(self, watermark: str | None = None) -> Iterator[Batch]:
        if watermark == "end" and "replays" not in self.faults:
            return
        rows: list[dict[str, Any]] = [dict(r) for r in ROWS]
        if "drops" in self.faults:
            rows = rows[1:]
        if "undiscovered" in self.faults:
            rows[0]["m"] = 1
        mark: Any = 7 if "number_mark" in self.faults else "end"
        yield Batch(rows=rows[:3], watermark="mid")
        yield Batch(rows=rows[3:], watermark=mark, rejected=[RejectedRow("line 9", "bad")])


TestListingContract = connector_contract_tests(lambda: Listing(), expected_rows=6)


def test_a_sound_connector_passes() -> None:
    check_connector(lambda: Listing(), expected_rows=6)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("drops", "expected 6"),
        ("undiscovered", "were not discovered"),
        ("number_mark", "not text"),
        ("replays", "yielded 5 rows"),
    ],
)
def test_each_fault_is_caught(fault: str, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        check_connector(lambda: Listing(fault), expected_rows=6)


def test_a_lenient_rerun_allows_only_rows_already_seen() -> None:
    check_connector(lambda: Listing("replays"), expected_rows=6, strict_rerun=False)


def test_an_object_without_the_protocol_fails() -> None:
    with pytest.raises(AssertionError, match="lacks discover"):
        check_connector(lambda: object(), expected_rows=0)  # type: ignore[arg-type, return-value]
