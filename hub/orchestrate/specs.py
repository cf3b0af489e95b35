"""What the DAG files build, as plain data: one ingest DAG per mapping file, the fusion DAG, their assets.

The DAG files in dags/ loop over `ingest_dag_specs` and wire each spec to an Airflow DAG; everything
they need to decide (which sources, their ids, assets and documentation) is decided here, where a test
reaches it without Airflow. A mapping file that does not load still gets its DAG: its run fails with
the file's problems, where the operator looks. Drafts (`status: draft`) get none, as `hub ingest`
skips them. Two files naming one source: the first (by file name) has the DAG, and its run fails as
`hub ingest` fails both, naming the other.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from hub.settings import HubSettings

INGEST_DAG_PREFIX = "hub_ingest_"
FUSION_DAG_ID = "hub_fusion"
ASSET_URI_PREFIX = "hub://sources/"
START_DATE = datetime(2025, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
"""A fixed start in the past (never `now`): with catchup off, a schedule starts from its latest interval."""

__all__ = ["FUSION_DAG_ID", "INGEST_DAG_PREFIX", "START_DATE", "IngestDagSpec", "hub_settings", "ingest_dag_specs"]


@dataclass(frozen=True)
class IngestDagSpec:
    source: str
    dag_id: str
    asset_name: str
    asset_uri: str
    mapping_path: Path
    department: str
    title: str

    @property
    def doc(self) -> str:
        return (f"Ingest of **{self.source}** ({self.department}): {self.title}.\n\n"
                f"Mapping: `{self.mapping_path.name}`. On success it updates the asset `{self.asset_uri}`, "
                f"which schedules `{FUSION_DAG_ID}`. Counts are in the task log; failures raise an alert "
                "that `hub status` shows.")


def ingest_dag_specs(mappings_dir: Path) -> list[IngestDagSpec]:
    """One spec per source of the mappings folder (ready or broken, not draft), sorted by source.

    Only the top-level keys are read (source, status, department, title), not the whole mapping: Airflow
    parses the DAG files every 30 seconds and again in every task process, and validating every mapping
    (hub.mapping with the normalizers it imports) would cost each of them seconds. The task itself loads
    and checks its mapping, and a file that does not load fails there, with every problem listed."""
    specs: dict[str, IngestDagSpec] = {}
    for path in sorted(Path(mappings_dir).glob("*.yaml")):
        head = _top_level(path)
        if str(head.get("status", "")).strip().lower() == "draft":
            continue
        source = str(head.get("source") or path.stem)
        if source in specs or not _DAG_ID_PART.fullmatch(source):
            source = path.stem if _DAG_ID_PART.fullmatch(path.stem) and path.stem not in specs else source
            if source in specs or not _DAG_ID_PART.fullmatch(source):
                continue
        specs[source] = IngestDagSpec(source, INGEST_DAG_PREFIX + source, f"source_{source}",
                                      ASSET_URI_PREFIX + source, path, str(head.get("department") or "?"),
                                      str(head.get("title") or source))
    return sorted(specs.values(), key=lambda s: s.source)


_DAG_ID_PART = re.compile(r"[A-Za-z0-9_.-]{1,200}")
_TOP_KEY = re.compile(r"^(source|status|department|title):[ \t]*(.*?)[ \t]*(?:#.*)?$", re.MULTILINE)


def _top_level(path: Path) -> dict[str, object]:
    """The mapping's top-level keys; read line by line when the file is not valid YAML."""
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict):
        return data
    return {key: value.strip("'\"") for key, value in _TOP_KEY.findall(text)}


_RELATIVE_DEFAULTS = {"HUB_HOME": ("home", "var"), "HUB_MAPPINGS_DIR": ("mappings_dir", "mappings")}


def hub_settings(project_root: Path) -> HubSettings:
    """HubSettings for a DAG file or task: from the HUB_ environment, with HUB_HOME and HUB_MAPPINGS_DIR
    (when unset or relative) taken under the project folder, since Airflow's processes do not run in it."""
    overrides: dict[str, Path] = {}
    for variable, (field, default) in _RELATIVE_DEFAULTS.items():
        path = Path(os.environ.get(variable) or default)
        if not path.is_absolute():
            overrides[field] = project_root / path
    return HubSettings(**overrides)  # type: ignore[arg-type]
