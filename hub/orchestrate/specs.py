"""What the DAG files build, as plain data: one ingest DAG per mapping file, the fusion DAG, their assets.

The DAG files in dags/ loop over `ingest_dag_specs` and wire each spec to an Airflow DAG; everything
they need to decide (which sources, their ids, assets and documentation) is decided here, where a test
reaches it without Airflow. A mapping file that does not load still gets its DAG: its run fails with
the file's problems, where the operator looks. Drafts (`status: draft`) get none, as `hub ingest`
skips them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hub.mapping import load_mappings
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
    """One spec per source of the mappings folder (ready or broken, not draft), sorted by source."""
    specs: dict[str, IngestDagSpec] = {}
    for f in load_mappings(mappings_dir).files:
        if f.draft or f.source in specs:
            continue
        department, title = ((f.spec.department, f.spec.title or f.source) if f.spec is not None
                             else ("?", "its mapping does not load: see the task log"))
        specs[f.source] = IngestDagSpec(f.source, INGEST_DAG_PREFIX + f.source, f"source_{f.source}",
                                        ASSET_URI_PREFIX + f.source, f.path, department, title)
    return sorted(specs.values(), key=lambda s: s.source)


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
