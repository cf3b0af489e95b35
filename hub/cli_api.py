"""`hub serve`: the API for downstream apps (hub.api), under uvicorn.

    hub serve [--host 127.0.0.1] [--port 8000] [--workers N] [--access-log]
    (hub demo ends with `serve_demo`: the demo consumer's credentials, one ready curl line, then the API)

Defaults come from HUB_API_HOST, HUB_API_PORT, HUB_API_WORKERS and HUB_API_ACCESS_LOG (off: the audit
log is the record of every data request). The store must exist (`hub ingest`
and `hub resolve` made and published it); the API never creates or migrates it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli_console import console, source_text
from hub.settings import HubSettings


def serve_cmd(
    host: Annotated[str | None, typer.Option(help="address to listen on; default HUB_API_HOST (127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="default HUB_API_PORT (8000)")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="processes; default HUB_API_WORKERS (1)")] = None,
    access_log: Annotated[bool | None, typer.Option(
        "--access-log/--no-access-log", help="log each request's client, method, path (never its query string) "
                                             "and status; default HUB_API_ACCESS_LOG (off)")] = None,
) -> None:
    """Serve the API (Swagger UI at /docs) until interrupted."""
    from hub.api.serve import serve

    settings = HubSettings()
    host = host or settings.api_host
    port = port or settings.api_port
    workers = workers or settings.api_workers
    access_log = settings.api_access_log if access_log is None else access_log
    console.print(f"API at {_base_url(host, port)}/api/v1, documentation at {_base_url(host, port)}/docs "
                  f"({workers} worker{'s' if workers > 1 else ''}); Ctrl-C stops it")
    serve(settings, host=host, port=port, workers=workers, access_log=access_log)


def _base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve_demo(settings: HubSettings) -> None:
    """The end of `hub demo` (`make run`): register the demo consumer (or rotate its secret), print its
    credentials and one ready curl line, then serve the API on HUB_API_HOST:HUB_API_PORT until Ctrl-C."""
    import getpass

    from hub.access import AccessKeys, Policy
    from hub.api.serve import serve
    from hub.cli_forms import forms_demo
    from hub.demo.api_access import DEMO_CONSUMER, demo_access
    from hub.pipeline import Hub

    hub = Hub.open(settings, create=False)
    try:
        access = demo_access(hub.engine, AccessKeys.from_vault(hub.vault),
                             Policy.operator(getpass.getuser(), purpose="hub demo: the demo app's credentials"))
        forms_demo(hub, access.person_id)
    finally:
        hub.engine.dispose()
    base = _base_url(settings.api_host, settings.api_port)
    console.print(f"\n[bold]The API[/bold] serves the published district to registered apps: documentation and "
                  f"Swagger UI at {base}/docs (guide: docs/api-guide.md).\n"
                  f"demo app {DEMO_CONSUMER!r} (clearance internal: names in clear, ID numbers and phones masked)\n"
                  f"  client id:     {access.client_id}\n  client secret: {source_text(access.client_secret)}  "
                  "(a new one on every `make run`; the hub keeps only its hash)\n"
                  "one request (a token, then 一人一档 of the best-documented resident):", highlight=False)
    console.print(source_text(access.curl(base)), soft_wrap=True, highlight=False)
    console.print("Ctrl-C stops the API.")
    serve(settings, host=settings.api_host, port=settings.api_port, workers=1)
