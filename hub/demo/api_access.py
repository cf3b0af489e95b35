"""The demo's downstream app: a consumer registered by `hub demo`, so that `make run` ends with credentials and
one ready request against the API it serves.

The secret is shown once and stored only as a hash, so a second `make run` cannot show the first one again:
it rotates the demo consumer's secret instead (the old one stops working), and the run prints the new one.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Engine

from hub.access import AccessKeys, Policy
from hub.access.consumers import ConsumerError, add_consumer, get_consumer, rotate
from hub.publish import current_version
from hub.publish.versioned import visible
from hub.store import tables

DEMO_CONSUMER = "demo-grid-app"
DEMO_PURPOSE = "网格员走访 (demo): the grid worker's app looks residents up instead of asking them again"
DEMO_TYPES = ("person", "house", "organization", "thing")
DEMO_CLEARANCE = "internal"
"""Names and addresses in clear, resident IDs and phones masked, welfare status withheld: masking on show."""


@dataclass(frozen=True, repr=False)
class DemoAccess:
    client_id: str
    client_secret: str
    person_id: str | None
    """The best-documented person of the published district, for the example request."""

    def curl(self, base_url: str) -> str:
        """One shell line: a token for the demo consumer, then the person's profile (一人一档) with it."""
        token = (f"curl -s -d grant_type=client_credentials -d client_id={shlex.quote(self.client_id)} "
                 f"-d client_secret={shlex.quote(self.client_secret)} {base_url}/api/v1/token"
                 " | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'")
        path = f"/api/v1/persons/{self.person_id}/profile" if self.person_id else "/api/v1/persons?limit=5"
        return f'TOKEN=$({token}) && curl -s -H "Authorization: Bearer $TOKEN" {base_url}{path}'


def _showcase_person(engine: Engine) -> str | None:
    e = tables.pub_entity
    with engine.connect() as conn:
        version = current_version(conn)
        if version is None:
            return None
        found = conn.execute(sa.select(e.c.entity_id).where(e.c.entity_type == "person", e.c.state == "active",
                                                            visible(e, version))
                             .order_by(e.c.records.desc(), e.c.entity_id).limit(1)).scalar()
    return None if found is None else str(found)


def demo_access(engine: Engine, keys: AccessKeys, by: Policy) -> DemoAccess:
    """The demo consumer's credentials: registered on the first run, its secret rotated on every later one
    (ConsumerError if an operator revoked it: the demo does not bring a revoked app back)."""
    try:
        existing = get_consumer(engine, DEMO_CONSUMER)
    except ConsumerError:
        row, secret = add_consumer(engine, keys, DEMO_CONSUMER, DEMO_PURPOSE, DEMO_CLEARANCE, DEMO_TYPES, by=by)
        return DemoAccess(row.id, secret.value, _showcase_person(engine))
    secret = rotate(engine, keys, existing.id, by=by)
    return DemoAccess(existing.id, secret.value, _showcase_person(engine))
