"""`POST /api/v1/token`: OAuth2 client credentials (RFC 6749 §4.4) → a short-lived bearer token. Wiring only:
the credentials are checked and the token signed by hub.access.tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Response
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, Field

from hub.access.tokens import issue_token
from hub.api.deps import Context
from hub.api.models import TokenResponse
from hub.api.problems import ApiProblem, documented

router = APIRouter(prefix="/api/v1", tags=["auth"])
basic = HTTPBasic(auto_error=False, scheme_name="clientBasic",
                  description="the client id and secret as HTTP Basic credentials (RFC 6749 §2.3.1)")


class TokenForm(BaseModel):
    grant_type: str = Field(max_length=64, description="client_credentials", examples=["client_credentials"])
    client_id: str | None = Field(default=None, max_length=64, examples=["app-7f3a9c2e1b"])
    client_secret: str | None = Field(default=None, max_length=256)
    scope: str | None = Field(default=None, max_length=256, description="ignored: your grant decides what you see")


def client_credentials(form: Annotated[TokenForm, Form()],
                       credentials: Annotated[HTTPBasicCredentials | None, Depends(basic)]) -> tuple[str, str]:
    """The client id and secret, from the form or from HTTP Basic."""
    if form.grant_type != "client_credentials":
        raise ApiProblem("unsupported_grant_type", "grant_type must be client_credentials",
                         extra={"error": "unsupported_grant_type"})
    if credentials is not None:
        return credentials.username, credentials.password
    if form.client_id and form.client_secret:
        return form.client_id, form.client_secret
    raise ApiProblem("invalid_client", "send client_id and client_secret (form fields or HTTP Basic)",
                     extra={"error": "invalid_client"}, headers={"WWW-Authenticate": 'Basic realm="community-hub"'})


@router.post("/token", response_model=TokenResponse, responses=documented(400, 401, 422))
def token(ctx: Context, client: Annotated[tuple[str, str], Depends(client_credentials)],
          response: Response) -> TokenResponse:
    """A bearer token for your client credentials, valid for at most 15 minutes."""
    issued = issue_token(ctx.engine, ctx.keys, *client)
    response.headers["Cache-Control"] = "no-store"
    return TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in)
