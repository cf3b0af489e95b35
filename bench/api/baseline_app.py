"""The baseline of the API benchmark: bare FastAPI returning one row by primary key, nothing else.

No authentication, no audit, no masking, no read model: what the same machine, server and database give
for the simplest useful read, so the hub's figures can be judged against it in the same run.

    uvicorn --factory bench.api.baseline_app:create_app   (HUB_BENCH_BASELINE_URL names the database)
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from fastapi import FastAPI, HTTPException

TABLE = "bench_baseline_row"


def prepare(url: str, rows: int = 100_000) -> None:
    """A table of `rows` rows (id, name, payload) to read back by id."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {TABLE}"))
        conn.execute(sa.text(f"CREATE TABLE {TABLE} (id integer primary key, name text, payload text)"))
        conn.execute(sa.text(f"INSERT INTO {TABLE} SELECT g, 'name ' || g, repeat('x', 200) "
                             "FROM generate_series(1, :n) AS g"), {"n": rows})
    engine.dispose()


def create_app() -> FastAPI:
    engine = sa.create_engine(os.environ["HUB_BENCH_BASELINE_URL"], pool_size=8)
    query = sa.text(f"SELECT id, name, payload FROM {TABLE} WHERE id = :id")
    app = FastAPI()

    @app.get("/row/{row_id}")
    def row(row_id: int) -> dict[str, object]:
        with engine.connect() as conn:
            found = conn.execute(query, {"id": row_id}).mappings().first()
        if found is None:
            raise HTTPException(404)
        return dict(found)

    return app
