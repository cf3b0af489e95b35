"""The benchmark's input: a generated district, ingested into a SQLite store, read back as frames.

Generation and ingest of a large district take minutes, so everything is cached under
`$HUB_BENCH_CACHE/resolve-<residents>-<seed>/` (default ~/.cache/community-hub-bench) and reused. The
timed part of the benchmark starts from the frames (normalized records), the same for the hub and Splink.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pandas as pd

from hub.demo import generate_district, running_property_api, write_connections_file
from hub.pipeline import Hub, ingest
from hub.resolve.frames import MATCH_ATTRIBUTES, entity_frame, shared_strings
from hub.settings import HubSettings

ROOT = Path(__file__).resolve().parents[2]
EVENT_SOURCES = frozenset({"gongan_access"})
"""Door events name a person (an ID or only a name) but describe an event: left out of person resolution."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


CACHE = Path(os.environ.get("HUB_BENCH_CACHE", Path.home() / ".cache" / "community-hub-bench"))
"""Outside the work tree: `make clean` empties var/, and a 1M-resident store takes an hour to rebuild."""


def district_home(residents: int, seed: int) -> Path:
    return CACHE / f"resolve-{residents}-{seed}"


def _settings(home: Path) -> HubSettings:
    return HubSettings(home=home, mappings_dir=ROOT / "mappings")


def ensure_store(residents: int, seed: int, log: bool = True) -> Path:
    """Generate and ingest the district once; the store's home folder."""
    home = district_home(residents, seed)
    done = home / "ingested"
    if done.exists():
        return home
    settings = _settings(home)
    started = time.perf_counter()
    sources = home / "demo"   # SQLite sinks: a shared MariaDB database would be rewritten by other runs
    manifest = generate_district(sources, residents=residents, seed=seed,
                                 gongan_url=f"sqlite:///{sources / 'gongan.db'}",
                                 renshe_url=f"sqlite:///{sources / 'renshe.db'}")
    port = _free_port()
    assert settings.connections_file is not None
    write_connections_file(manifest, settings.connections_file, port=port)
    generated = time.perf_counter()
    with running_property_api(manifest.property_db, manifest.property_token, port=port):
        results = ingest(Hub.open(settings))
    failed = [r.source for r in results if r.status != "succeeded"]
    if failed:
        raise RuntimeError(f"ingest failed for {', '.join(failed)}")
    ended = time.perf_counter()
    done.write_text(f"generate {generated - started:.1f} s\ningest {ended - generated:.1f} s\n", encoding="utf-8")
    if log:
        print(f"district {residents:,}: generated in {generated - started:.0f} s, "
              f"ingested in {ended - generated:.0f} s")
    return home


def truth_dir(home: Path) -> Path:
    return home / "demo" / "truth"


def load_frame(home: Path, entity_type: str) -> pd.DataFrame:
    """The entity frame, cached as a pickle beside the store (reading and decrypting takes a while)."""
    cache = home / f"frame-{entity_type}.pkl"
    if cache.exists():
        # frames cached before entity_frame shared its strings are shared here (a pickle keeps sharing)
        return shared_strings(pd.read_pickle(cache))
    hub = Hub.open(_settings(home))
    frame = entity_frame(hub.engine, hub.vault, entity_type, attributes=MATCH_ATTRIBUTES.get(entity_type))
    if entity_type == "person":
        frame = frame[~frame["source"].isin(EVENT_SOURCES)].reset_index(drop=True)
    frame.to_pickle(cache)
    return frame
