"""Annotated dependencies of the routes: the process's context, the caller's policy, the call as audited.

Every data route declares `call: ApiCall`: the bearer token (or API key) is checked here as far as it can be
without the store (hub.access.tokens.present: signature, audience, issuer, expiry); the gateway then admits
it in the request's first query (the consumer and credential still valid) and runs the views under the
consumer's Policy; the route's template becomes the audited action. These dependencies do no I/O and are
`async`, so they run on the event loop instead of costing a trip through the thread pool each.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2

from hub.access.tokens import Presented, present
from hub.api.context import ApiContext
from hub.api.gateway import Call, Gateway
from hub.api.problems import REALM, ApiProblem

TOKEN_PATH = "/api/v1/token"

bearer = OAuth2(flows=OAuthFlows(clientCredentials=OAuthFlowClientCredentials(tokenUrl=TOKEN_PATH)),
                scheme_name="clientCredentials", auto_error=False,
                description="OAuth2 client credentials: POST /api/v1/token gives a bearer token valid for at most "
                            "15 minutes. An API key (hk_…) is sent the same way: `Authorization: Bearer hk_…`.")


async def api_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.hub
    return context


Context = Annotated[ApiContext, Depends(api_context)]


async def gateway(request: Request) -> Gateway:
    context: ApiContext = request.app.state.hub
    return context.gateway


Gate = Annotated[Gateway, Depends(gateway)]


def caller_credential(ctx: ApiContext, authorization: str | None) -> Presented:
    """The credential the request's token or API key presents, checked as far as it can be without the store;
    401 otherwise."""
    challenge = {"WWW-Authenticate": f'Bearer realm="{REALM}"'}
    if not authorization:
        raise ApiProblem("missing_token", f"send `Authorization: Bearer <token>`; POST {TOKEN_PATH} gives one",
                         headers=challenge)
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise ApiProblem("invalid_token", "the Authorization header must read `Bearer <token>`", headers=challenge)
    return present(ctx.keys, credentials.strip())


async def api_call(request: Request, response: Response,
                   authorization: Annotated[str | None, Depends(bearer)]) -> Call:
    """The call as audited; its credential checked by a plain function rather than a dependency of its own:
    each dependency FastAPI solves costs a request a few percent of its CPU."""
    presented = caller_credential(request.app.state.hub, authorization)
    route = request.scope.get("route")
    template = getattr(route, "path", None) or request.url.path
    return Call(presented, f"{request.method} {template}", request.url.path, request.url.query, response.headers)


ApiCall = Annotated[Call, Depends(api_call)]
