"""`hub find`: look residents, houses and organizations up by name, ID number, phone or address.

    hub find --name 张三 | --id-number 6501… | --phone 138… | --address 幸福小区3号楼 [-t person] [--limit 10]

The command wires the operator's policy (hub.access.Policy.operator: identifiers masked, sensitive values
withheld) to hub.views.search over the published read model and prints the hits with their ids, which
`hub explain ID` then opens.
"""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli_console import console, folding_table, source_text
from hub.cli_console import fail as _fail
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.pipeline import Hub
    from schemas.views import Disclosure

SEARCHABLE = {"name": ("person", "organization"), "resident_id": ("person",), "phone": ("person",),
              "address": ("house", "person", "organization")}
"""The entity types a criterion searches when no type is given."""


def record_cli_read(hub: Hub, action: str, disclosed: Disclosure, detail: dict[str, object]) -> None:
    """Audit a command-line read (role operator) before anything is printed: a failed audit write fails the
    command. Ids, field names and modes only, never a value; `detail` names the criteria, not what was typed."""
    from hub.access import AccessKeys, Policy
    from hub.audit import record

    record(hub.engine, AccessKeys.from_vault(hub.vault), Policy.operator(getpass.getuser(), purpose=action), action,
           entity_ids=disclosed.entity_ids, fields=disclosed.fields, detail=detail)


def find_cmd(name: Annotated[str | None, typer.Option("--name", help="a name: Chinese, pinyin or initials")] = None,
             id_number: Annotated[str | None, typer.Option("--id-number", help="a resident ID number")] = None,
             phone: Annotated[str | None, typer.Option("--phone", help="a phone number")] = None,
             address: Annotated[str | None, typer.Option("--address", help="an address or its beginning")] = None,
             entity_type: Annotated[str | None, typer.Option("--entity-type", "-t",
                                                             help="person, house or organization")] = None,
             limit: Annotated[int, typer.Option(help="hits per type")] = 10) -> None:
    """Find entities by name, ID number, phone or address; prints their ids and masked values."""
    from hub.access.policy import Policy
    from hub.mapping.code_tables import display_value
    from hub.pipeline import Hub
    from hub.views import open_reader, search
    from schemas.views import Disclosure

    criteria = {"name": name, "resident_id": id_number, "phone": phone, "address": address}
    given = [k for k, v in criteria.items() if v]
    if not given:
        raise _fail(HubError("give --name, --id-number, --phone or --address"))
    if entity_type is not None:
        types = [entity_type]
    else:
        types = [t for t in ("person", "house", "organization") if all(t in SEARCHABLE[k] for k in given)]
        if not types:
            raise _fail(HubError(f"no entity type is searched by {' and '.join(given)} together: add -t TYPE"))
    policy = Policy.operator(getpass.getuser(), purpose="hub find")
    try:
        hub = Hub.open(create=False)
        with hub.engine.connect() as conn:
            reader = open_reader(conn, hub.vault)
            pages = [(t, search(reader, policy, t, limit=limit, **criteria)) for t in types]
        disclosed = Disclosure()
        for _, page in pages:
            disclosed.merge(page.disclosed)
        record_cli_read(hub, "hub find", disclosed, {"criteria": given, "entity_types": types})
    except HubError as exc:
        raise _fail(exc) from None
    found = 0
    for entity_type_, page in pages:
        if not page.items:
            continue
        table = folding_table("id", "score", "label", "values", title=f"{entity_type_}: {len(page.items)} hit(s)")
        for hit in page.items:
            shown = "  ".join(f"{attribute}={display_value(entity_type_, attribute, v.value)}"
                              for attribute, v in hit.values.items() if v.value is not None)
            table.add_row(source_text(hit.id), f"{hit.score:.0f}", source_text(hit.label or ""), source_text(shown))
        console.print(table)
        found += len(page.items)
    if not found:
        console.print(f"nothing found (read model version {pages[0][1].version})")
    else:
        console.print("`hub explain ID` shows an entity's records, golden values and history.")
