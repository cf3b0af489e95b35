"""The API's routers, in the order they appear in the OpenAPI document. Routes only wire."""

from fastapi import APIRouter

from hub.api.routes import service

ROUTERS: list[APIRouter] = [service.router]
