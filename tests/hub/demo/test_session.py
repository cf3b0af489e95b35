"""`demo_world` reuses a district made with the same size and seed and serves its property API."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import yaml

from hub.demo import DemoManifest, load_manifest
from hub.demo.session import demo_world, reusable_manifest
from hub.settings import HubSettings

MakeDistrict = Callable[..., DemoManifest]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_world_reuses_and_serves(tmp_path: Path, make_district: MakeDistrict) -> None:
    sources = tmp_path / "demo"
    made = make_district(sources, 1000, seed=9)
    assert reusable_manifest(sources, 1000, 9) is not None
    assert reusable_manifest(sources, 1000, 10) is None
    settings = HubSettings(home=tmp_path, sources_dir=sources)
    port = free_port()
    with demo_world(settings, residents=1000, seed=9, port=port) as manifest:
        assert manifest.property_token == made.property_token  # not generated again
        houses = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/houses", headers={"Authorization": f"Bearer {manifest.property_token}"}
        ).json()
        assert houses["total"] == made.record_counts["wuye_houses"]
    assert settings.connections_file is not None
    connections = yaml.safe_load(settings.connections_file.read_text(encoding="utf-8"))
    assert connections["wuye"]["uri"] == f"http://127.0.0.1:{port}"
    assert load_manifest(sources).seed == 9
