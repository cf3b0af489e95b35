"""F5 of issue 18: everything the hub writes that holds data or secrets is readable by its user only.

The demo flow (what `hub demo` runs: generate the district, serve the 物业 API, ingest every source,
resolve) into a fresh HUB_HOME under the common umask 022, then every file and folder under HUB_HOME
is checked: no group or other permission bit, the store's -wal/-shm files included (walked while the
store is open). A HUB_HOME an older version left open (files 0644, folders 0755) is made private again
by the next run, with a warning.
"""

from __future__ import annotations

import logging
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.demo import demo_world, generate_district
from hub.pipeline import Hub, ingest, resolve
from hub.protect import new_key_text
from hub.settings import HubSettings

REPO = Path(__file__).parents[2]
RESIDENTS, SEED = 300, 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def common_umask() -> Iterator[None]:
    """The umask most servers give (022): what the hub must not rely on being stricter."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _open_to_others(home: Path) -> tuple[int, list[str]]:
    """(entries checked, those with a group or other permission bit), links not followed."""
    entries = [home, *home.rglob("*")]
    found = [f"{path} {stat.S_IMODE(path.lstat().st_mode):04o}" for path in entries
             if not path.is_symlink() and path.lstat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)]
    return len(entries), found


def _run_demo(settings: HubSettings) -> Hub:
    """`hub demo`'s steps on a district already generated in HUB_SOURCES_DIR (so with SQLite departments)."""
    with demo_world(settings, residents=RESIDENTS, seed=SEED, port=_free_port()):
        hub = Hub.open(settings)
        results = ingest(hub)
    assert all(r.status == "succeeded" for r in results), [r for r in results if r.status != "succeeded"]
    resolve(hub)
    return hub


@pytest.mark.slow
@pytest.mark.reliability("F5")
def test_demo_flow_leaves_nothing_readable_by_others(tmp_path: Path, common_umask: None,
                                                     record_property: pytest.RecordProperty,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    home = tmp_path / "home"
    settings = HubSettings(home=home, mappings_dir=REPO / "mappings")
    demo = home / "demo"
    generate_district(demo, residents=RESIDENTS, seed=SEED, gongan_url=f"sqlite:///{demo / 'gongan.db'}",
                      renshe_url=f"sqlite:///{demo / 'renshe.db'}")
    hub = _run_demo(settings)
    try:
        checked, open_files = _open_to_others(home)   # with the store open: its -wal and -shm files exist
        store_files = [p for p in home.iterdir() if p.name in ("hub.db", "hub.db-wal", "hub.db-shm")]
    finally:
        hub.engine.dispose()
    record_property("files and folders checked", checked)
    record_property("files and folders open to others", len(open_files))
    assert len(store_files) == 3 and (home / "hub.key").exists() and (home / "state").is_dir()
    assert (demo / "manifest.json").exists() and (home / "connections.yaml").exists()
    assert checked > 30 and not open_files, open_files

    # An older version's HUB_HOME: everything open to the group and others; the next run closes it again.
    for path in [home, *home.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    caplog.set_level(logging.WARNING, logger="hub.private_files")
    hub = _run_demo(settings)
    try:
        _, still_open = _open_to_others(home)
    finally:
        hub.engine.dispose()
    record_property("left open after a run on an older HUB_HOME", len(still_open))
    assert not still_open, still_open
    assert any("open to other users" in r.getMessage() for r in caplog.records)


@pytest.mark.reliability("F5")
def test_the_folders_made_for_a_store_outside_home_are_private(
        tmp_path: Path, common_umask: None, record_property: pytest.RecordProperty) -> None:
    """A SQLite store outside HUB_HOME: its missing folders were made 0755 (umask 022); a folder that was
    there already, and not made by the hub, keeps its mode."""
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    store = shared / "hub" / "stores" / "hub.db"
    settings = HubSettings(home=tmp_path / "home", database_url=f"sqlite:///{store}",
                           secret_key=new_key_text(), mappings_dir=REPO / "mappings")
    hub = Hub.open(settings)
    hub.engine.dispose()
    made = [shared / "hub", shared / "hub" / "stores"]
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in made}
    record_property("folders made open to others", sum(bool(mode & 0o077) for mode in modes.values()))
    assert modes == {"hub": 0o700, "stores": 0o700}, {k: f"{v:04o}" for k, v in modes.items()}
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755 and store.is_file()
