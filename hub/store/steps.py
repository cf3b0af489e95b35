"""Reads written once, run on any connection: a view yields its queries and receives their rows (sans I/O).

A view's queries depend on what it read before (a search's candidates decide which summaries to read), so
a view is a generator: it yields a `Query`, receives the rows as a list, and at the end returns its
result. `run_steps` runs it on a SQLAlchemy connection (the CLI, exports, SQLite, tests); the API runs
the same generator on an asynchronous driver connection (hub/api/driver.py), so that a request waits for
the store without holding a thread and without SQLAlchemy's execution layer, and the views' decisions
(scope, masking, what is disclosed) exist once.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Connection

T = TypeVar("T")


@dataclass(frozen=True)
class Query:
    statement: sa.Executable
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]] = field(default_factory=dict)
    """Bound values; a list of them: the statement once per item (an insert of several rows)."""
    reused: bool = True
    """The statement object is built once and used again (module level, lru_cache): a driver may keep its
    compiled SQL keyed by it. False for a statement built for one request, which must not be kept."""
    batched: bool = False
    """A one-row write that may share its transaction with other requests' rows (the API's audit row: group
    commit, hub/api/driver.py): its result, as any query's, comes only once the row is committed. A
    SQLAlchemy connection runs it as any other statement, in the caller's transaction."""


Steps = Generator[Query, list[Any], T]
"""A view as steps: yields queries, receives each one's rows (attribute access by column name), returns."""


def run_steps(conn: Connection, steps: Steps[T]) -> T:
    """Run a view's steps on a SQLAlchemy connection, each query in turn."""
    try:
        query = next(steps)
        while True:
            result = conn.execute(query.statement, query.params)
            query = steps.send(list(result.all()) if result.returns_rows else [])
    except StopIteration as done:
        return done.value
