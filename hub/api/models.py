"""The API's own request bodies and responses; what the views return is in schemas/views.py.

Request bodies forbid unknown members, so a misspelt criterion (`id_number`) is a 422 naming it instead of a
search that silently ignores it. Lengths are bounded: a request never makes the hub normalize a megabyte.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ENTITY_ID_PATTERN = r"^[A-Z]-[0-9a-f]{16}$"
"""A canonical id: a type letter and 16 hex characters (hub.resolve mints them)."""

Limit = Annotated[int, Field(ge=1, le=200, description="results per page")]
Cursor = Annotated[str | None, Field(default=None, max_length=512, description="`next_cursor` of the previous page")]
Name = Annotated[str | None, Field(default=None, min_length=1, max_length=64)]
Identifier = Annotated[str | None, Field(default=None, min_length=1, max_length=32)]
Address = Annotated[str | None, Field(default=None, min_length=1, max_length=200)]


class _Search(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: Limit = 20
    cursor: Cursor = None

    def criteria(self) -> dict[str, str]:
        """The criteria given (for the view), without paging."""
        return {k: v for k, v in self.model_dump(exclude={"limit", "cursor"}).items() if v is not None}

    @model_validator(mode="after")
    def _one_criterion(self) -> _Search:
        if not self.criteria():
            names = ", ".join(n for n in type(self).model_fields if n not in ("limit", "cursor"))
            raise ValueError(f"give at least one of {names}")
        return self


class PersonSearch(_Search):
    """Persons by any of these (all given must match): name (typos, pinyin such as `zhangwei`, transliterated
    names with or without `·`), resident ID (15 or 18 digits, full-width digits allowed), phone, address."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "阿依古丽·买买提", "limit": 5}, {"resident_id": "650102199001011234"}, {"phone": "138 0013 8000"}]})

    name: Name = None
    resident_id: Identifier = None
    phone: Identifier = None
    address: Address = None


class HouseSearch(_Search):
    """Houses by address (estate, building, unit, room; written as the departments write them)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"address": "医学院佳苑2号楼2单元202"}]})

    address: Address = None


class OrganizationSearch(_Search):
    """Organizations by name (without 有限公司 and the like, typos tolerated), unified social credit code, or
    address."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "天山区新华书店"}, {"credit_code": "91650102MA77XYZ12K"}]})

    name: Name = None
    credit_code: Identifier = None
    address: Address = None


class TokenResponse(BaseModel):
    """An access token (RFC 6749 §5.1)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"access_token": "eyJhbGciOiJIUzI1NiIsImtpZCI6ImNyZWQtLi4uIn0…", "token_type": "Bearer", "expires_in": 900}]})

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="seconds until it expires")


class Publication(BaseModel):
    """The published version of the read model that requests are answered from."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"version": 12, "published_at": "2026-12-07T02:00:00Z"}]})

    version: int
    published_at: datetime | None


class AuditRecord(BaseModel):
    """One audit row: who read what, how it was shown, and the row's place in the hash chain."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": 1042, "seq": 1042, "at": "2026-12-07T02:01:00Z", "actor": "app-7f3a9c2e1b", "role": "consumer",
        "purpose": "网格巡查", "action": "GET /api/v1/persons/{entity_id}", "status": 200,
        "entity_ids": ["P-3f9a0c2b7d1e4a55"], "fields": {"person.name": "masked", "person.phone": "masked"},
        "detail": None, "prev_hash": "9c1e…", "row_hash": "47ab…"}]})

    id: int
    seq: int | None = Field(description="its place in the hash chain; null until sealed (within a second)")
    at: datetime
    actor: str
    role: str
    purpose: str | None
    action: str
    status: int
    entity_ids: list[str]
    fields: dict[str, str]
    detail: dict[str, Any] | None
    prev_hash: str | None
    row_hash: str | None


class AuditLogPage(BaseModel):
    """Audit rows, newest first; pass `next_cursor` back for older ones."""

    model_config = ConfigDict(from_attributes=True)

    rows: list[AuditRecord]
    next_cursor: str | None


class AuditVerification(BaseModel):
    """The whole chain checked: ok, or the first row where it is broken and how."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "ok": True, "rows_checked": 1042, "first_bad_seq": None, "problem": None, "head_seq": 1042,
        "head_hash": "47ab…", "start_seq": 1, "pending": 0,
        "oldest_pending_at": None}]})

    ok: bool
    rows_checked: int
    first_bad_seq: int | None
    problem: str | None
    head_seq: int
    head_hash: str = Field(description="keep it somewhere else: it proves later that no tail was cut")
    start_seq: int
    pending: int = Field(description="rows appended but not sealed into the chain yet")
    oldest_pending_at: datetime | None
