"""Write-back: values collected once through a form land as a record of the grid collection source (网格采集).

The same path as any department's batch: the submission becomes one raw record (its payload encrypted in the
raw zone, with the collector, the app and the form), the grid collection mapping (mappings/grid_collection.yaml)
turns it into statements (normalized, sensitive values encrypted, bad values quarantined with their reason),
the quality gate validates the batch, and the next fusion run (`hub resolve`, the fusion DAG) resolves the
record to its person like any other record, fuses it by the declared survivorship (a value contradicting a
department's becomes a conflict row; the golden value follows the attribute's authority) and publishes it.
Nothing is written beside that path.

Only a consumer granted writing (Policy.writes: the form, or the form's field) may submit: reading a form is no
licence to add statements every other app is then served. A submission without the grant is refused whole,
before anything is read or landed (WriteNotAllowed: 403 at the API).

Every writer of the store may push at the same moment (each API worker is a process of its own): the landing
holds the source's store-wide lock (hub.store.locks), so runs of the source never overlap. Each run reads the
watermark the previous one left and reaches its own landing time, and the gate judges one batch at a time.

Resolution links the record by what it states about its subject: the person's name and resident ID number
travel with it. When the form was prefilled for a person, those are the hub's own golden values of the
person (read here, never shown to the caller) unless the collector gave them anew.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

import sqlalchemy as sa

from connectors.submissions import SubmissionsConnector
from hub.access.policy import Policy
from hub.errors import HubError
from hub.forms.loader import FormSet, load_forms
from hub.forms.model import FormTemplate
from hub.ingest import ingest_source
from hub.mapping import MappingSpec, load_mapping
from hub.pipeline import Hub, validate_batch
from hub.settings import HubSettings
from hub.store import tables
from hub.store.locks import SOURCE_LOCK_WAIT, source_lock
from hub.store.steps import run_steps
from hub.views.gather import gather_steps, visible_at
from hub.views.reader import QueryError, open_reader
from schemas.forms import SubmissionReceipt

SOURCE = "grid_collection"
LOCK_WAIT = SOURCE_LOCK_WAIT
"""Seconds a submission waits for the source's lock (one landing takes well under one; the first of a process
also builds the GX context) before it is refused as busy (hub.store.locks.SourceBusy: 503, retry)."""
IDENTITY = ("name", "resident_id")
MAX_VALUE = 500


class WriteNotAllowed(HubError):
    """The caller's grant does not cover writing these fields of the form back."""


def refused_writes(policy: Policy, form: FormTemplate, keys: list[str]) -> list[str]:
    """The field keys of `keys` the policy may not write back through `form` (none: the write is allowed)."""
    return [key for key in keys if not policy.allows_write(form.id, key)]


def grid_mapping(settings: HubSettings) -> MappingSpec:
    """The grid collection source's mapping, from the mappings folder like every source's."""
    return load_mapping(settings.mappings_dir / f"{SOURCE}.yaml")


def hub_forms(settings: HubSettings) -> FormSet:
    """The forms of HUB_FORMS_DIR, each binding checked against the grid collection source it writes back to."""
    return load_forms(settings.forms_dir, grid_mapping(settings).connector.settings["columns"])


def _identity(hub: Hub, policy: Policy, subject_id: str) -> dict[str, str] | None:
    """The subject's name and ID number as the hub holds them, if the policy may see the person (type, scope)."""
    with hub.engine.connect() as conn:
        reader = open_reader(conn, hub.vault)
        gathered = run_steps(conn, gather_steps(reader, policy, subject_id, with_related=False))
        subject = gathered.subject
        if subject is None or subject.state != "active" or subject.entity_type != "person":
            return None
        v = tables.pub_value.c
        rows = conn.execute(sa.select(v.attribute, v.value, v.value_enc).where(
            v.entity_id == subject_id, v.attribute.in_(IDENTITY), visible_at(tables.pub_value)),
            {"version": reader.version})
        return {row.attribute: row.value if row.value is not None else hub.vault.decrypt_text(bytes(row.value_enc))
                for row in rows}


def submit(hub: Hub, policy: Policy, form: FormTemplate, values: Mapping[str, str], *, subject_id: str | None,
           collector: str, now: datetime | None = None) -> SubmissionReceipt | None:
    """Land the collected `values` (form field key → text) for the subject as a grid collection record.

    None: `subject_id` names no person the policy may see (the caller answers it as unknown). WriteNotAllowed:
    the policy holds no write grant for the form or for one of the given fields. QueryError: a key the form
    does not have, a field the policy may not receive, an empty submission, or no name for a new person.
    SourceBusy: another writer held the source longer than LOCK_WAIT. The record is landed and gated here; it
    is published by the next fusion run."""
    given = {k: str(v).strip() for k, v in values.items() if v is not None and str(v).strip()}
    if not given:
        raise QueryError("nothing to write back: give at least one field's value")
    refused = refused_writes(policy, form, sorted(given))
    if refused:
        raise WriteNotAllowed(f"your grant does not cover writing back {form.id} "
                              f"({', '.join(refused)}): ask the operator for `--write-form {form.id}`")
    for key, value in given.items():
        item = form.field(key)
        if item is None:
            raise QueryError(f"form {form.id} has no field {key!r}")
        if not policy.allows_field(item.bind.entity_type, item.bind.attribute):
            raise QueryError(f"your grant does not cover {item.bind.entity_type}.{item.bind.attribute}")
        if len(value) > MAX_VALUE:
            raise QueryError(f"{key}: longer than {MAX_VALUE} characters")
        if not value.isprintable():
            raise QueryError(f"{key}: holds a control character (a line break, a NUL …)")
    if not collector.strip() or not collector.isprintable():
        raise QueryError("collector: give who collected the values, on one line")
    spec = grid_mapping(hub.settings)
    columns = list(spec.connector.settings["columns"])
    row: dict[str, object] = dict.fromkeys(columns)
    if subject_id is not None:
        identity = _identity(hub, policy, subject_id)
        if identity is None:
            return None
        row.update(identity)
    at = now or datetime.now(UTC)
    submission_id = uuid.uuid4().hex
    row.update(submission_id=submission_id, form=form.id, collector=collector, consumer=policy.actor,
               collected_at=at.isoformat(), subject_id=subject_id)
    for key, value in given.items():
        item = form.field(key)
        assert item is not None
        row[item.bind.column] = value
        if item.bind.kind == "situation":
            row["situation_type"] = item.bind.situation
    if not row.get("name"):
        raise QueryError("a person the hub does not know yet needs at least the name field")
    with source_lock(hub.engine, SOURCE, wait=LOCK_WAIT):
        # the batch reaches its landing time, taken under the lock: the source's watermark only moves forward
        landing = max(at, datetime.now(UTC))
        connector = SubmissionsConnector(SOURCE, spec.connector.settings).push([row], watermark=landing.isoformat())
        result = validate_batch(hub, spec, ingest_source(spec, connector, engine=hub.engine, vault=hub.vault,
                                                         stale_after=hub.settings.stale_after))
    if result.status != "succeeded":
        raise RuntimeError(f"the grid collection batch did not land: {result.error}")
    return SubmissionReceipt(submission_id=submission_id, record_key=f"{SOURCE}|{submission_id}", form=form.id,
                             subject_id=subject_id, fields=sorted(given), run_id=result.run_id,
                             statements=result.statements, rejected=result.quarantined_values, gate=result.gate,
                             published=False)
