"""What the API builds once per process and every request uses: the store's engine, the vault, the access keys
and the gateway.

Built by `create_app` before the first request (a wrong HUB_DATABASE_URL or key fails `hub serve` at
start, with the CLI's message), kept on `app.state.hub` and reached by routes through `deps.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from hub.access import AccessKeys
from hub.api.gateway import Gateway
from hub.pipeline import Hub
from hub.protect import Vault
from hub.settings import HubSettings
from hub.store.engine import serving_engine


@dataclass(frozen=True)
class ApiContext:
    settings: HubSettings
    engine: Engine
    vault: Vault
    keys: AccessKeys = field(init=False)
    gateway: Gateway = field(init=False)

    def __post_init__(self) -> None:
        keys = AccessKeys.from_vault(self.vault)
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "gateway", Gateway(self.engine, self.vault, keys))

    @classmethod
    def open(cls, settings: HubSettings) -> ApiContext:
        """The store at its current schema, never created or migrated by the API (a reading process),
        and the vault opened with the store's wrapped keys."""
        hub = Hub.open(settings, create=False)
        engine = serving_engine(hub.engine)
        if engine is not hub.engine:
            hub.engine.dispose()
        return cls(settings, engine, hub.vault)

    def close(self) -> None:
        self.engine.dispose()
