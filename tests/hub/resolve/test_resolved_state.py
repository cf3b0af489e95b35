"""The kept resolution state: written encrypted, read back whole, and refused when it cannot be trusted."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pandas as pd
import pytest

from hub.protect import Vault
from hub.resolve.engine import resolve
from hub.resolve.incremental import resolve_incremental
from hub.resolve.resolved_state import FORMAT, ResolvedState, load_state, save_state, state_path
from tests.hub.resolve.conftest import frame, person

ID = "11010519491231002X"


@pytest.fixture
def vault() -> Vault:
    return Vault(os.urandom(32))


@pytest.fixture
def state() -> ResolvedState:
    records = frame(
        person("1", source="gongan_population", name="张伟", resident_id=ID, birth_date="1949-12-31",
               phone="13800138000"),
        person("2", name="张伟", resident_id=ID, phone="13800138000"),
        person("3", source="minzheng_dibao", name="李娜", birth_date="1990-05-06", phone="13911112222"),
    )
    return ResolvedState.from_resolution(resolve(records, "person"))


def test_a_saved_state_reads_back_and_resolves_alike(tmp_path: Path, vault: Vault, state: ResolvedState) -> None:
    saved = save_state(tmp_path, vault, "run-1", state)
    assert saved.base_id == "run-1"
    loaded = load_state(tmp_path, vault, "person", "run-1")
    assert loaded is not None and loaded.base_id == "run-1" and len(loaded) == len(state)
    pd.testing.assert_frame_equal(loaded.base.features, state.base.features)
    newcomer = frame(person("4", source="wuye_owners", name="张伟", phone="13800138000"))
    assert resolve_incremental(loaded, newcomer).assignments.equals(resolve_incremental(state, newcomer).assignments)


def test_the_file_holds_no_value_in_clear(tmp_path: Path, vault: Vault, state: ResolvedState) -> None:
    save_state(tmp_path, vault, "run-1", state)
    for path in tmp_path.iterdir():
        assert path.stat().st_mode & 0o077 == 0          # readable by the hub's user only, like the key file
        data = path.read_bytes()
        for value in (ID, "13800138000", "张伟", "李娜"):
            assert value.encode() not in data and value.encode("utf-16-le") not in data


@pytest.mark.parametrize("compacts", [False, True])
def test_an_increment_rewrites_the_base_only_when_it_compacts(tmp_path: Path, vault: Vault, state: ResolvedState,
                                                            compacts: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hub.resolve.resolved_state.COMPACT_SHARE", 0.0 if compacts else 10.0)
    saved = save_state(tmp_path, vault, "run-1", state)
    base = state_path(tmp_path, "person", "base")
    written = base.read_bytes()
    newcomer = frame(person("4", source="wuye_owners", name="张伟", phone="13800138000"))
    increment = resolve_incremental(saved, newcomer)
    keys = increment.features["record_key"].to_numpy(dtype=object)
    advanced = saved.advance(keys, increment.features, increment.assignments["cluster"].to_numpy(dtype=object))
    assert (advanced.delta is None) == compacts
    save_state(tmp_path, vault, "run-2", advanced)
    assert (base.read_bytes() != written) == compacts
    loaded = load_state(tmp_path, vault, "person", "run-2")
    assert loaded is not None and loaded.live_records() == 4 and loaded.base_id == ("run-2" if compacts else "run-1")


@pytest.mark.parametrize("damage", ["other_run", "flipped_byte", "cut_short", "other_key", "old_format",
                                    "base_of_another_run"])
def test_a_state_that_cannot_be_trusted_is_not_used(tmp_path: Path, vault: Vault, state: ResolvedState,
                                                    damage: str) -> None:
    save_state(tmp_path, vault, "run-1", state)
    small, base = state_path(tmp_path, "person"), state_path(tmp_path, "person", "base")
    run, key = "run-1", vault
    if damage == "other_run":
        run = "run-0"
    elif damage == "flipped_byte":
        data = bytearray(base.read_bytes())
        data[len(data) // 2] ^= 1
        base.write_bytes(bytes(data))
    elif damage == "cut_short":
        small.write_bytes(small.read_bytes()[:-10])
    elif damage == "other_key":
        key = Vault(base64.b64decode(base64.b64encode(os.urandom(32))))
    elif damage == "old_format":
        small.write_bytes(b"hub-resolved-state/1\n" + small.read_bytes()[len(FORMAT):])
    elif damage == "base_of_another_run":
        other = tmp_path / "other"
        save_state(other, vault, "run-9", state)
        state_path(other, "person", "base").replace(base)
    assert load_state(tmp_path, key, "person", run) is None
