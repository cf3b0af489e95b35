"""Consumers: added with a declared purpose, types, fields and scope; secrets shown once and stored hashed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from hub.access import AccessKeys, Policy
from hub.access.consumers import (
    ConsumerError,
    add_consumer,
    get_consumer,
    issue_api_key,
    list_consumers,
    revoke,
    rotate,
)
from hub.audit import query, verify
from hub.pipeline import Hub
from hub.store import tables
from schemas import Sensitivity
from tests.hub.access.fixtures import add_places, count

OPERATOR = Policy.operator("tester")


def _store_text(hub: Hub) -> str:
    """Every value of the consumer and credential tables, as one text to search."""
    with hub.engine.connect() as conn:
        rows = [*conn.execute(sa.select(tables.consumer)), *conn.execute(sa.select(tables.credential))]
    return "\n".join(" ".join(str(v) for v in row) for row in rows)


def test_a_consumer_gets_a_secret_shown_once_and_stored_only_hashed(hub: Hub, keys: AccessKeys) -> None:
    row, secret = add_consumer(hub.engine, keys, "民政救助系统", "低保资格核查", "sensitive", ["person", "house"],
                               {"person": ["name", "phone"]}, by=OPERATOR)
    assert row.id.startswith("app-") and row.state == "active" and row.clearance is Sensitivity.sensitive
    assert row.entity_types == ("person", "house") and row.fields == {"person": ("name", "phone")}
    assert len(secret.value) >= 40 and secret.consumer_id == row.id
    assert secret.value not in repr(secret)
    stored = _store_text(hub)
    assert secret.value not in stored and row.id in stored
    policy = row.policy()
    assert policy.actor == row.id and policy.consumer_id == row.id and policy.purpose == "低保资格核查"
    assert policy.allows_field("person", "phone") and not policy.allows_field("person", "resident_id")
    assert policy.allows_type("house") and policy.allows_field("house", "address") and not policy.allows_type("thing")
    assert policy.scope is None
    listed = list_consumers(hub.engine)
    assert [c.name for c in listed] == ["民政救助系统"] and len(listed[0].credentials) == 1
    assert get_consumer(hub.engine, "民政救助系统").id == row.id
    [entry] = query(hub.engine).rows
    assert entry.action == "consumers add" and entry.actor == "tester" and entry.detail == {
        "consumer": row.id, "credential": secret.credential_id}


@pytest.mark.parametrize(("change", "message"), [
    ({"clearance": "top_secret"}, "clearance 'top_secret' is not one of"),
    ({"entity_types": ["person", "spaceship"]}, "unknown entity type 'spaceship'"),
    ({"fields": {"person": ["name", "shoe_size"]}}, "person has no field 'shoe_size'"),
    ({"fields": {"house": ["address"]}}, "fields are given for 'house'"),
    ({"purpose": "  "}, "must declare its purpose"),
    ({"role": "operator"}, "role 'operator' is not one of"),
    ({"entity_types": []}, "needs at least one entity type"),
    ({"scope": ["幸福社区"]}, "no community or grid '幸福社区'"),
])
def test_what_a_consumer_asks_for_is_checked_and_named(hub: Hub, keys: AccessKeys, change: dict[str, object],
                                                       message: str) -> None:
    args: dict[str, object] = {"name": "app", "purpose": "p", "clearance": "internal", "entity_types": ["person"],
                               "fields": None, "scope": None, "role": "consumer"}
    args.update(change)
    with pytest.raises(ConsumerError, match=message):
        add_consumer(hub.engine, keys, **args)  # type: ignore[arg-type]
    assert count(hub, tables.consumer) == 0 and count(hub, tables.credential) == 0


def test_names_are_unique(hub: Hub, keys: AccessKeys) -> None:
    add_consumer(hub.engine, keys, "app", "p", "internal", ["person"])
    with pytest.raises(ConsumerError, match="exists already"):
        add_consumer(hub.engine, keys, "app", "q", "internal", ["person"])


def test_scope_is_given_by_name_or_code_and_kept_as_place_ids(hub: Hub, keys: AccessKeys) -> None:
    add_places(hub)
    row, _ = add_consumer(hub.engine, keys, "网格通", "网格员走访", "internal", ["person"],
                          scope=["幸福社区", "G-02", "650102002001"])
    assert row.scope is not None
    assert row.scope.communities == ("PL-comm-1", "PL-comm-3") and row.scope.grids == ("PL-grid-2",)
    assert row.policy().scope == frozenset({"PL-comm-1", "PL-comm-3", "PL-grid-2"})
    with pytest.raises(ConsumerError, match=r"'和平社区' names more than one place.*650102001002.*650102002001"):
        add_consumer(hub.engine, keys, "other", "p", "internal", ["person"], scope=["和平社区"])
    with pytest.raises(ConsumerError, match="no community or grid '东门街道'"):   # a street is not a scope
        add_consumer(hub.engine, keys, "other", "p", "internal", ["person"], scope=["东门街道"])


def test_rotation_revokes_the_old_secret_or_keeps_it_for_a_grace(hub: Hub, keys: AccessKeys) -> None:
    row, first = add_consumer(hub.engine, keys, "app", "p", "internal", ["person"])
    second = rotate(hub.engine, keys, "app", by=OPERATOR)
    creds = {c.id: c for c in get_consumer(hub.engine, row.id).credentials}
    assert creds[first.credential_id].revoked_at is not None and creds[second.credential_id].revoked_at is None
    third = rotate(hub.engine, keys, row.id, keep_old=timedelta(hours=1), by=OPERATOR)
    creds = {c.id: c for c in get_consumer(hub.engine, row.id).credentials}
    kept = creds[second.credential_id]
    assert kept.revoked_at is None and kept.expires_at is not None
    assert timedelta(minutes=59) < kept.expires_at - creds[third.credential_id].created_at <= timedelta(hours=1)
    with pytest.raises(ConsumerError, match="positive duration"):
        rotate(hub.engine, keys, row.id, keep_old=timedelta(0))
    assert [r.action for r in query(hub.engine).rows] == ["consumers rotate", "consumers rotate"]


def test_revocation_ends_the_consumer_and_every_credential(hub: Hub, keys: AccessKeys) -> None:
    row, _ = add_consumer(hub.engine, keys, "app", "p", "internal", ["person"])
    api_key = issue_api_key(hub.engine, keys, row.id)
    assert api_key.value.startswith(f"hk_{api_key.credential_id}_") and api_key.value not in _store_text(hub)
    revoked = revoke(hub.engine, "app", keys=keys, by=OPERATOR)
    assert revoked.state == "revoked" and revoked.revoked_at is not None
    assert all(c.revoked_at is not None for c in revoked.credentials) and len(revoked.credentials) == 2
    with pytest.raises(ConsumerError, match="is revoked"):
        rotate(hub.engine, keys, row.id)
    with pytest.raises(ConsumerError, match="no consumer 'nobody'"):
        revoke(hub.engine, "nobody")
    assert verify(hub.engine, keys).ok


def test_a_verifying_app_needs_claim_kinds_not_entity_types(hub: Hub, keys: AccessKeys) -> None:
    row, _secret = add_consumer(hub.engine, keys, "开户核验", "开户身份核验", "public", [],
                                claims=["resident", "organization", "resident"])
    assert row.claims == ("resident", "organization") and row.entity_types == ()
    policy = row.policy()
    assert policy.allows_claim("resident") and not policy.allows_claim("situation")
    assert not policy.allows_type("person")
    assert get_consumer(hub.engine, row.id).claims == ("resident", "organization")
    with pytest.raises(ConsumerError, match="unknown claim kind 'income'"):
        add_consumer(hub.engine, keys, "other", "p", "public", [], claims=["income"])
    with pytest.raises(ConsumerError, match="claim kind to verify"):
        add_consumer(hub.engine, keys, "nothing", "p", "public", [])
    reader, _ = add_consumer(hub.engine, keys, "reader", "p", "internal", ["person"])
    assert reader.claims == () and not reader.policy().allows_claim("resident")
