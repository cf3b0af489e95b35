"""`demo_world`: the simulated district ready to ingest: generated once, connections written, the
property API served on a fixed port for as long as the block runs (what `hub demo` uses)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hub.demo.generate import (
    MANIFEST,
    DemoManifest,
    generate_district,
    load_manifest,
    tighten_generated,
    write_connections_file,
)
from hub.demo.grids import write_grids_file
from hub.demo.property_api import running_property_api
from hub.settings import HubSettings

_TABLES = {"gongan_url": "RK_SYRK", "renshe_url": "AC01"}


def reusable_manifest(out_dir: Path, residents: int, seed: int) -> DemoManifest | None:
    """The existing district when it was made with the same size and seed and is still all there."""
    if not (out_dir / MANIFEST).exists():
        return None
    try:
        manifest = load_manifest(out_dir)
    except (ValueError, KeyError, TypeError):
        return None
    if manifest.residents != residents or manifest.seed != seed:
        return None
    if not all(Path(p).exists() for p in manifest.files.values()) or not manifest.property_db.exists():
        return None
    for attribute, table in _TABLES.items():
        engine = sa.create_engine(getattr(manifest, attribute), connect_args=_timeout(getattr(manifest, attribute)))
        try:
            if not sa.inspect(engine).has_table(table):
                return None
        except sa.exc.SQLAlchemyError:
            return None
        finally:
            engine.dispose()
    return manifest


def _timeout(url: str) -> dict[str, Any]:
    return {"connect_timeout": 2} if url.startswith("mysql") else {}


@contextmanager
def demo_world(
    settings: HubSettings, *, residents: int = 20_000, seed: int = 7, port: int = 8765, console: Any = None
) -> Iterator[DemoManifest]:
    out_dir = settings.sources_dir or settings.home / "demo"
    manifest = reusable_manifest(out_dir, residents, seed)
    if manifest is not None:
        tighten_generated(manifest)   # a district an older version wrote open to others
    else:
        status = console.status(f"generating {residents:,} residents …") if console is not None else nullcontext()
        with status:
            manifest = generate_district(out_dir, residents=residents, seed=seed)
    if settings.connections_file is not None:
        write_connections_file(manifest, settings.connections_file, port=port)
    if settings.grids_file is not None:
        write_grids_file(manifest.truth_dir, settings.grids_file)
    with running_property_api(manifest.property_db, manifest.property_token, port=port):
        yield manifest
