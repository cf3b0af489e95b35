"""Forms (智慧表单): the templates, prefill for a person, and write-back of newly collected values.

Wiring only: prefill is the core view hub.forms.prefill_steps run through the gateway like a profile (admitted,
type and scope in the SQL, masked by the one masking function, audited with what it disclosed; a merged id
answers 308, an unknown or out-of-scope one 404). A submission is hub.forms.writeback.submit (the grid
collection source's ingest, run in the thread pool), audited with the form, the field keys and the record it
landed, never the values; without a write grant for the form (or each field given) it is refused 403
`write_not_allowed`, audited; when another worker holds the source too long, 503 `source_busy`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from hub.api.deps import ApiCall, Context, Gate
from hub.api.gateway import Call, Gateway
from hub.api.models import ENTITY_ID_PATTERN
from hub.api.problems import documented
from hub.api.routes.entities import MOVED
from hub.errors import FormError
from hub.forms import FormSet, FormTemplate, prefill_steps
from hub.forms.writeback import WriteNotAllowed, hub_forms, submit
from hub.pipeline import Hub
from hub.store.locks import SourceBusy
from hub.store.steps import Steps, run_steps
from hub.views import QueryError
from hub.views.reader import Reader
from schemas.forms import FormPrefill, FormSummary, SubmissionReceipt
from schemas.views import Moved

router = APIRouter(prefix="/api/v1/forms")

FormId = Annotated[str, PathParam(pattern=r"^[a-z][a-z0-9_]{1,62}$", examples=["elderly_allowance"])]
EntityId = Annotated[str, PathParam(pattern=ENTITY_ID_PATTERN, description="the person's canonical id",
                                    examples=["P-3f9a0c2b7d1e4a55"])]


class Submission(BaseModel):
    """Values collected for a form: field key → value as written on the form."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"subject_id": "P-3f9a0c2b7d1e4a55", "collector": "网格员 王芳 (grid 3)", "values": {"phone": "13899001122"}}]})

    subject_id: str | None = Field(default=None, pattern=ENTITY_ID_PATTERN,
                                   description="the person the form was prefilled for; omitted: a person the hub "
                                               "does not know yet (then `name` is needed)")
    collector: str = Field(min_length=1, max_length=100, description="who collected the values (a grid worker)")
    values: dict[str, str] = Field(min_length=1, max_length=50)


_LOADED: dict[int, FormSet] = {}


def _forms(ctx: Any) -> FormSet:
    """The forms, read once per API context (a changed template is served after a restart, like a mapping)."""
    if id(ctx) not in _LOADED:
        _LOADED[id(ctx)] = hub_forms(ctx.settings)
    return _LOADED[id(ctx)]


def _hub(ctx: Any) -> Hub:
    return Hub(ctx.settings, ctx.engine, ctx.vault)


def _form(gate: Gateway, ctx: Any, call: Call, form_id: str) -> FormTemplate:
    """The form of that id; an unknown one answers 404, audited (the caller admitted first)."""
    try:
        return _forms(ctx).get(form_id)
    except FormError:
        if call.admitted is None:
            with gate.requests.connect() as conn:
                gate.admit(conn, call)
        raise gate.refuse(call, "not_found", f"no form {form_id!r}") from None


@router.get("", tags=["forms"], response_model=list[FormSummary], responses=documented(401, 503))
async def list_forms(call: ApiCall, gate: Gate, ctx: Context) -> Any:
    """The form templates: each field and the canonical attribute or relation it is bound to."""
    forms = gate.describe(call, lambda _reader: _forms(ctx).forms)
    return [FormSummary(id=f.id, title=f.title.zh, title_en=f.title.en, fields=len(f.fields),
                        bindings={i.key: i.bind.text for i in f.fields}) for f in forms]


@router.get("/{form_id}/persons/{entity_id}", tags=["forms"], response_model=FormPrefill,
            responses={**MOVED, **documented(400, 401, 403, 404, 422, 503)})
async def prefill_form(form_id: FormId, entity_id: EntityId, call: ApiCall, gate: Gate, ctx: Context) -> Any:
    """The form prefilled for the person: each field with its value as your clearance shows it, its source
    department and freshness; `to_collect` lists what the hub does not hold."""
    form = _form(gate, ctx, call, form_id)

    def view(reader: Reader, policy: Any, person_id: str) -> Steps[FormPrefill | Moved | None]:
        return prefill_steps(reader, policy, form, person_id)
    return await gate.fetch(call, "person", entity_id, view)


@router.post("/{form_id}/submissions", tags=["forms"], status_code=202, response_model=SubmissionReceipt,
             responses=documented(400, 401, 403, 404, 422, 503))
async def submit_form(form_id: FormId, body: Submission, call: ApiCall, gate: Gate, ctx: Context) -> Any:
    """Write back newly collected values as the grid collection source (网格采集): landed now, published by the
    next fusion run; a value contradicting a department's becomes a conflict, not an overwrite. Needs a write
    grant for the form or for each field given (`hub consumers add --write-form`); reading is not enough."""
    with gate.requests.connect() as conn:
        gate.admit(conn, call)
    form = _form(gate, ctx, call, form_id)
    if not call.policy.allows_type("person"):
        raise gate.refuse(call, "type_not_allowed", "your grant does not cover person entities")
    detail: dict[str, Any] = {"form": form.id, "fields": sorted(body.values)}
    try:
        receipt = await run_in_threadpool(submit, _hub(ctx), call.policy, form, body.values,
                                          subject_id=body.subject_id, collector=body.collector)
    except WriteNotAllowed as exc:
        raise gate.refuse(call, "write_not_allowed", str(exc), entity_id=body.subject_id) from None
    except SourceBusy as exc:
        raise gate.refuse(call, "source_busy", str(exc), entity_id=body.subject_id) from None
    except QueryError as exc:
        raise gate.refuse(call, "invalid_query", str(exc), entity_id=body.subject_id) from None
    if receipt is None:
        raise gate.refuse(call, "not_found", f"no person {body.subject_id} that you may see",
                          entity_id=body.subject_id)
    with gate.engine.begin() as conn:   # the write is done: its audit row, in a transaction of its own
        run_steps(conn, gate._audit(call, 202, [body.subject_id] if body.subject_id else [],
                                    detail={**detail, "record": receipt.record_key, "run": receipt.run_id}))
    return receipt
