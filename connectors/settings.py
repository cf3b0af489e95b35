"""The part of a connector's settings every kind shares, and their translation into typed models.

Each connector declares a pydantic model of its `settings` block (`settings_model`), so the mapping
loader can validate a mapping file before any source is touched; at run time `parse_settings` turns
pydantic's errors into one ConfigurationError that names the source and every wrong key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from tenacity import wait_exponential

from hub.errors import ConfigurationError

__all__ = ["ConnectorSettings", "parse_settings"]


class ConnectorSettings(BaseModel):
    """Retry budget for transient failures: `retries` more tries after the first, waits doubling from
    `backoff` seconds up to `backoff_max` (tests use ~0.01 s)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    retries: int = Field(3, ge=0, le=20)
    backoff: float = Field(0.5, ge=0)
    backoff_max: float = Field(30.0, ge=0)

    def backoff_wait(self) -> wait_exponential:
        return wait_exponential(multiplier=self.backoff, min=0, max=self.backoff_max)


SettingsT = TypeVar("SettingsT", bound=ConnectorSettings)


def parse_settings(model: type[SettingsT], source: str, settings: Mapping[str, Any]) -> SettingsT:
    try:
        return model.model_validate(dict(settings))
    except ValidationError as exc:
        problems = "; ".join(
            f"settings.{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False)
        )
        raise ConfigurationError(f"source {source!r}: {problems}") from None
