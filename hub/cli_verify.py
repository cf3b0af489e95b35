"""`hub verify`: 核验 at the command line, the same try as the API's (hub.verify.verify_steps).

    hub verify resident --id-number 6501… --name 张三 --community 文化新村社区
    hub verify situation --id-number 6501… --situation dibao
    hub verify tenure --id-number 6501… --address 电力花园1号楼1单元101室 [--tenure owns]
    hub verify organization --credit-code 9165… [--name …]

Prints `yes` or `no` and nothing else; the try is counted against the operator's own limits and audited
(role operator) with the subject's keyed hash, like an app's.
"""

from __future__ import annotations

import dataclasses
import getpass
import time
from typing import Annotated

import typer

from hub.cli_console import console
from hub.cli_console import fail as _fail
from hub.errors import HubError


def verify_cmd(
    kind: Annotated[str, typer.Argument(help="resident, situation, tenure or organization")],
    id_number: Annotated[str | None, typer.Option("--id-number", help="the resident ID number")] = None,
    name: Annotated[str | None, typer.Option("--name", help="the person's or organization's name")] = None,
    community: Annotated[str | None, typer.Option("--community", help="resident: a community or grid")] = None,
    situation: Annotated[str | None, typer.Option("--situation", help="situation: dibao, tekun, disability, "
                                                  "elderly_allowance, insured, pension")] = None,
    house_id: Annotated[str | None, typer.Option("--house-id", help="tenure: the house's canonical id")] = None,
    address: Annotated[str | None, typer.Option("--address", help="tenure: the house's address")] = None,
    tenure: Annotated[str | None, typer.Option("--tenure", help="tenure: owns or rents (default either)")] = None,
    credit_code: Annotated[str | None, typer.Option("--credit-code", help="organization: the credit code")] = None,
) -> None:
    """Check a claim without seeing the data: prints yes or no."""
    from hub.access import AccessKeys
    from hub.access.policy import CLAIM_KINDS, Policy
    from hub.audit import seal
    from hub.pipeline import Hub
    from hub.store.steps import run_steps
    from hub.verify import Claim, StoreLimiter, verify_steps
    from hub.verify.limits import limits_of
    from hub.views import open_reader

    if kind not in CLAIM_KINDS:
        raise _fail(HubError(f"claim kind {kind!r} is not one of {', '.join(CLAIM_KINDS)}"))
    needed = {"resident": {"--id-number": id_number, "--name": name, "--community": community},
              "situation": {"--id-number": id_number, "--situation": situation},
              "tenure": {"--id-number": id_number, "--house-id or --address": house_id or address},
              "organization": {"--credit-code": credit_code}}[kind]
    missing = [option for option, value in needed.items() if not value]
    if missing:
        raise _fail(HubError(f"a {kind} claim needs {', '.join(missing)}"))
    if tenure not in (None, "owns", "rents"):
        raise _fail(HubError("--tenure must be owns or rents"))
    claim = Claim(kind, resident_id=id_number, name=name, community=community,  # type: ignore[arg-type]
                  situation=situation, house_id=house_id, address=address,
                  tenure=tenure, credit_code=credit_code)  # type: ignore[arg-type]
    policy = dataclasses.replace(Policy.operator(getpass.getuser(), purpose="hub verify"),
                                 claims=frozenset(CLAIM_KINDS))
    try:
        hub = Hub.open(create=False)
        with hub.engine.begin() as conn:
            reader = open_reader(conn, hub.vault)
            attempt = run_steps(conn, verify_steps(reader, policy, claim, limiter=StoreLimiter(conn.dialect.name),
                                                   limits=limits_of(hub.settings), action=f"hub verify {kind}",
                                                   dialect=conn.dialect.name, at=time.time()))
        seal(hub.engine, AccessKeys.from_vault(hub.vault))
    except HubError as exc:
        raise _fail(exc) from None
    if attempt.status == 429:
        retry = attempt.decision.retry_after if attempt.decision else 0
        raise _fail(HubError(f"too many 核验 tries: try again in {retry} s (HUB_VERIFY_* set the limits)"))
    assert attempt.verdict is not None
    console.print("yes" if attempt.verdict.match else "no")
