"""Annotated dependencies of the routes: the process's context, and (hub.access) the caller's policy."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hub.api.context import ApiContext


def api_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.hub
    return context


Context = Annotated[ApiContext, Depends(api_context)]
