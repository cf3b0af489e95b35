"""Statements: one normalized value of one attribute from one source record, with its lineage."""

from hub.statements.builder import (
    QUARANTINE_COLUMNS,
    STATEMENT_COLUMNS,
    RecordRefs,
    StatementBatch,
    build_statements,
)

__all__ = ["QUARANTINE_COLUMNS", "STATEMENT_COLUMNS", "RecordRefs", "StatementBatch", "build_statements"]
