"""The SQL departments on the real MariaDB server, in throw-away databases."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from hub.demo import generate_district
from hub.demo.sinks import drop_database


@pytest.mark.mariadb
def test_district_on_mariadb(tmp_path: Path, mariadb_database: str) -> None:
    gongan_url = mariadb_database
    renshe_url = sa.make_url(mariadb_database).set(database=f"{sa.make_url(mariadb_database).database}_renshe")
    renshe = renshe_url.render_as_string(hide_password=False)
    try:
        for _ in range(2):  # re-runnable: tables are dropped and recreated
            m = generate_district(tmp_path, residents=1000, seed=4, gongan_url=gongan_url, renshe_url=renshe)
        engine = sa.create_engine(gongan_url)
        with engine.connect() as conn:
            assert (
                conn.execute(sa.text("SELECT COUNT(*) FROM RK_SYRK")).scalar_one()
                == m.record_counts["gongan_population"]
            )
            names = [r[0] for r in conn.execute(sa.text("SELECT XM FROM RK_SYRK WHERE XM LIKE '%%·%%' LIMIT 5"))]
            columns = {c["name"]: c for c in sa.inspect(conn).get_columns("RK_SYRK")}
        engine.dispose()
        assert names and all("·" in n for n in names)  # utf8mb4 keeps the middle dot
        assert isinstance(columns["GXSJ"]["type"], sa.DateTime)
        engine = sa.create_engine(renshe)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT COUNT(*) FROM AC01")).scalar_one() == m.record_counts["renshe_insured"]
            assert isinstance({c["name"]: c for c in sa.inspect(conn).get_columns("AC01")}["AAC006"]["type"], sa.Date)
        engine.dispose()
    finally:
        drop_database(renshe)
