"""`hub forms list|prefill`: the form templates of HUB_FORMS_DIR (hub.forms), the share of each form's fields the
hub serves on the published district, and a form prefilled for one person (as the operator sees it: identifiers
masked, sensitive values withheld; audited like an app's read)."""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli_console import console, err, folding_table, source_text
from hub.cli_console import fail as _fail
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.access import Policy
    from hub.pipeline import Hub
    from schemas.forms import FormPrefill, FormShare

forms_app = typer.Typer(help="Forms (forms/*.yaml): list with the share served from the hub, prefill.",
                        no_args_is_help=True)


def shares(hub: Hub) -> list[FormShare]:
    """The share of each form's fields the hub serves on the published district (hub.forms.served_shares)."""
    from hub.forms import served_shares
    from hub.forms.writeback import hub_forms
    from hub.views import open_reader

    forms = hub_forms(hub.settings).require_ok()
    with hub.engine.connect() as conn:
        return served_shares(open_reader(conn, hub.vault), forms)


def print_shares(found: list[FormShare]) -> None:
    table = folding_table("form", "title", "applicants", "fields", "served from the hub", "required fields served",
                          title="Share of form fields served from the hub (over each form's applicants)")
    for share in found:
        table.add_row(share.form, share.title, str(share.persons), str(len(share.fields)), f"{share.share:.1%}",
                      f"{share.required_share:.1%}")
    console.print(table)


@forms_app.command("list")
def forms_list() -> None:
    """Every form, its fields' bindings, and the share of its fields the hub serves on the published district."""
    from hub.pipeline import Hub

    try:
        hub = Hub.open(create=False)
        try:
            found = shares(hub)
        finally:
            hub.engine.dispose()
    except HubError as exc:
        raise _fail(exc) from None
    for share in found:
        table = folding_table("field", "bound to", "required", "persons served", title=f"{share.form}: {share.title}")
        for item in share.fields:
            table.add_row(item.key, item.bind, "yes" if item.required else "no", f"{item.filled} of {share.persons}")
        console.print(table)
    print_shares(found)


def print_prefill(found: FormPrefill) -> None:
    table = folding_table("field", "status", "value", "source", "department", "as of",
                          title=f"{found.title} ({found.form}) for {found.subject_id}")
    for item in found.fields:
        table.add_row(item.key, item.status, source_text("" if item.value is None else str(item.value)),
                      item.source or "", item.department or "", item.as_of.isoformat() if item.as_of else "")
    console.print(table)
    console.print(f"served from the hub: {found.served} of {len(found.fields)} fields; to collect: "
                  f"{', '.join(found.to_collect) or 'nothing'}", highlight=False)


def prefill_as(hub: Hub, policy_actor: str, form_id: str, person_id: str) -> FormPrefill | None:
    """The form prefilled for the person under the operator's policy, audited (action `hub forms prefill`)."""
    from hub.access import Policy

    return prefill_as_policy(hub, Policy.operator(policy_actor, purpose="hub forms prefill"), form_id, person_id)


def prefill_as_policy(hub: Hub, policy: Policy, form_id: str, person_id: str) -> FormPrefill | None:
    """The form prefilled for the person as `policy` sees it, audited (action `hub forms prefill`)."""
    from hub.access import AccessKeys
    from hub.audit import AuditEntry, seal
    from hub.audit.chain import append_steps
    from hub.forms import prefill
    from hub.forms.writeback import hub_forms
    from hub.store.steps import run_steps
    from hub.views import open_reader
    from schemas.forms import FormPrefill

    form = hub_forms(hub.settings).get(form_id)
    with hub.engine.begin() as conn:
        found = prefill(open_reader(conn, hub.vault), policy, form, person_id)
        shown = found if isinstance(found, FormPrefill) else None
        disclosed = shown.disclosed if shown else None
        run_steps(conn, append_steps(AuditEntry.of(policy, "hub forms prefill", status=200 if shown else 404,
                                                   entity_ids=disclosed.entity_ids if disclosed else [person_id],
                                                   fields=disclosed.fields if disclosed else {},
                                                   detail={"form": form.id}), conn.dialect.name))
    seal(hub.engine, AccessKeys.from_vault(hub.vault))
    return shown


@forms_app.command("prefill")
def forms_prefill(
    form_id: Annotated[str, typer.Argument(help="the form's id (hub forms list)")],
    person_id: Annotated[str, typer.Argument(help="the person's canonical id (hub find)")],
) -> None:
    """The form prefilled for the person: values (masked at the operator's clearance), source, freshness, and the
    fields still to collect."""
    from hub.pipeline import Hub

    try:
        hub = Hub.open(create=False)
        try:
            found = prefill_as(hub, getpass.getuser(), form_id, person_id)
        finally:
            hub.engine.dispose()
    except HubError as exc:
        raise _fail(exc) from None
    if found is None:
        raise _fail(HubError(f"no active person {person_id} (a merged id: `hub explain {person_id}`)"))
    print_prefill(found)


DEMO_FORM_APP = "demo-form-app"
DEMO_FORM = "elderly_allowance"


def forms_demo(hub: Hub, person_id: str | None) -> None:
    """The forms part of `make run`: register the demo form app (once; clearance internal), prefill one form for
    the showcase person as that app reads it (audited under its id), and print the share each form is served."""
    try:
        _forms_demo(hub, person_id)
    except HubError as exc:   # a broken form file must not keep the API from serving: say so and go on
        err.print(f"[red]forms:[/red] {source_text(str(exc))}", highlight=False, soft_wrap=True)


def _forms_demo(hub: Hub, person_id: str | None) -> None:
    import dataclasses

    from hub.access import AccessKeys, Policy
    from hub.access.consumers import ConsumerError, add_consumer, get_consumer

    by = Policy.operator(getpass.getuser(), purpose="hub demo: the demo form app")
    try:
        row = get_consumer(hub.engine, DEMO_FORM_APP)
    except ConsumerError:
        row, _secret = add_consumer(hub.engine, AccessKeys.from_vault(hub.vault), DEMO_FORM_APP,
                                    "智慧表单 (demo): forms prefilled from the hub, new values written back",
                                    "internal", ["person", "house"], by=by)
    console.print(f"\n[bold]Forms[/bold] (forms/, docs/api-guide.md#forms): demo form app {DEMO_FORM_APP!r} "
                  f"(client id {row.id}; `hub consumers rotate` gives it a secret)", highlight=False)
    if person_id is not None:
        policy = dataclasses.replace(by, actor=row.id, role="consumer", purpose="hub demo: 高龄津贴申请 prefill",
                                     entity_types=frozenset({"person", "house"}))
        found = prefill_as_policy(hub, policy, DEMO_FORM, person_id)
        if found is not None:
            print_prefill(found)
    print_shares(shares(hub))
