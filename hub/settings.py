"""Settings of the hub, read once from the environment (prefix HUB_) and passed down explicitly.

Nothing reads the environment at import time: `HubSettings()` is built by the CLI, the DAG
factory or a test, which keeps tests free to point one process at several stores.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    home: Path = Field(default=Path("var"), description="folder for local state: SQLite store, key file, demo")
    database_url: str = Field(default="", description="SQLAlchemy URL of the hub's store; default a SQLite file")
    mappings_dir: Path = Field(default=Path("mappings"), description="one YAML per department source")
    rules_dir: Path = Field(default=Path("rules"), description="one YAML per cross-department check (hub.rules)")
    forms_dir: Path = Field(default=Path("forms"), description="one YAML per form template (hub.forms)")
    rules_at: datetime | None = Field(
        default=None, description="reference time of the rules' time windows and ages (hub.rules; China time "
                                  "when it has no offset); default the moment of each run. `hub demo` sets it "
                                  "to the demo district's snapshot, whose door events end there")
    grids_file: Path | None = Field(
        default=None, description="the grid division and its workers (hub.events.roster); default HOME/grids.yaml"
    )
    sources_dir: Path | None = Field(default=None, description="base folder of file sources; default HOME/demo")
    source_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="further folders file sources may be read from, separated like PATH (':' on Linux); "
                    "a file outside sources_dir and these is refused, links followed",
    )
    connections_file: Path | None = Field(
        default=None, description="YAML name → connection (URL or JSON); default HOME/connections.yaml"
    )
    secret_key: SecretStr | None = Field(
        default=None, description="base64 key material (32 bytes); else read or created at key_file"
    )
    key_file: Path | None = Field(default=None, description="file holding the key; default HOME/hub.key")
    crypto_profile: Literal["standard", "gm"] = Field(
        default="standard",
        description="algorithms a NEW store seals and keys its data with: standard (AES-256-GCM, HMAC-SHA256) "
                    "or gm (国密: SM4-GCM, HMAC-SM3); a store keeps the profile it was created with "
                    "(hub.keys), and one made before profiles existed opens under standard")
    batch_size: int = Field(default=5000, gt=0, description="records per landed batch (one transaction)")
    ingest_workers: int | None = Field(
        default=None, gt=0,
        description="processes `hub ingest` shares its CPU work among (sources at once, and the batches of "
                    "each source; hub.pipeline.ingest); default the cores this process may use; "
                    "`hub ingest --workers` overrides it")
    run_stale_after: float = Field(
        default=1800, gt=0,
        description="seconds without a heartbeat after which a run started on another host, or before the "
                    "store recorded processes, counts as interrupted (hub.store.runs)")

    api_host: str = Field(default="127.0.0.1", description="address `hub serve` listens on; loopback unless "
                                                             "a reverse proxy in front needs another")
    api_port: int = Field(default=8000, gt=0, lt=65536, description="port `hub serve` listens on")
    api_workers: int = Field(default=1, gt=0, description="processes `hub serve` starts (uvicorn workers)")
    api_docs: bool = Field(default=True, description="serve Swagger UI at /docs and the spec at /openapi.json")
    api_access_log: bool = Field(
        default=False, description="`hub serve` writes uvicorn's access log (client, method, path without query "
                                   "string, status); off by default: the audit log records every data request, and "
                                   "formatting a log line per request was a measurable share of a read's CPU")
    verify_consumer_tries: int = Field(default=120, gt=0, description="核验 tries one consumer may make per "
                                       "HUB_VERIFY_CONSUMER_WINDOW seconds, every subject together")
    verify_consumer_window: int = Field(default=60, gt=0, description="the consumer window of 核验, seconds")
    verify_subject_tries: int = Field(default=10, gt=0, description="核验 tries one consumer may make about one "
                                      "subject (ID number, credit code) per HUB_VERIFY_SUBJECT_WINDOW seconds")
    verify_subject_window: int = Field(default=3600, gt=0, description="the subject window of 核验, seconds")

    webhook_max_attempts: int = Field(default=12, gt=0, description="delivery rounds a webhook delivery gets "
                                      "before it goes to the dead-letter list (hub.webhooks)")
    webhook_backoff: float = Field(default=10.0, gt=0, description="seconds before a failed delivery's second "
                                   "round; doubled every round after")
    webhook_backoff_max: float = Field(default=3600.0, gt=0, description="the longest wait between two rounds")
    webhook_timeout: float = Field(default=10.0, gt=0, description="seconds a receiver has to answer")
    webhook_interval: float = Field(default=2.0, gt=0, description="seconds between two passes of "
                                    "`hub webhooks deliver --follow`")

    @property
    def stale_after(self) -> timedelta:
        return timedelta(seconds=self.run_stale_after)

    @field_validator("source_roots", mode="before")
    @classmethod
    def _path_list(cls, value: Any) -> Any:
        """HUB_SOURCE_ROOTS is written like PATH: `/srv/exports:/mnt/minzheng` (blank parts ignored)."""
        if isinstance(value, str):
            return [part for part in value.split(os.pathsep) if part.strip()]
        return value

    @model_validator(mode="after")
    def _defaults_under_home(self) -> HubSettings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.home / 'hub.db').resolve()}"
        if self.sources_dir is None:
            self.sources_dir = self.home / "demo"
        if self.connections_file is None:
            self.connections_file = self.home / "connections.yaml"
        if self.key_file is None:
            self.key_file = self.home / "hub.key"
        if self.grids_file is None:
            self.grids_file = self.home / "grids.yaml"
        return self
