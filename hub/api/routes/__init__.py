"""The API's routers, in the order they appear in the OpenAPI document. Routes only wire."""

from fastapi import APIRouter

from hub.api.routes import audit, auth, entities, feed, search, service, verify

ROUTERS: list[APIRouter] = [auth.router, entities.router, search.router, verify.router, feed.router, audit.router,
                            service.router]
