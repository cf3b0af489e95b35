"""The audit log for auditors: query it, verify it. Wiring only: hub.audit does the work, the gateway checks the
role and logs the auditor's own read."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from hub import audit
from hub.api.deps import ApiCall, Context
from hub.api.models import ENTITY_ID_PATTERN, AuditLogPage, AuditVerification
from hub.api.problems import documented

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("/log", response_model=AuditLogPage, responses=documented(400, 401, 403, 422))
def audit_log(
    call: ApiCall, ctx: Context,
    entity_id: Annotated[str | None, Query(pattern=ENTITY_ID_PATTERN, description="who looked at this entity")] = None,
    actor: Annotated[str | None, Query(max_length=100, description="a consumer's client id")] = None,
    since: Annotated[AwareDatetime | None, Query(description="at or after (ISO 8601 with zone)")] = None,
    until: Annotated[AwareDatetime | None, Query(description="before (ISO 8601 with zone)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Any:
    """Audit rows, newest first: by entity ("who looked at this person"), by consumer, by period."""
    query = partial(audit.query, ctx.engine, entity_id=entity_id, actor=actor,
                    since=since, until=until, limit=limit, cursor=cursor)
    return ctx.gateway.examine(call, query, detail=lambda page: {"rows": len(page.rows)})


@router.get("/verify", response_model=AuditVerification, responses=documented(401, 403))
def audit_verify(call: ApiCall, ctx: Context) -> Any:
    """Check the whole hash chain: any edited, deleted, inserted or reordered row is found and named."""
    return ctx.gateway.examine(call, partial(audit.verify, ctx.engine, ctx.keys),
                               detail=lambda result: {"ok": result.ok, "rows_checked": result.rows_checked})
