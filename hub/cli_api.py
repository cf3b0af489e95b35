"""`hub serve`: the API for downstream apps (hub.api), under uvicorn.

    hub serve [--host 127.0.0.1] [--port 8000] [--workers N] [--no-access-log]

Defaults come from HUB_API_HOST, HUB_API_PORT and HUB_API_WORKERS. The store must exist (`hub ingest`
and `hub resolve` made and published it); the API never creates or migrates it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli_console import console
from hub.settings import HubSettings


def serve_cmd(
    host: Annotated[str | None, typer.Option(help="address to listen on; default HUB_API_HOST (127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="default HUB_API_PORT (8000)")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="processes; default HUB_API_WORKERS (1)")] = None,
    access_log: Annotated[bool, typer.Option(help="log each request's method, path (never its query string) "
                                                  "and status")] = True,
) -> None:
    """Serve the API (Swagger UI at /docs) until interrupted."""
    from hub.api.serve import serve

    settings = HubSettings()
    host = host or settings.api_host
    port = port or settings.api_port
    workers = workers or settings.api_workers
    shown = f"[{host}]" if ":" in host else host
    console.print(f"API at http://{shown}:{port}/api/v1, documentation at http://{shown}:{port}/docs "
                  f"({workers} worker{'s' if workers > 1 else ''}); Ctrl-C stops it")
    serve(settings, host=host, port=port, workers=workers, access_log=access_log)
