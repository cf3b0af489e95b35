"""Finding F4 of issue 18: a store knows its key, refuses any other, never gets a key made beside it, and
`hub keys rotate` re-encrypts it under a new key, keeping every id and token, resumable after SIGKILL.

The toy world of tests/hub/fuse (five small CSV sources) is ingested and resolved for real on each store.
"""

from __future__ import annotations

import base64
import os
import random
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from typer.testing import CliRunner

from hub.errors import ConfigurationError
from hub.keys import SWEEPS, KeyChanged, RotationRefused, rotate_key
from hub.pipeline import Hub, ingest, resolve
from hub.protect import (
    LEGACY_BLAKE2B,
    DataKeys,
    MasterKey,
    Vault,
    encryption_key,
    new_key_text,
    read_key_file,
    unwrap_key,
    write_key_file,
)
from hub.settings import HubSettings
from hub.statements.entries import stored_statements
from hub.store import make_engine, runs, tables
from hub.store.migrate import upgrade
from tests.hub.fuse.world import ROWS, build_world, write_rows
from tests.hub.store.legacy_store import forget_watermarks, store_as_before_profiles

REPO = Path(__file__).parents[3]
runner = CliRunner()


def _counts(engine: sa.Engine) -> dict[str, Any]:
    """Rows of every table, and the store's key rows: what "nothing written" compares."""
    with engine.connect() as conn:
        counts: dict[str, Any] = {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                                  for t in tables.metadata.sorted_tables}
        counts["store_key rows"] = sorted(tuple(r) for r in conn.execute(sa.select(tables.store_key)))
    return counts


def _fingerprint(key_text: str) -> str:
    return MasterKey(base64.b64decode(key_text), "test").fingerprint


def _world(settings: HubSettings, tmp_path: Path) -> Hub:
    hub = build_world(settings, tmp_path)
    resolve(hub)
    return hub


@pytest.mark.reliability("F4")
def test_another_key_is_refused_with_both_fingerprints_and_nothing_written(
        settings: HubSettings, tmp_path: Path, record_property: Any) -> None:
    hub = _world(settings, tmp_path)
    before = _counts(hub.engine)
    assert settings.secret_key is not None
    right = settings.secret_key.get_secret_value()
    wrong = new_key_text()
    accepted = 0
    for create in (True, False):
        with pytest.raises(ConfigurationError) as refused:
            other = Hub.open(hub.settings.model_copy(update={"secret_key": SecretStr(wrong)}), create=create)
            accepted += 1
            ingest(other)
        message = str(refused.value)
        assert "HUB_SECRET_KEY" in message and "HUB_KEY_FILE" in message
        assert _fingerprint(right) in message and _fingerprint(wrong) in message
        assert right not in message and wrong not in message
    # the same from a key file: the message names the file
    other_file = tmp_path / "other.key"
    write_key_file(other_file)
    with pytest.raises(ConfigurationError, match=str(other_file)):
        Hub.open(hub.settings.model_copy(update={"secret_key": None, "key_file": other_file}))
    with pytest.raises(ConfigurationError, match="wrong key"):      # nor rotated from another key
        rotate_key(hub.engine, hub.settings.model_copy(update={"secret_key": SecretStr(wrong)}), tmp_path / "n.key")
    assert not (tmp_path / "n.key").exists()
    assert _counts(hub.engine) == before
    assert not (hub.settings.home / "hub.key").exists()
    record_property("wrong-key opens accepted", accepted)


@pytest.mark.reliability("F4")
def test_first_run_on_an_empty_store_creates_the_key(store_url: str, tmp_path: Path, record_property: Any) -> None:
    settings = HubSettings(home=tmp_path / "home", database_url=store_url)
    assert settings.key_file is not None and not settings.key_file.exists()
    hub = Hub.open(settings)
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    key = read_key_file(settings.key_file)
    with hub.engine.connect() as conn:
        recorded = dict(conn.execute(sa.select(tables.store_key.c.name, tables.store_key.c.value)).all())
    assert recorded["key_check"] == key.check_value
    assert unwrap_key(key.material, recorded["token_key"]) == DataKeys.derive(key.material).token
    assert Hub.open(settings).vault.token("13800138000") == Vault(key.material).token("13800138000")
    record_property("keys created", 1)


@pytest.mark.reliability("F4")
def test_a_store_with_data_and_no_key_is_an_error_and_makes_no_key(
        settings: HubSettings, tmp_path: Path, record_property: Any) -> None:
    key_file = tmp_path / "home" / "hub.key"
    write_key_file(key_file)
    hub = build_world(settings.model_copy(update={"secret_key": None, "key_file": key_file}), tmp_path)
    before = _counts(hub.engine)
    key_file.unlink()
    made = 0
    for create in (True, False):
        with pytest.raises(ConfigurationError, match=r"HUB_SECRET_KEY.*HUB_KEY_FILE"):
            Hub.open(hub.settings, create=create)
        made += key_file.exists()
    # a store written before its check value was recorded (before migration 0007) is no different
    with hub.engine.begin() as conn:
        conn.execute(tables.store_key.delete())
    with pytest.raises(ConfigurationError, match="no key was given"):
        Hub.open(hub.settings)
    made += key_file.exists()
    assert made == 0
    data = [name for name in before if not name.startswith("store_key")]   # the test itself emptied store_key
    assert {k: _counts(hub.engine)[k] for k in data} == {k: before[k] for k in data}
    record_property("key files made beside a store", made)


@pytest.mark.reliability("F4")
def test_a_store_from_before_check_values_gets_one_from_the_key_that_opens_it(
        settings: HubSettings, tmp_path: Path) -> None:
    store_as_before_profiles(settings)    # written with keyed BLAKE2b ids, as stores of that time were
    hub = build_world(settings, tmp_path)
    with hub.engine.begin() as conn:
        conn.execute(tables.store_key.delete())
    with pytest.raises(ConfigurationError, match="does not open its data"):
        Hub.open(hub.settings.model_copy(update={"secret_key": SecretStr(new_key_text())}))
    with hub.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.store_key)).scalar_one() == 0
    reopened = Hub.open(hub.settings)
    assert reopened.vault.profile is LEGACY_BLAKE2B
    forget_watermarks(reopened.engine)
    again = ingest(reopened)
    assert sum(r.extracted for r in again) >= 10
    assert all(r.loaded == 0 for r in again)     # the same keys and digests: every id found again
    with pytest.raises(ConfigurationError, match="wrong key"):
        Hub.open(hub.settings.model_copy(update={"secret_key": SecretStr(new_key_text())}))


def _ciphertexts(engine: sa.Engine) -> list[bytes]:
    """Every ciphertext the store holds, from every column hub.keys.SWEEPS walks."""
    out: list[bytes] = []
    with engine.connect() as conn:
        for sweep in SWEEPS:
            if sweep.column == "statements":     # JSON entries: their value_enc fields
                out += [bytes(v) for v in stored_statements(conn)["value_enc"] if v is not None]
                continue
            column = sweep.table.c[sweep.column]
            out += [bytes(v) for v in conn.execute(sa.select(column).where(column.is_not(None))).scalars()]
    return out


def _snapshot(hub: Hub) -> dict[str, Any]:
    """Everything a reader gets back, decrypted, with the ids and tokens it is named by."""
    decrypt = hub.vault.decrypt
    with hub.engine.connect() as conn:
        raw = sorted((r.id, r.content_hash, decrypt(bytes(r.payload))) for r in conn.execute(
            sa.select(tables.raw_record.c.id, tables.raw_record.c.content_hash, tables.raw_record.c.payload)))
        quarantined = sorted(decrypt(bytes(v)) for v in conn.execute(
            sa.select(tables.quarantine.c.raw_enc).where(tables.quarantine.c.raw_enc.is_not(None))).scalars())
        frame = stored_statements(conn)
        statements = sorted((r.statement_id, r.attribute, r.value, r.token,
                             None if r.value_enc is None else decrypt(bytes(r.value_enc)))
                            for r in frame.itertuples(index=False))
        golden = sorted((r.entity_id, r.attribute, r.value, r.token, r.statement_id,
                         None if r.value_enc is None else decrypt(bytes(r.value_enc)))
                        for r in conn.execute(sa.select(tables.golden_value)))
        links = sorted(tuple(r) for r in conn.execute(sa.select(tables.record_link.c.record_key,
                                                                tables.record_link.c.entity_id)))
    return {"raw": raw, "quarantine": quarantined, "statements": statements, "golden": golden, "links": links}


def _explain(settings: HubSettings, *args: str) -> str:
    assert settings.secret_key is not None
    env = {"HUB_HOME": str(settings.home), "HUB_DATABASE_URL": settings.database_url,
           "HUB_SECRET_KEY": settings.secret_key.get_secret_value(), "HUB_MAPPINGS_DIR": str(settings.mappings_dir),
           "HUB_CRYPTO_PROFILE": settings.crypto_profile}
    from hub.cli import app

    result = runner.invoke(app, ["explain", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _quarantine_a_raw_row(hub: Hub) -> None:
    """A row no connector could parse keeps its raw text encrypted (quarantine.raw_enc): one more column."""
    from datetime import UTC, datetime

    with hub.engine.begin() as conn:
        conn.execute(tables.quarantine.insert().values(
            source="t_register", run_id="r", kind="record", reason="unparseable row",
            raw_enc=hub.vault.encrypt_text("R9,张伟,650102198503071012"), created_at=datetime.now(UTC)))


def _new_key_only(hub: Hub, new_key: bytes) -> Vault:
    """A vault that opens only what is sealed under the new key (no older key accepted)."""
    with hub.engine.connect() as conn:
        meta = dict(conn.execute(sa.select(tables.store_key.c.name, tables.store_key.c.value)).all())
    profile = hub.vault.profile
    return Vault(DataKeys(encryption_key(new_key, profile), unwrap_key(new_key, meta["token_key"]),
                          unwrap_key(new_key, meta["hash_key"])), profile)


@pytest.mark.reliability("F4")
@pytest.mark.parametrize("crypto_profile", ["standard", "gm"])
def test_rotation_keeps_ids_tokens_and_values(settings: HubSettings, tmp_path: Path, crypto_profile: str,
                                              record_property: Any) -> None:
    hub = _world(settings.model_copy(update={"crypto_profile": crypto_profile}), tmp_path)
    assert hub.vault.profile.name == crypto_profile
    _quarantine_a_raw_row(hub)
    before = _snapshot(hub)
    entity = before["links"][0][1]
    explained = (_explain(hub.settings, entity), _explain(hub.settings, "t_register|R1|person",
                                                           "t_welfare|1|person"))
    report = rotate_key(hub.engine, hub.settings, tmp_path / "new.key", batch_size=3)
    new = report.new_key
    assert report.resealed == len(_ciphertexts(hub.engine)) and not report.resumed
    assert report.state_files_removed > 0 and not list((hub.settings.home / "state").glob("*.state"))

    rotated = hub.settings.model_copy(update={"secret_key": SecretStr((tmp_path / "new.key").read_text().strip())})
    with pytest.raises(ConfigurationError, match="wrong key"):
        Hub.open(hub.settings, create=False)                 # the old key is dropped
    after = Hub.open(rotated, create=False)
    assert _snapshot(after) == before                        # values, ids, tokens, content hashes, links
    assert (_explain(rotated, entity), _explain(rotated, "t_register|R1|person", "t_welfare|1|person")) == explained
    only_new = _new_key_only(after, new.material)
    left_under_old = sum(1 for blob in _ciphertexts(after.engine) if only_new.reencrypt(blob) is not None)
    assert left_under_old == 0
    writer = Hub.open(rotated)
    assert all(r.loaded == 0 for r in ingest(writer))        # the same data finds its ids again
    resolve(writer)
    assert _snapshot(writer)["links"] == before["links"]
    record_property("ciphertexts left under the old key", left_under_old)


KILLER = """
import os, signal, sys
from pathlib import Path
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from hub.keys import rotate_key
from hub.settings import HubSettings
from hub.store import open_store

new_key_file, kill_at, mode = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
seen = 0

def count_and_kill() -> None:
    global seen
    seen += 1
    if seen == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)

if mode == "mid-batch":   # the batch's ciphertexts are updated, its progress marker too, nothing committed
    execute = Connection.execute
    def killing_execute(self, statement, *args, **kwargs):
        result = execute(self, statement, *args, **kwargs)
        if isinstance(statement, sa.Update) and statement.table.name == "store_key":
            count_and_kill()
        return result
    Connection.execute = killing_execute

settings = HubSettings()
engine = open_store(settings.database_url, create=False)
rotate_key(engine, settings, new_key_file, batch_size=2,
           on_batch=(lambda table, resealed: count_and_kill()) if mode == "after-commit" else None)
"""


@pytest.mark.reliability("F4")
@pytest.mark.slow
def test_rotation_killed_by_sigkill_resumes_and_completes(
        settings: HubSettings, tmp_path: Path, record_property: Any) -> None:
    hub = _world(settings, tmp_path)
    _quarantine_a_raw_row(hub)
    before = _snapshot(hub)
    assert settings.secret_key is not None
    env = {**os.environ, "PYTHONPATH": str(REPO), "HUB_HOME": str(hub.settings.home),
           "HUB_DATABASE_URL": hub.settings.database_url, "HUB_SECRET_KEY": settings.secret_key.get_secret_value()}
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    new_key_file = tmp_path / "new.key"
    with hub.engine.connect() as conn:   # batches of 2 rows a rotation walks: the kills must fall within
        batches = sum(-(-conn.execute(sa.select(sa.func.count()).where(
            sweep.table.c[sweep.column].is_not(None))).scalar_one() // 2) for sweep in SWEEPS)
    kills = 0
    for mode in ("mid-batch", "after-commit"):
        kill_at = rng.randint(1, max(1, batches // 3))
        process = subprocess.run([sys.executable, "-c", KILLER, str(new_key_file), str(kill_at), mode], env=env,
                                 capture_output=True, timeout=300)
        assert process.returncode == -signal.SIGKILL, (seed, process.stderr.decode()[-2000:])
        kills += 1
        # killed mid-way: the store still opens with the old key and reads back whole; not yet with the new one
        assert _snapshot(Hub.open(hub.settings, create=False)) == before, seed
        with pytest.raises(ConfigurationError, match="middle of a key rotation"):
            Hub.open(hub.settings.model_copy(update={"secret_key": SecretStr(new_key_file.read_text().strip())}))
    report = rotate_key(hub.engine, hub.settings, new_key_file, batch_size=2)
    assert report.resumed and report.new_key == read_key_file(new_key_file, report.new_key.origin)
    new = report.new_key
    rotated = hub.settings.model_copy(update={"secret_key": SecretStr(new_key_file.read_text().strip())})
    after = Hub.open(rotated, create=False)
    assert _snapshot(after) == before, seed
    only_new = _new_key_only(after, new.material)
    left_under_old = sum(1 for blob in _ciphertexts(after.engine) if only_new.reencrypt(blob) is not None)
    assert left_under_old == 0, seed
    record_property("rotations killed", kills)
    record_property("ciphertexts left under the old key", left_under_old)


def test_keygen_writes_the_key_file_once_and_still_prints(tmp_path: Path) -> None:
    from hub.cli import app

    env = {"HUB_HOME": str(tmp_path / "home")}
    printed = runner.invoke(app, ["keygen"], env=env)
    assert printed.exit_code == 0 and len(base64.b64decode(printed.output.strip())) == 32
    assert not (tmp_path / "home").exists()
    written = runner.invoke(app, ["keygen", "--write"], env=env)
    key_file = tmp_path / "home" / "hub.key"
    assert written.exit_code == 0, written.output
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    content = key_file.read_text()
    again = runner.invoke(app, ["keygen", "--write"], env=env)
    assert again.exit_code == 2 and "never overwritten" in again.output
    assert key_file.read_text() == content


# ---------------------------------------------------------------------------------------------------------------
# Rotation beside writers (issue 18's review of F4): refused beside a live run; a writer that opened the store
# in another key state fails its batch instead of sealing it with a key the store no longer reads.
# ---------------------------------------------------------------------------------------------------------------


def _rotation_rows(engine: sa.Engine) -> list[str]:
    """The names of the store's key rows: a rotation under way has its next_* rows and a progress marker."""
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(tables.store_key.c.name)).scalars())


def _left_under_old(hub: Hub, new_key: bytes) -> int:
    """Ciphertexts of the store that the new key alone does not open (lost once the old key is destroyed)."""
    only_new = _new_key_only(hub, new_key)
    return sum(1 for blob in _ciphertexts(hub.engine) if only_new.reencrypt(blob) is not None)


@pytest.mark.reliability("F4")
def test_rotation_refuses_to_start_or_switch_beside_a_live_run(
        settings: HubSettings, tmp_path: Path, record_property: Any) -> None:
    hub = _world(settings, tmp_path)
    before = _snapshot(hub)
    keys_before = _counts(hub.engine)["store_key rows"]
    new_key_file = tmp_path / "new.key"
    me = runs.ProcessMark.current()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with hub.engine.begin() as conn:   # a run left `running` by a killed process does not hold rotation up
        conn.execute(tables.run.insert().values(
            id="killed", stage="ingest", source="t_welfare", status="running", started_at=me.started_at,
            host=me.host, pid=dead.pid, pid_namespace=me.namespace, process_started_at=me.started_at,
            heartbeat_at=me.started_at))
    accepted = 0
    live = runs.start_run(hub.engine, "ingest", "t_register")
    try:
        rotate_key(hub.engine, hub.settings, new_key_file)
        accepted += 1
    except RotationRefused as refused:
        message = str(refused)
        assert "cannot start" in message and live.id in message and "killed" not in message
        assert "ingest of t_register" in message and f"process {os.getpid()} on {me.host}" in message
    assert not new_key_file.exists() and _counts(hub.engine)["store_key rows"] == keys_before
    with hub.engine.begin() as conn:
        assert runs.finish_run(conn, live.id, runs.SUCCEEDED)

    started: list[str] = []

    def start_a_run(table: str, resealed: int) -> None:   # an ingest begins while the sweep goes on
        if not started:
            started.append(runs.start_run(hub.engine, "ingest", "t_property").id)

    try:
        rotate_key(hub.engine, hub.settings, new_key_file, batch_size=2, on_batch=start_a_run)
        accepted += 1
    except RotationRefused as refused:
        assert "did not switch" in str(refused) and started[0] in str(refused)
    assert "next_key_check" in _rotation_rows(hub.engine)            # not switched: the old key still opens all
    assert _snapshot(Hub.open(hub.settings, create=False)) == before
    with hub.engine.begin() as conn:
        runs.finish_run(conn, started[0], runs.SUCCEEDED)
    report = rotate_key(hub.engine, hub.settings, new_key_file, batch_size=2)
    assert report.resumed
    rotated = hub.settings.model_copy(update={"secret_key": SecretStr(new_key_file.read_text().strip())})
    assert _snapshot(Hub.open(rotated, create=False)) == before
    record_property("rotations accepted beside a live run", accepted)


@pytest.mark.reliability("F4")
def test_a_writer_that_opened_the_store_before_a_rotation_fails_and_writes_nothing(
        settings: HubSettings, tmp_path: Path, record_property: Any) -> None:
    hub = _world(settings, tmp_path)
    assert hub.settings.sources_dir is not None
    before_rotation = Hub.open(hub.settings)                 # e.g. `hub ingest` of several sources, between two
    new_key_file = tmp_path / "new.key"

    def stop(table: str, resealed: int) -> None:
        raise KeyboardInterrupt("rotation stopped after its first batch")

    with pytest.raises(KeyboardInterrupt):
        rotate_key(hub.engine, hub.settings, new_key_file, batch_size=2, on_batch=stop)
    during_rotation = Hub.open(hub.settings)                 # opened while the rotation is under way

    def raw_rows() -> int:
        return _counts(hub.engine)["raw_record"]

    register = [*ROWS["register.csv"], ["R5", "孙丽", "", "2", "1995-06-01", "13500135000", "幸福小区1号楼1单元103室"]]
    write_rows(hub.settings.sources_dir, "register.csv", register)
    landed = raw_rows()
    [refused] = ingest(before_rotation, ["t_register"])
    assert refused.status == "failed" and refused.error is not None
    assert "the store's key changed while this run ran" in refused.error and "run again" in refused.error
    assert raw_rows() == landed and refused.loaded == 0
    with pytest.raises(KeyChanged):                          # resolution's writes check the same
        resolve(before_rotation, ["person"], full=True)

    [written] = ingest(during_rotation, ["t_register"])      # same key state: writes, under the new key
    assert written.status == "succeeded" and written.loaded == 1
    welfare = [*ROWS["welfare.csv"], ["3", "周杰", "", "13300133000", "幸福小区1号楼1单元104室", "500"]]
    write_rows(hub.settings.sources_dir, "welfare.csv", welfare)
    landed = raw_rows()
    report = rotate_key(hub.engine, hub.settings, new_key_file, batch_size=2)
    [after_switch] = ingest(during_rotation, ["t_welfare"])  # the rotation finished: its state is gone too
    assert after_switch.status == "failed" and "key changed" in (after_switch.error or "")
    assert raw_rows() == landed

    rotated = Hub.open(hub.settings.model_copy(update={"secret_key": SecretStr(
        new_key_file.read_text().strip())}), create=False)
    left = _left_under_old(rotated, report.new_key.material)
    assert left == 0
    [again] = ingest(Hub.open(rotated.settings), ["t_welfare"])   # run again: lands
    assert again.status == "succeeded" and again.loaded == 1
    record_property("ciphertexts left under the old key", left)
    record_property("batches committed in another key state", (refused.loaded or 0) + (after_switch.loaded or 0))


@pytest.mark.reliability("F4")
def test_rotation_of_an_empty_store_without_a_key_makes_no_key(
        store_url: str, tmp_path: Path, record_property: Any) -> None:
    settings = HubSettings(home=tmp_path / "home", database_url=store_url)
    engine = make_engine(store_url)
    upgrade(engine)
    assert settings.key_file is not None and not settings.key_file.exists()
    with pytest.raises(ConfigurationError, match="no key to rotate from") as refused:
        rotate_key(engine, settings)
    assert "HUB_SECRET_KEY" in str(refused.value) and "hub ingest" in str(refused.value)
    made = [path.name for path in (settings.home.glob("*") if settings.home.exists() else [])]
    assert made == []
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.store_key)).scalar_one() == 0
    engine.dispose()
    record_property("key files made by a rotation", len(made))
