"""核验: verification without disclosure. Each endpoint answers a claim with yes or no and nothing else.

Wiring only: the try (grant, rate limit, check, audit row) is hub.verify.verify_steps, run on the request's
connection like every view (hub/api/gateway.py). The answer is written as fixed bytes, `{"claim":"…",
"match":true }` or `{"claim":"…","match":false}`: the same length and the same headers whichever the answer,
so a true and a false claim differ in one word only. Anything the caller could learn besides the answer (a
malformed ID number, a subject outside its scope, an unknown house) answers `false` the same way.
"""

from __future__ import annotations

import functools
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from hub.api.deps import ApiCall, Context, Gate
from hub.api.gateway import PUBLICATION_HEADER, Call, Gateway
from hub.api.problems import ApiProblem, documented
from hub.store.steps import Steps
from hub.verify import Attempt, Claim, StoreLimiter, verify_steps
from hub.verify.claims import ClaimKind
from hub.verify.limits import limits_of
from hub.views.reader import Reader
from schemas.situation import SituationType

router = APIRouter(prefix="/api/v1/verify")

ERRORS = documented(400, 401, 403, 422, 429, 503)
ResidentId = Annotated[str, Field(min_length=1, max_length=32, description="the resident ID number (18 characters; "
                                                                          "full-width digits allowed)")]
PersonName = Annotated[str, Field(min_length=1, max_length=64, description="the person's name as written on the ID")]


class VerifyAnswer(BaseModel):
    """The answer, and nothing else: `match` true when the hub confirms the claim within your scope."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"claim": "resident", "match": True}]})

    claim: ClaimKind
    match: bool


class _Claim(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResidentClaim(_Claim):
    """This ID number and name belong to a resident (lives, is registered or rents there) of the community."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"resident_id": "650102199001011234", "name": "阿依古丽·买买提", "community": "胜利西社区"}]})

    resident_id: ResidentId
    name: PersonName
    community: str = Field(min_length=1, max_length=64, description="a community or grid: its place id or name")


class SituationClaim(_Claim):
    """This person (ID number, and name when given) has the situation now (低保 is `dibao`)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"resident_id": "650102199001011234", "situation": "dibao"}]})

    resident_id: ResidentId
    name: PersonName | None = None
    situation: SituationType


class TenureClaim(_Claim):
    """This person owns or rents (`tenure`; omitted: either) the house, given by canonical id or address."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"resident_id": "650102199001011234", "address": "医学院佳苑2号楼2单元202", "tenure": "owns"}]})

    resident_id: ResidentId
    name: PersonName | None = None
    house_id: str | None = Field(default=None, min_length=1, max_length=32, description="the house's canonical id")
    address: str | None = Field(default=None, min_length=1, max_length=200, description="the house's address")
    tenure: Literal["owns", "rents"] | None = None


class OrganizationClaim(_Claim):
    """This unified social credit code is valid and registered (to this name, when given)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"credit_code": "91650102MA77XXXX0X", "name": "乌鲁木齐明珠物业有限公司"}]})

    credit_code: str = Field(min_length=1, max_length=32)
    name: str | None = Field(default=None, min_length=1, max_length=100)


@functools.lru_cache(maxsize=4)
def _limiter(dialect: str) -> StoreLimiter:
    return StoreLimiter(dialect)


def answer_bytes(kind: str, match: bool) -> bytes:
    """The body of an answer: the same length whichever the answer (`true ` carries a space)."""
    return b'{"claim":"' + kind.encode("ascii") + b'","match":' + (b"true " if match else b"false") + b"}"


def _try(gate: Gateway, call: Call, claim: Claim, ctx: Any) -> Steps[tuple[Attempt, Reader]]:
    reader = yield from gate._admit(call)
    attempt = yield from verify_steps(reader, call.policy, claim, limiter=_limiter(gate.dialect),
                                      limits=limits_of(ctx.settings), action=call.action, dialect=gate.dialect,
                                      at=time.time())
    return attempt, reader


async def _verify(gate: Gateway, ctx: Any, call: Call, claim: Claim) -> Response:
    attempt, reader = await gate._run(_try(gate, call, claim, ctx))
    if attempt.status == 403:
        raise ApiProblem("claim_not_allowed", f"your grant does not cover {claim.kind} claims")
    if attempt.status == 429:
        assert attempt.decision is not None
        raise ApiProblem("rate_limited", "too many tries for your consumer or for this subject",
                         headers={"Retry-After": str(attempt.decision.retry_after)})
    assert attempt.verdict is not None
    return Response(answer_bytes(claim.kind, attempt.verdict.match), media_type="application/json",
                    headers={PUBLICATION_HEADER: str(reader.version), "Cache-Control": "no-store"})


@router.post("/resident", tags=["verify"], response_model=VerifyAnswer, responses=ERRORS)
async def verify_resident(body: ResidentClaim, call: ApiCall, gate: Gate, ctx: Context) -> Any:
    """Does this ID number and name belong to a resident of this community? Yes or no."""
    return await _verify(gate, ctx, call, Claim("resident", resident_id=body.resident_id, name=body.name,
                                                community=body.community))


@router.post("/situation", tags=["verify"], response_model=VerifyAnswer, responses=ERRORS)
async def verify_situation(body: SituationClaim, call: ApiCall, gate: Gate, ctx: Context) -> Any:
    """Does this person have this situation (低保, 特困, 残疾 …) now? Yes or no."""
    return await _verify(gate, ctx, call, Claim("situation", resident_id=body.resident_id, name=body.name,
                                                situation=body.situation.value))


@router.post("/tenure", tags=["verify"], response_model=VerifyAnswer, responses=ERRORS)
async def verify_tenure(body: TenureClaim, call: ApiCall, gate: Gate, ctx: Context) -> Any:
    """Does this person own or rent this house? Yes or no."""
    return await _verify(gate, ctx, call, Claim("tenure", resident_id=body.resident_id, name=body.name,
                                                house_id=body.house_id, address=body.address, tenure=body.tenure))


@router.post("/organization", tags=["verify"], response_model=VerifyAnswer, responses=ERRORS)
async def verify_organization(body: OrganizationClaim, call: ApiCall, gate: Gate, ctx: Context) -> Any:
    """Is this credit code valid and registered (to this name)? Yes or no."""
    return await _verify(gate, ctx, call, Claim("organization", credit_code=body.credit_code, name=body.name))
