"""The change feed (GET /api/v1/feed) and a consumer's webhooks (/api/v1/webhooks). Wiring only: the page is
hub.feed.view.feed_steps run on the request's connection like every view (admitted, audited with what it
disclosed); webhooks are hub.webhooks.registry, audited in the write's own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from hub.api.deps import ApiCall, Context, Gate
from hub.api.gateway import Call, Gateway, answer
from hub.api.problems import ApiProblem, documented
from hub.feed.view import feed_steps
from hub.store.steps import Steps
from hub.views import QueryError, Reader
from hub.webhooks import WebhookError, add_webhook, list_webhooks, remove_webhook
from schemas.feed import FeedPage

router = APIRouter(prefix="/api/v1")

ERRORS = documented(400, 401, 403, 422, 503)
FeedCursor = Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous page; "
                                         "omitted: from the first event")]
FeedLimit = Annotated[int, Query(ge=1, le=1000, description="events per page")]
WithValues = Annotated[bool, Query(description="each event with the entity's values as served now, masked to "
                                   "your clearance")]
WebhookId = Annotated[str, Path(pattern=r"^wh-[0-9a-f]{16}$", description="the webhook's id")]


def _feed(gate: Gateway, call: Call, cursor: str | None, limit: int, values: bool
          ) -> Steps[tuple[ApiProblem | None, FeedPage | None, Reader]]:
    reader = yield from gate._admit(call)
    given = {"given": sorted(name for name, value in (("cursor", cursor), ("values", values)) if value)}
    try:
        page = yield from feed_steps(reader, call.policy, cursor=cursor, limit=limit, values=values)
    except QueryError as exc:
        yield from gate._audit(call, 400, detail=given)
        return ApiProblem("invalid_query", str(exc)), None, reader
    yield from gate._audit(call, 200, disclosed=page.disclosed, detail={**given, "results": len(page.items)})
    return None, page, reader


@router.get("/feed", tags=["feed"], response_model=FeedPage, responses=ERRORS)
async def get_feed(call: ApiCall, gate: Gate, cursor: FeedCursor = None, limit: FeedLimit = 100,
                   values: WithValues = False) -> Any:
    """Creates, updates, merges, splits and retirements of the entities you may see, oldest first. Keep
    `next_cursor` and ask again with it: the events after it, or none yet (`more` tells whether to ask at once)."""
    problem, page, reader = await gate._run(_feed(gate, call, cursor, limit, values))
    if problem is not None:
        raise problem
    assert page is not None
    call.served(reader)
    return answer(page, reader)


class WebhookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"url": "https://app.example.cn/hub/events"}]})

    url: str = Field(min_length=8, max_length=2000, description="https (plain http only to 127.0.0.1 or localhost)")


class Webhook(BaseModel):
    id: str
    url: str
    state: str
    created_at: datetime
    counts: dict[str, int] = Field(default_factory=dict, description="deliveries pending, delivered, dead, and "
                                   "held (pending behind a dead one of the same entity)")


class NewWebhook(Webhook):
    secret: str = Field(description="shown only now: verify every delivery's X-Hub-Signature with it")


def _admitted(gate: Gateway, call: Call) -> None:
    with gate.requests.connect() as conn:
        gate.admit(conn, call)


@router.post("/webhooks", tags=["feed"], response_model=NewWebhook, status_code=201, responses=ERRORS)
def create_webhook(body: WebhookRequest, call: ApiCall, gate: Gate, ctx: Context) -> Any:
    """Register a receiver: from the next change on, each event you may see is POSTed to it, signed."""
    _admitted(gate, call)
    try:
        made = add_webhook(gate.engine, ctx.vault, call.policy.actor, body.url, by=call.policy, action=call.action)
    except WebhookError as exc:
        raise ApiProblem("invalid_webhook_url", str(exc)) from None
    row = made.row
    return NewWebhook(id=row.id, url=row.url, state=row.state, created_at=row.created_at, secret=made.secret)


@router.get("/webhooks", tags=["feed"], response_model=list[Webhook], responses=documented(401, 503))
def get_webhooks(call: ApiCall, gate: Gate) -> Any:
    """Your webhooks with their delivery counts."""
    _admitted(gate, call)
    return [Webhook(id=r.id, url=r.url, state=r.state, created_at=r.created_at, counts=r.counts)
            for r in list_webhooks(gate.engine, call.policy.actor)]


@router.delete("/webhooks/{webhook_id}", tags=["feed"], status_code=204,
                responses=documented(401, 404, 422, 503))
def delete_webhook(webhook_id: WebhookId, call: ApiCall, gate: Gate) -> Response:
    """Stop a webhook: nothing more is sent to it."""
    _admitted(gate, call)
    try:
        remove_webhook(gate.engine, webhook_id, by=call.policy, action=call.action, consumer_id=call.policy.actor)
    except WebhookError:
        raise gate.refuse(call, "not_found", f"no webhook {webhook_id} of yours") from None
    return Response(status_code=204)
