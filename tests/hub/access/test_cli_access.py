"""`hub consumers …` and `hub audit …` from the command line: secrets shown once, commands audited, a broken
chain exits 1, and `--resident` finds a person through the published ID token, never storing the number."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from hub.access import AccessKeys, Policy
from hub.access.tokens import authenticate, issue_token
from hub.audit import query, record
from hub.cli import app
from hub.pipeline import Hub
from hub.settings import HubSettings
from hub.store import tables
from tests.hub.access.fixtures import add_places

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def _resident_id(first17: str) -> str:
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


@pytest.fixture
def env(settings: HubSettings, hub: Hub) -> dict[str, str]:
    add_places(hub)
    assert settings.secret_key is not None
    return {"HUB_HOME": str(settings.home), "HUB_DATABASE_URL": settings.database_url,
            "HUB_SECRET_KEY": settings.secret_key.get_secret_value()}


def cli(env: dict[str, str], *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == code, result.output
    return result.output


def test_consumers_from_the_command_line(env: dict[str, str], hub: Hub, keys: AccessKeys) -> None:
    out = cli(env, "consumers", "add", "网格通", "--purpose", "网格员走访", "-t", "person", "-t", "house",
              "--field", "person.name", "--scope", "幸福社区", "--api-key")
    client_id = re.search(r"client id:\s+(app-\w+)", out)
    secret = re.search(r"client secret: (\S+)", out)
    assert client_id and secret and "grant_type=client_credentials" in out and "API key: hk_cred-" in out
    assert "scope 幸福社区" in out
    token = issue_token(hub.engine, keys, client_id.group(1), secret.group(1))
    policy = authenticate(hub.engine, keys, token.access_token)
    assert policy.scope == frozenset({"PL-comm-1"}) and policy.fields is not None
    assert policy.fields["person"] == frozenset({"name"})

    listed = cli(env, "consumers", "list")
    assert "网格通" in listed and "幸福社区" in listed and secret.group(1) not in listed
    out = cli(env, "consumers", "rotate", "网格通", "--keep-old", "2h")
    assert "client secret:" in out and "stays usable for 2h" in out
    assert "is not a duration" in cli(env, "consumers", "rotate", "网格通", "--keep-old", "soon", code=2)
    out = cli(env, "consumers", "add", "other", "--purpose", "p", "-t", "spaceship", code=2)
    assert "unknown entity type 'spaceship'" in out and "Traceback" not in out
    assert "revoked" in cli(env, "consumers", "revoke", client_id.group(1))
    actions = [r.action for r in query(hub.engine).rows]
    assert actions == ["consumers revoke", "consumers rotate", "consumers api-key", "consumers add"]


def test_audit_commands(env: dict[str, str], hub: Hub, keys: AccessKeys, tmp_path: Path) -> None:
    cli(env, "consumers", "add", "app", "--purpose", "p", "-t", "person")
    out = cli(env, "audit", "verify")
    assert "audit chain verified: 1 rows" in out
    anchor = re.search(r"anchor: (1:[0-9a-f]{64})", out)
    assert anchor is not None
    assert "audit chain verified: 2 rows" in cli(env, "audit", "verify", "--anchor", anchor.group(1))
    assert "must read SEQ:HASH" in cli(env, "audit", "verify", "--anchor", "1:xyz", code=2)

    id_number = _resident_id("11010519491231002")
    with hub.engine.begin() as conn:     # what publication (hub.publish) writes for a person's ID number
        conn.execute(tables.pub_key.insert().values(since=1, until=None, kind="resident_id",
                                                    key=hub.vault.token(id_number), entity_id="P-00000000000000aa",
                                                    entity_type="person"))
        conn.execute(tables.entity.insert().values(     # an earlier id, merged into the person since
            id="P-00000000000000a0", entity_type="person", state="merged", founding_record="r",
            merged_into="P-00000000000000aa", records=0, created_run="r", created_at=sa.func.current_timestamp(),
            updated_run="r", updated_at=sa.func.current_timestamp()))
    record(hub.engine, keys, Policy.operator("someone"), "hub find", entity_ids=["P-00000000000000aa"],
           fields={"name": "masked"})
    record(hub.engine, keys, Policy.operator("before-the-merge"), "hub find", entity_ids=["P-00000000000000a0"])
    out = cli(env, "audit", "log", "--resident", id_number)
    assert "P-00000000000000aa" in out and "someone" in out and "name:masked" in out
    assert "before-the-merge" in out
    assert id_number not in "".join(str(r) for r in query(hub.engine).rows)   # the command's own row
    assert "not a resident ID number" in cli(env, "audit", "log", "--resident", "12345", code=2)
    assert "consumers add" in cli(env, "audit", "log", "--actor", query(hub.engine, limit=100).rows[-1].actor)

    out = cli(env, "audit", "export", str(tmp_path / "audit.jsonl"))
    assert "audit rows written" in out and len((tmp_path / "audit.jsonl").read_text().splitlines()) >= 4
    assert "kept at least six months" in cli(env, "audit", "prune", "--before", "2099-01-01", code=2)
    assert "nothing pruned" in cli(env, "audit", "prune", "--before", "2020-01-01")

    with hub.engine.begin() as conn:
        conn.execute(sa.update(tables.audit_log).where(tables.audit_log.c.seq == 2).values(actor="x"))
    out = cli(env, "audit", "verify", code=1)
    assert "audit chain broken at row 2" in out and "was altered" in out


def test_write_grants_from_the_command_line(env: dict[str, str], hub: Hub, keys: AccessKeys) -> None:
    out = cli(env, "consumers", "add", "采集通", "--purpose", "网格采集", "-t", "person", "--claim", "resident",
              "--write-form", "elderly_allowance", "--write-form", "floating_registration.education")
    said = " ".join(out.split())                    # the console folds long lines
    assert "writes back elderly_allowance, floating_registration.education" in said and "verifies resident" in said
    client_id = re.search(r"client id:\s+(app-\w+)", out)
    secret = re.search(r"client secret: (\S+)", out)
    assert client_id and secret

    def policy() -> Policy:
        assert client_id and secret
        return authenticate(hub.engine, keys, issue_token(hub.engine, keys, client_id.group(1),
                                                          secret.group(1)).access_token)

    granted = policy()
    assert granted.claims == frozenset({"resident"})          # write grants share the column, not the meaning
    assert granted.allows_write("elderly_allowance", "phone") and granted.allows_write("floating_registration",
                                                                                        "education")
    assert not granted.allows_write("floating_registration", "phone")
    assert "elderly_allowance" in cli(env, "consumers", "list")
    assert "no form 'no_such_form'" in cli(env, "consumers", "add", "x", "--purpose", "p", "-t", "person",
                                           "--write-form", "no_such_form", code=2)
    assert "has no field 'shoe_size'" in cli(env, "consumers", "writes", "采集通", "--write-form",
                                             "floating_registration.shoe_size", code=2)
    assert "may write back nothing" in cli(env, "consumers", "writes", "采集通")
    revoked = policy()
    assert revoked.writes == frozenset() and revoked.claims == frozenset({"resident"})
    with hub.engine.connect() as conn:
        a = tables.audit_log.c
        actions = [row[0] for row in conn.execute(sa.select(a.action).where(a.action.like("consumers %")))]
    assert actions.count("consumers writes") == 1 and "consumers add" in actions
