"""schemas.statement: the statement as the API publishes it."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from schemas import Statement

SEEN = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)


def _statement(**overrides: object) -> Statement:
    fields: dict[str, object] = {
        "entity_type": "person", "record_key": "hukou:000123", "attribute": "name", "value": "张伟",
        "source": "hukou", "source_record_id": "000123", "source_field": "XM", "raw_record_id": "9f2c",
        "run_id": "r-1", "first_seen": SEEN, "last_seen": SEEN,
    }
    return Statement.model_validate(fields | overrides)


def test_a_statement_points_back_to_its_raw_record_and_run() -> None:
    statement = _statement()
    assert (statement.raw_record_id, statement.run_id, statement.source_field) == ("9f2c", "r-1", "XM")
    assert Statement.model_validate_json(statement.model_dump_json()) == statement


def test_a_masked_statement_has_no_value() -> None:
    assert _statement(attribute="resident_id", value=None).value is None


def test_lineage_is_required_and_nothing_else_is_accepted() -> None:
    with pytest.raises(ValidationError):
        Statement.model_validate({"entity_type": "person", "attribute": "name"})
    with pytest.raises(ValidationError, match="extra"):
        _statement(token="abc")
