"""Entry points: build the district and write every department's system, its truth and a manifest.

Output layout under `out_dir`:
    gongan.db / renshe.db      SQLite, when MariaDB is not used
    wuye.db                    the property company's database (served by property_api)
    minzheng/                  救助对象名册.xlsx, 残疾人及高龄补贴.csv (GBK), 社会组织名录.csv
    canlian/                   持证残疾人信息.xlsx (残联 certificate holders, header on row 3, dates day first)
    jiedao/                    社区工作人员花名册.csv (街道 community staff roster)
    shichang/                  市场主体名录.csv (市场监管 register of enterprises and individual businesses)
    truth/                     ground truth (see hub.demo.truth)
    manifest.json              paths, URLs, record counts, the property API token, timings

All of it holds simulated personal data or the token: folders 0700, files 0600 (hub.private_files).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from hub.demo.canlian import WORKBOOK as CANLIAN_WORKBOOK
from hub.demo.canlian import export_canlian
from hub.demo.clock import stream
from hub.demo.config import DirtRates, Prevalence
from hub.demo.gongan import export_gongan
from hub.demo.jiedao import ROSTER_CSV, export_jiedao
from hub.demo.minzheng import export_minzheng
from hub.demo.renshe import export_renshe
from hub.demo.shichang import REGISTER_CSV, export_shichang
from hub.demo.sinks import default_url, mariadb_reachable, open_database
from hub.demo.truth import write_truth
from hub.demo.world import build_world
from hub.demo.wuye import export_wuye
from hub.private_files import make_private_dir, private_umask, tighten_all, write_private_text

MANIFEST = "manifest.json"
GONGAN_DB, RENSHE_DB = "hub_demo_gongan", "hub_demo_renshe"
PROPERTY_PORT = 8765
DEFAULT_DIRT, DEFAULT_PREVALENCE = DirtRates(), Prevalence()  # frozen dataclasses: safe as defaults


@dataclass
class DemoManifest:
    out_dir: Path
    residents: int
    seed: int
    gongan_url: str
    renshe_url: str
    property_db: Path
    property_token: str = field(repr=False)
    files: dict[str, Path]
    truth_dir: Path
    record_counts: dict[str, int]
    locations: dict[str, str]
    dirt: dict[str, Any]
    elapsed_seconds: dict[str, float]
    generated_at: str
    anomalies: dict[str, int] = field(default_factory=dict)
    """Persons carrying each planted anomaly (truth/anomalies.csv, hub.demo.anomalies)."""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return json.loads(json.dumps(data, default=str, ensure_ascii=False))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DemoManifest:
        data = dict(data)
        for key in ("out_dir", "property_db", "truth_dir"):
            data[key] = Path(data[key])
        data["files"] = {k: Path(v) for k, v in data["files"].items()}
        return cls(**data)


def load_manifest(out_dir: Path) -> DemoManifest:
    return DemoManifest.from_json(json.loads((out_dir / MANIFEST).read_text(encoding="utf-8")))


def generate_district(
    out_dir: Path,
    *,
    residents: int = 20000,
    seed: int = 7,
    gongan_url: str | None = None,
    renshe_url: str | None = None,
    dirt: DirtRates = DEFAULT_DIRT,
    prevalence: Prevalence = DEFAULT_PREVALENCE,
) -> DemoManifest:
    """Build the district for `seed` and write all department systems; the same seed and rates give
    the same records (only the property API token, timings and timestamps of files differ).
    `gongan_url`/`renshe_url` None: MariaDB on 127.0.0.1:3306 when it answers, else SQLite files."""
    out_dir = Path(out_dir).resolve()  # the manifest's paths must work from any working directory
    with private_umask():   # every file and folder of the simulated residents' data: the hub's user only
        make_private_dir(out_dir)
        manifest = _generate(out_dir, residents, seed, gongan_url, renshe_url, dirt, prevalence)
    tighten_generated(manifest)   # files an older run left open to others, rewritten in place
    return manifest


def _generate(out_dir: Path, residents: int, seed: int, gongan_url: str | None, renshe_url: str | None,
              dirt: DirtRates, prevalence: Prevalence) -> DemoManifest:
    timings: dict[str, float] = {}
    started = clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    world = build_world(seed, residents, prevalence)
    lap("world")
    use_mariadb = (gongan_url is None or renshe_url is None) and mariadb_reachable()
    gongan_url = gongan_url or default_url(GONGAN_DB, out_dir, "gongan.db", use_mariadb)
    renshe_url = renshe_url or default_url(RENSHE_DB, out_dir, "renshe.db", use_mariadb)
    exports = []
    for name, url, export in (("gongan", gongan_url, export_gongan), ("renshe", renshe_url, export_renshe)):
        engine = open_database(url)
        try:
            exports += export(world, engine, stream(seed, f"dirt:{name}"), dirt)
        finally:
            engine.dispose()
        lap(name)
    exports += export_minzheng(world, out_dir / "minzheng", stream(seed, "dirt:minzheng"), dirt)
    lap("minzheng")
    exports += export_canlian(world, out_dir / "canlian", stream(seed, "dirt:canlian"), dirt)
    lap("canlian")
    exports += export_wuye(world, out_dir / "wuye.db", stream(seed, "dirt:wuye"), dirt)
    lap("wuye")
    exports += export_jiedao(world, out_dir / "jiedao", stream(seed, "dirt:jiedao"), dirt)
    lap("jiedao")
    exports += export_shichang(world, out_dir / "shichang")
    lap("shichang")
    anomalies = write_truth(world, exports, out_dir / "truth")
    lap("truth")
    timings["total"] = round(time.perf_counter() - started, 3)
    files = {
        "minzheng_assistance": out_dir / "minzheng" / "救助对象名册.xlsx",
        "minzheng_allowance": out_dir / "minzheng" / "残疾人及高龄补贴.csv",
        "minzheng_social_orgs": out_dir / "minzheng" / "社会组织名录.csv",
        "canlian_disabled": out_dir / "canlian" / CANLIAN_WORKBOOK,
        "jiedao_staff": out_dir / "jiedao" / ROSTER_CSV,
        "shichang_entities": out_dir / "shichang" / REGISTER_CSV,
        "wuye": out_dir / "wuye.db",
    }
    manifest = DemoManifest(
        out_dir=out_dir,
        residents=residents,
        seed=seed,
        gongan_url=gongan_url,
        renshe_url=renshe_url,
        property_db=out_dir / "wuye.db",
        property_token=secrets.token_urlsafe(24),
        files=files,
        truth_dir=out_dir / "truth",
        record_counts={e.source: e.records for e in exports},
        locations={e.source: e.location for e in exports},
        dirt=dirt.as_dict(),
        elapsed_seconds=timings,
        generated_at=datetime.now().isoformat(timespec="seconds"),
        anomalies=anomalies,
    )
    write_private_text(out_dir / MANIFEST, json.dumps(manifest.to_json(), ensure_ascii=False, indent=2))
    return manifest


def generated_paths(manifest: DemoManifest) -> list[Path]:
    """Every file and folder the generator writes (it owns them; `out_dir` may be a folder it did not make)."""
    paths = [manifest.out_dir / MANIFEST, manifest.property_db, *manifest.files.values(), manifest.truth_dir]
    paths += sorted({path.parent for path in manifest.files.values()} - {manifest.out_dir})
    paths += [Path(url.database) for url in map(sa.make_url, (manifest.gongan_url, manifest.renshe_url))
              if url.get_backend_name() == "sqlite" and url.database]
    if manifest.truth_dir.is_dir():
        paths += sorted(manifest.truth_dir.iterdir())
    return paths


def tighten_generated(manifest: DemoManifest) -> int:
    """Make private what the generator wrote and finds open to others (an older version wrote 0644)."""
    return tighten_all(path for path in generated_paths(manifest) if path.exists())


def connections(manifest: DemoManifest, port: int = PROPERTY_PORT) -> dict[str, Any]:
    """Connection name → value, as the hub's connections file holds them."""
    return {
        "gongan": manifest.gongan_url,
        "renshe": manifest.renshe_url,
        "wuye": {"conn_type": "http", "uri": f"http://127.0.0.1:{port}", "token": manifest.property_token},
    }


def write_connections_file(manifest: DemoManifest, path: Path, port: int = PROPERTY_PORT) -> None:
    """Write (or update: other names are kept) the connections file; it holds the API token, so it
    is made readable by its owner only."""
    path = Path(path)
    existing = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    data = {**(existing if isinstance(existing, dict) else {}), **connections(manifest, port)}
    write_private_text(path, yaml.safe_dump(data, allow_unicode=True, sort_keys=True))
