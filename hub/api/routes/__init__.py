"""The API's routers, in the order they appear in the OpenAPI document. Routes only wire."""

from fastapi import APIRouter

from hub.api.routes import audit, auth, entities, events, feed, forms, search, service, verify

ROUTERS: list[APIRouter] = [auth.router, entities.router, search.router, verify.router, forms.router, events.router,
                            feed.router, audit.router, service.router]
