"""Reference tables shipped with the package as YAML (code lists, surname readings), read once."""

from __future__ import annotations

import functools
from importlib.resources import files
from typing import Any

import yaml


@functools.cache
def load_resource(name: str) -> Any:
    """The parsed content of `hub/normalize/resources/<name>.yaml`."""
    text = files("hub.normalize").joinpath("resources").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)
