"""Statements: the normalized values (and relations) a source record states, with their lineage.

Stored one row per record entity (hub.statements.entries); read back one row per value with `explode`.
"""

from hub.statements.builder import (
    QUARANTINE_COLUMNS,
    RecordRefs,
    StatementBatch,
    build_statements,
)
from hub.statements.entries import ENTRY_FIELDS, LONG_COLUMNS, STATEMENT_COLUMNS, explode, long_frame

__all__ = ["ENTRY_FIELDS", "LONG_COLUMNS", "QUARANTINE_COLUMNS", "STATEMENT_COLUMNS", "RecordRefs", "StatementBatch",
           "build_statements", "explode", "long_frame"]
