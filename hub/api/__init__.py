"""The hub's HTTP API (FastAPI): `create_app(settings)`, served by `hub serve`."""

from hub.api.app import create_app

__all__ = ["create_app"]
