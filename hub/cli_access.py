"""`hub consumers …` and `hub audit …`: downstream apps and the audit log from the command line.

    hub consumers add NAME --purpose 用途 -t person [-t house] [--field person.name] [--scope 社区] [--clearance]
                      [--write-form elderly_allowance] [--write-form floating_registration.phone]
    hub consumers writes CONSUMER [--write-form FORM[.FIELD]] ...   replace its write grants (none: revoke them)
    hub consumers list / rotate CONSUMER [--keep-old 1h] / revoke CONSUMER
    hub audit verify                          the whole chain; exit 1 naming the first bad row
    hub audit log [--entity ID] [--resident ID-NUMBER] [--actor APP] [--since DATE] [--until DATE]
    hub audit export FILE [--since DATE] [--until DATE]
    hub audit prune --before DATE             refused for anything younger than six months

Commands wire settings to hub.access / hub.audit and print. Every command that changes a consumer or reads
the audit log is itself audited, as the operator (role operator, login name).
"""

from __future__ import annotations

import getpass
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli_console import console, folding_table, source_text
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.access import AccessKeys, Policy
    from hub.access.consumers import ConsumerRow, Secret
    from hub.pipeline import Hub

consumers_app = typer.Typer(help="Downstream apps: their credentials, purpose, fields and scope.",
                            no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log of every read and write.", no_args_is_help=True)

TOKEN_URL = "http://127.0.0.1:8000/api/v1/token"


def _open() -> tuple[Hub, AccessKeys, Policy]:
    from hub.access import AccessKeys, Policy
    from hub.pipeline import Hub

    hub = Hub.open(create=False)
    return hub, AccessKeys.from_vault(hub.vault), Policy.operator(getpass.getuser())


def _when(text: str | None, option: str) -> datetime | None:
    """A date (midnight UTC) or an ISO time (UTC when it names no zone)."""
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text) if "T" in text or " " in text else datetime.combine(
            date.fromisoformat(text), datetime.min.time())
    except ValueError:
        raise HubError(f"{option} {text!r} is not a date (2026-06-30) or an ISO time (2026-06-30T08:00)") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


_DURATION = re.compile(r"(\d+)\s*([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _duration(text: str | None) -> timedelta | None:
    if text is None:
        return None
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        raise HubError(f"--keep-old {text!r} is not a duration: a number and s, m, h or d (30m, 2h, 1d)")
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


def _fields(specs: list[str]) -> dict[str, list[str]] | None:
    if not specs:
        return None
    fields: dict[str, list[str]] = {}
    for spec in specs:
        entity_type, dot, attribute = spec.partition(".")
        if not dot or not entity_type or not attribute:
            raise HubError(f"--field {spec!r} must read TYPE.ATTRIBUTE (person.name)")
        fields.setdefault(entity_type, []).append(attribute)
    return fields


def _form_fields(hub: Hub, writes: list[str]) -> dict[str, list[str]] | None:
    """The forms of HUB_FORMS_DIR (form id → field keys) that write grants are checked against; None: none given."""
    if not writes:
        return None
    from hub.forms.writeback import hub_forms

    return {f.id: [item.key for item in f.fields] for f in hub_forms(hub.settings).require_ok()}


def _writes_text(row: ConsumerRow) -> str:
    return f"; writes back {', '.join(row.writes)}" if row.writes else ""


def _show_secret(secret: Secret) -> None:
    if secret.kind == "api_key":
        console.print(f"API key: {secret.value}")
        console.print("  send it as `Authorization: Bearer <API key>`; shown only now, the hub keeps only its hash")
        return
    console.print(f"client id:     {secret.consumer_id}\nclient secret: {secret.value}")
    console.print("  shown only now: the hub keeps only its hash. Get a token (OAuth2 client credentials):")
    console.print(f"  curl -s -u '{secret.consumer_id}:{secret.value}' -d grant_type=client_credentials "
                  f"{TOKEN_URL}", soft_wrap=True)


def _scope_text(hub: Hub, row: ConsumerRow) -> str:
    from hub.access.consumers import place_names

    if row.scope is None:
        return "everywhere"
    names = place_names(hub.engine, row.scope.place_ids)
    return ", ".join(names.get(p, p) for p in (*row.scope.communities, *row.scope.grids))


@consumers_app.command("add")
def consumers_add(
    name: Annotated[str, typer.Argument(help="the app's name, unique")],
    purpose: Annotated[str, typer.Option("--purpose", "-p", help="用途: what the app needs the data for")],
    entity_types: Annotated[list[str] | None, typer.Option("--type", "-t", help="entity type it may read "
                                                           "(repeat; an auditor may have none)")] = None,
    clearance: Annotated[str, typer.Option(help="public, internal, sensitive or highly_sensitive: above it, "
                                                "values are masked or withheld")] = "internal",
    field: Annotated[list[str] | None, typer.Option("--field", help="TYPE.ATTRIBUTE it may receive (repeat); "
                                                    "a type without any: every attribute")] = None,
    scope: Annotated[list[str] | None, typer.Option("--scope", help="community or grid, by name, code or id "
                                                    "(repeat); default: the whole district")] = None,
    role: Annotated[str, typer.Option(help="consumer, or auditor (may read the audit log)")] = "consumer",
    claim: Annotated[list[str] | None, typer.Option("--claim", help="核验 claim kind it may verify (repeat): "
                                                    "resident, situation, tenure, organization")] = None,
    write_form: Annotated[list[str] | None, typer.Option("--write-form", help="FORM or FORM.FIELD it may write back "
                                                         "(repeat); without any it may only read forms")] = None,
    api_key: Annotated[bool, typer.Option("--api-key", help="also issue an API key")] = False,
) -> None:
    """Register a downstream app; prints its client id and secret once, and how to get a token."""
    from hub.access.consumers import add_consumer, issue_api_key

    hub, keys, operator = _open()
    row, secret = add_consumer(hub.engine, keys, name, purpose, clearance, entity_types or [], _fields(field or []),
                               scope, role, claims=claim or [], writes=write_form or [],  # type: ignore[arg-type]
                               forms=_form_fields(hub, write_form or []), by=operator)
    console.print(f"consumer {source_text(row.name)} added: {row.role}, clearance {row.clearance.value}, "
                  f"types {', '.join(row.entity_types) or 'none'}, scope {source_text(_scope_text(hub, row))}"
                  + (f", verifies {', '.join(row.claims)}" if row.claims else "") + _writes_text(row))
    _show_secret(secret)
    if api_key:
        _show_secret(issue_api_key(hub.engine, keys, row.id, by=operator))


@consumers_app.command("list")
def consumers_list() -> None:
    """Every consumer with its purpose, clearance, types, scope and credentials (never a secret)."""
    from hub.access.consumers import list_consumers
    from hub.store.runs import now

    hub, _keys, _operator = _open()
    rows = list_consumers(hub.engine)
    table = folding_table("client id", "name", "role", "purpose", "clearance", "types / fields", "scope",
                          "state", "credentials")
    at = now()
    for row in rows:
        fields = "all fields" if row.fields is None else "; ".join(
            f"{t}: {', '.join(a)}" for t, a in row.fields.items())
        usable = [c for c in row.credentials if c.usable(at)]
        creds = ", ".join(f"{c.kind} {c.id}" + (f" until {c.expires_at:%Y-%m-%d %H:%M}" if c.expires_at else "")
                          for c in usable) or "none usable"
        table.add_row(row.id, source_text(row.name), row.role, source_text(row.purpose), row.clearance.value,
                      f"{', '.join(row.entity_types)} ({source_text(fields)})"
                      + (f"; verifies {', '.join(row.claims)}" if row.claims else "") + _writes_text(row),
                      source_text(_scope_text(hub, row)), row.state, creds)
    console.print(table if rows else "no consumers yet: `hub consumers add NAME --purpose … -t person`")


@consumers_app.command("writes")
def consumers_writes(
    consumer: Annotated[str, typer.Argument(help="client id or name")],
    write_form: Annotated[list[str] | None, typer.Option("--write-form", help="FORM or FORM.FIELD it may write back "
                                                         "(repeat); none given: it may write nothing")] = None,
) -> None:
    """Replace what a consumer may write back through forms (its other grants stay); audited."""
    from hub.access.consumers import set_writes

    hub, keys, operator = _open()
    row = set_writes(hub.engine, keys, consumer, write_form or [], forms=_form_fields(hub, write_form or []),
                     by=operator)
    console.print(f"consumer {source_text(row.name)} ({row.id}) "
                  + (f"may write back {', '.join(row.writes)}" if row.writes else "may write back nothing"))


@consumers_app.command("rotate")
def consumers_rotate(
    consumer: Annotated[str, typer.Argument(help="client id or name")],
    keep_old: Annotated[str | None, typer.Option("--keep-old", help="keep the old secret usable this long "
                                                 "(30m, 2h, 1d) so the app can switch; default: revoked now")]
    = None,
    api_key: Annotated[bool, typer.Option("--api-key", help="rotate its API key instead of its client secret")]
    = False,
) -> None:
    """A new secret for a consumer (shown once); the old one revoked now or after --keep-old."""
    from hub.access.consumers import rotate

    hub, keys, operator = _open()
    secret = rotate(hub.engine, keys, consumer, keep_old=_duration(keep_old),
                    kind="api_key" if api_key else "client_secret", by=operator)
    _show_secret(secret)
    console.print(f"the old {'API key' if api_key else 'secret'} "
                  + (f"stays usable for {keep_old}" if keep_old else "is revoked"))


@consumers_app.command("revoke")
def consumers_revoke(consumer: Annotated[str, typer.Argument(help="client id or name")]) -> None:
    """Revoke a consumer and all its credentials: its tokens stop working at their next request."""
    from hub.access.consumers import revoke

    hub, keys, operator = _open()
    row = revoke(hub.engine, consumer, keys=keys, by=operator)
    console.print(f"consumer {source_text(row.name)} ({row.id}) revoked, with {len(row.credentials)} credential(s)")


# ---------------------------------------------------------------------------------------------------------------
# hub audit
# ---------------------------------------------------------------------------------------------------------------


def _anchor(text: str | None) -> tuple[int, str] | None:
    if text is None:
        return None
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise HubError(f"--anchor {text!r} must read SEQ:HASH, as `hub audit verify` prints it")
    return int(seq), digest


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[str | None, typer.Option(help="SEQ:HASH noted from an earlier verify: the chain must still "
                                               "hold that row (finds a cut tail with its head set back)")] = None,
) -> None:
    """Check the whole chain; exit 1 naming the first bad row."""
    from hub.audit import record, seal, verify

    noted = _anchor(anchor)
    hub, keys, operator = _open()
    seal(hub.engine, keys)
    result = verify(hub.engine, keys, anchor=noted)
    record(hub.engine, keys, operator, "hub audit verify", status=0 if result.ok else 1,
           detail={"ok": result.ok, "rows_checked": result.rows_checked, "first_bad_seq": result.first_bad_seq})
    if not result.ok:
        console.print(f"[red]audit chain broken[/red] at row {result.first_bad_seq}: {result.problem} "
                      f"({result.rows_checked:,} rows checked before it)", soft_wrap=True)
        raise typer.Exit(code=1)
    console.print(f"audit chain verified: {result.rows_checked:,} rows, seq {result.start_seq}–{result.head_seq}"
                  + (f" (rows before {result.start_seq} pruned)" if result.start_seq > 1 else "")
                  + (f"; {result.pending:,} rows appended meanwhile wait for their seal" if result.pending else ""))
    console.print(f"anchor: {result.head_seq}:{result.head_hash}", soft_wrap=True)
    console.print("  note it elsewhere; `hub audit verify --anchor` with it later proves no row up to it was cut "
                  "or rewritten")


def _resident_entities(hub: Hub, id_number: str) -> list[str]:
    """The published persons holding a resident ID number, with the ids merged into them: the pub_key rows of
    kind resident_id (hub.publish) carry the vault token of the normalized number, never the number."""
    import sqlalchemy as sa

    from hub.normalize.resident_id import normalize_resident_id
    from hub.store import tables

    normalized = normalize_resident_id(id_number)
    if normalized.value is None:
        raise HubError(f"--resident is not a resident ID number: {normalized.reason}")
    k, e = tables.pub_key.c, tables.entity.c
    with hub.engine.connect() as conn:
        found = list(conn.execute(sa.select(k.entity_id).where(
            k.kind == "resident_id", k.key == hub.vault.token(normalized.value)).distinct()).scalars())
        frontier = found
        while frontier:   # the ids merged into them: audit rows written before a merge name the old id
            frontier = [i for i in conn.execute(sa.select(e.id).where(e.merged_into.in_(frontier))).scalars()
                        if i not in found]
            found += frontier
    return found


@audit_app.command("log")
def audit_log(
    entity: Annotated[list[str] | None, typer.Option("--entity", help="entity id (repeat)")] = None,
    resident: Annotated[str | None, typer.Option("--resident", help="a person's resident ID number: who looked "
                                                 "at them (needs a published read model), and every 核验 try "
                                                 "about that number")] = None,
    actor: Annotated[str | None, typer.Option(help="client id of an app, or an operator's login")] = None,
    since: Annotated[str | None, typer.Option(help="from this date or time (UTC)")] = None,
    until: Annotated[str | None, typer.Option(help="before this date or time (UTC)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="rows, newest first")] = 50,
) -> None:
    """Who read or changed what, newest first: by entity (or resident), by app, by period."""
    from hub.audit import query, record
    from hub.verify.claims import Claim, subject_hash

    hub, keys, operator = _open()
    entity_ids = list(entity or [])
    subjects: list[str] | None = None
    if resident is not None:
        found = _resident_entities(hub, resident)
        if not found:
            console.print("no published person holds that ID number (`hub resolve` publishes them); "
                          "核验 tries about it are listed still")
        entity_ids += found
        subjects = [subject_hash(hub.vault, Claim("resident", resident_id=resident))]
    filtered = entity is not None or resident is not None
    page = query(hub.engine, entity_ids=entity_ids if filtered else None, subjects=subjects, actor=actor,
                 since=_when(since, "--since"), until=_when(until, "--until"), limit=limit)
    record(hub.engine, keys, operator, "hub audit log", entity_ids=entity_ids,
           detail={"actor": actor, "since": since, "until": until, "by_resident": resident is not None,
                   "rows": len(page.rows)})
    table = folding_table("seq", "time (UTC)", "actor", "role", "purpose", "action", "status", "entities", "fields")
    for row in page.rows:
        table.add_row(str(row.seq) if row.seq is not None else "sealing",
                      f"{row.at.astimezone(UTC):%Y-%m-%d %H:%M:%S}", source_text(row.actor), row.role,
                      source_text(row.purpose), source_text(row.action), str(row.status),
                      source_text(", ".join(row.entity_ids)),
                      source_text(", ".join(f"{f}:{m}" for f, m in sorted(row.fields.items()))))
    console.print(table if page.rows else "no audit rows match")
    if page.next_cursor:
        console.print(f"more rows: narrow the period (--until {page.rows[-1].at.astimezone(UTC):%Y-%m-%dT%H:%M:%S})"
                      " or raise --limit")


@audit_app.command("export")
def audit_export(
    path: Annotated[Path, typer.Argument(help="JSON lines file to write (0600)")],
    since: Annotated[str | None, typer.Option(help="from this date or time (UTC)")] = None,
    until: Annotated[str | None, typer.Option(help="before this date or time (UTC)")] = None,
) -> None:
    """Write the log's rows (with their hashes) as JSON lines, oldest first: for archives beyond retention."""
    from hub.audit import export, record, seal

    hub, keys, operator = _open()
    seal(hub.engine, keys)
    result = export(hub.engine, path, _when(since, "--since"), _when(until, "--until"))
    record(hub.engine, keys, operator, "hub audit export",
           detail={"rows": result.rows, "first_seq": result.first_seq, "last_seq": result.last_seq})
    console.print(f"{result.rows:,} audit rows written to {source_text(result.path)}"
                  + (f" (seq {result.first_seq}–{result.last_seq})" if result.rows else ""))


@audit_app.command("prune")
def audit_prune(
    before: Annotated[str, typer.Option(help="remove rows older than this date (at least six months ago)")],
) -> None:
    """Remove rows past retention (six months at least), leaving a checkpoint so the rest still verifies.
    Export them first if they must be archived."""
    from hub.audit import prune

    hub, keys, operator = _open()
    cut = _when(before, "--before")
    assert cut is not None
    result = prune(hub.engine, keys, cut, by=operator)
    if result.rows_removed == 0:
        console.print(f"no audit rows older than {before}: nothing pruned")
        return
    console.print(f"{result.rows_removed:,} audit rows removed (through seq {result.pruned_through}); "
                  f"checkpoint row {result.checkpoint_seq} keeps the chain verifiable")
