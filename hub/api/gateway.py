"""The one path of every data request: admission → pinned reader → core view → audit row → result.

A route hands the gateway its call (the credential presented, endpoint, path) and the core view to run. On
one connection the gateway admits the caller and pins the published version in ONE query (the credential
and its consumer still valid, the latest version: hub.access.tokens.credential_query), runs the view, and
appends the audit row (hub.audit.append); only once the row is stored is anything answered. So a read whose
audit row cannot be written fails as a whole and returns nothing, and the audit log names exactly what was
disclosed (the view's `disclosed`: entity ids, fields and how each was shown). The row takes no lock; the
Sealer the app runs (hub.audit) chains it a fraction of a second later.

Round trips, not work, set a read's latency under load, so a read makes at most three on PostgreSQL:
admission, the view's one query (hub.views.gather), and the audit row as one statement. The connection runs
in autocommit there: the reads need no transaction (a reader pinned to a version sees the same rows whatever
is published meanwhile, hub.publish.versioned), and the audit row, one statement, is atomic by itself. A
caller admitted less than ADMISSION_TTL ago skips the admission query for an entity, profile or lineage read
(its version is checked by the view's own query), and the audit rows of concurrent requests share one commit
on the worker's group-commit writer (hub/api/driver.py), each request answered only after its row's commit.
On SQLite, where a round trip costs nothing, the request is one transaction as before.

The request's decisions are steps (hub.store.steps): admission, the view and the audit row yield their
queries, so the same code runs on the worker's asynchronous driver connections on PostgreSQL (the routes are
`async` and hold no thread while the store answers, hub/api/driver.py) and in the thread pool on SQLite.

Refusals are audited too, with what was asked and nothing disclosed: a type outside the grant (403), an
endpoint for another role (403), an id that is unknown or out of scope (404, indistinguishable by design),
a query that cannot be answered as asked (400). Masking already happened inside the views (hub.protect.present).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.responses import RedirectResponse, Response

from hub.access import AccessKeys, Policy
from hub.access.tokens import Presented, admit, credential_query
from hub.api.driver import AsyncStore
from hub.api.problems import ApiProblem
from hub.audit import AuditEntry
from hub.audit.chain import append_steps
from hub.protect import Vault
from hub.publish import PUBLISHED
from hub.store import tables
from hub.store.steps import Query, Steps, run_steps
from hub.views import QueryError, Reader
from hub.views.entity import Document
from hub.views.gather import StaleVersion
from hub.views.reader import pinned_reader
from schemas.views import Disclosure, Moved

R = TypeVar("R")
T = TypeVar("T")
REDIRECT_STATUS = 308
PUBLICATION_HEADER = "X-Hub-Publication"
"""Every data answer names the published version it was read from: a reader can tell two answers of
different versions apart, and G13 checks that no answer ever comes from a version not yet published."""


_P = tables.publication.c
ADMISSION = credential_query(sa.select(sa.func.max(_P.version)).where(_P.state == PUBLISHED)
                             .scalar_subquery().label("published_version"))
"""The caller's credential and consumer, and the version to read: the first query of a request whose caller
is not in the admission cache."""
ADMISSION_TTL = 1.0
"""Seconds a worker answers a credential from its admission cache (its row: consumer, grant, revocation,
expiry) before it reads the row again: a revoked credential or a deactivated consumer is refused at most this
long after the change, in each worker. The token's signature and expiry are still checked at every request."""
ADMISSION_MAX = 10_000
STALE_RETRIES = 3


@dataclass
class Call:
    """Who calls which endpoint: what an audit row says about the request besides its result."""

    presented: Presented
    """The credential the request carries, its signature checked (hub.api.deps); the gateway admits it."""
    action: str
    """The method and the route's template, "GET /api/v1/persons/{entity_id}": never a concrete value."""
    path: str
    query: str = ""
    """The query string as sent (a redirect keeps it); never audited."""
    headers: MutableHeaders | None = None
    """The response's headers: the gateway names the published version it read (PUBLICATION_HEADER)."""

    admitted: Policy | None = None
    """The consumer's policy once the gateway admitted the credential."""

    @property
    def policy(self) -> Policy:
        if self.admitted is None:
            raise RuntimeError("the call has not been admitted")
        return self.admitted

    def served(self, reader: Reader) -> None:
        if self.headers is not None:
            self.headers[PUBLICATION_HEADER] = str(reader.version)


def answer(result: R, reader: Reader) -> R | Response:
    """A view's result as the response, serialized once: a Document (hub.views.entity) by orjson from its
    dicts, a model by pydantic. FastAPI would dump a model to a dict, validate that against the response model
    and encode it again, which costs a large profile about as much as reading it. The route's `response_model`
    still documents it (a test holds a Document's JSON equal to its model's)."""
    if isinstance(result, Document):
        return Response(orjson.dumps(result.body, option=orjson.OPT_UTC_Z), media_type="application/json",
                        headers={PUBLICATION_HEADER: str(reader.version)})
    if isinstance(result, BaseModel):
        return Response(result.model_dump_json(), media_type="application/json",
                        headers={PUBLICATION_HEADER: str(reader.version)})
    return result


def _disclosed(result: object) -> Disclosure:
    disclosed = getattr(result, "disclosed", None)
    return disclosed if isinstance(disclosed, Disclosure) else Disclosure()


Outcome = tuple[ApiProblem | None, R | None, Reader | None]
"""What a request's steps decided: the refusal to raise (audited already), or the result; the reader pinned."""


class Gateway:
    def __init__(self, engine: Engine, vault: Vault, keys: AccessKeys):
        self.engine = engine
        self.vault = vault
        self.keys = keys
        self.dialect = engine.dialect.name
        self.requests = engine.execution_options(isolation_level="AUTOCOMMIT") if self.dialect == "postgresql" \
            else engine
        """Where synchronous requests run: autocommit on PostgreSQL (see the module's docstring)."""
        self.store = AsyncStore(engine.url) if self.dialect == "postgresql" else None
        """Where data requests run on PostgreSQL: the worker's asynchronous driver connections (hub/api/driver.py)."""
        self._admitted: dict[str, tuple[float, Mapping[str, Any]]] = {}
        """Credential id → (monotonic time read, its admission row): the admission cache (ADMISSION_TTL)."""
        self._version: int | None = None
        """The latest published version this worker has read: a cached caller's request reads it tentatively."""

    async def close(self) -> None:
        if self.store is not None:
            await self.store.close()

    async def _run(self, steps: Steps[T]) -> T:
        """A request's steps on one connection: the driver's on PostgreSQL; on SQLite, where a round trip costs
        nothing, one transaction in the thread pool."""
        if self.store is None:
            return await run_in_threadpool(self._run_sync, steps)
        async with self.store.connection() as conn:
            return await self.store.run(conn, steps)

    def _run_sync(self, steps: Steps[T]) -> T:
        with self.requests.begin() as conn:
            return run_steps(conn, steps)

    def _admit(self, call: Call, *, cached: bool = False) -> Steps[Reader]:
        """Admit the caller (401 otherwise) and pin the published version, in one query. `cached`: a caller whose
        admission row this worker read less than ADMISSION_TTL ago is admitted against that row (`admit` checks
        it again: kind, subject or key, revocation, expiry now) without a query, and reads the latest version
        this worker has seen tentatively (the view's first query checks it, hub.views.gather)."""
        credential_id = call.presented.credential_id
        version = self._version
        known = self._admitted.get(credential_id) if cached and version is not None else None
        if known is not None and version is not None and time.monotonic() - known[0] < ADMISSION_TTL:
            call.admitted = admit(self.keys, call.presented, known[1]).policy()
            return Reader(None, version, self.vault, tentative=True)
        read_at = time.monotonic()
        rows = yield Query(ADMISSION, {"credential_id": credential_id})
        row = _mapping(rows[0]) if rows else None
        try:
            call.admitted = admit(self.keys, call.presented, row).policy()
        except Exception:
            self._admitted.pop(credential_id, None)
            raise
        assert row is not None
        if len(self._admitted) >= ADMISSION_MAX:
            self._admitted.clear()
        self._admitted[credential_id] = (read_at, row)
        if row["published_version"] is not None:
            self._version = int(row["published_version"])
        return pinned_reader(None, row["published_version"], self.vault)

    def admit(self, conn: Connection, call: Call) -> Reader:
        """`_admit` on a SQLAlchemy connection; the reader it gives runs on that connection."""
        reader = run_steps(conn, self._admit(call))
        return pinned_reader(conn, reader.version, self.vault)

    def _audit(self, call: Call, status: int, entity_ids: list[str] | None = None,
               disclosed: Disclosure | None = None, detail: Mapping[str, Any] | None = None) -> Steps[int]:
        shown = disclosed or Disclosure()
        return append_steps(AuditEntry.of(call.policy, call.action, status=status,
                                          entity_ids=entity_ids if entity_ids is not None else shown.entity_ids,
                                          fields=shown.fields, detail=detail), self.dialect)

    def refuse(self, call: Call, code: str, detail: str, *, entity_id: str | None = None) -> ApiProblem:
        """Audit a refusal in a transaction of its own and give the problem to raise."""
        problem = ApiProblem(code, detail)
        with self.engine.begin() as conn:
            run_steps(conn, self._audit(call, problem.kind.status, [entity_id] if entity_id else []))
        return problem

    def _type_refused(self, call: Call, entity_type: str, entity_id: str | None = None) -> Steps[ApiProblem | None]:
        """The refusal of a type outside the caller's grant, audited on the request's connection; None: allowed."""
        if call.policy.allows_type(entity_type):
            return None
        problem = ApiProblem("type_not_allowed", f"your grant does not cover {entity_type} entities")
        yield from self._audit(call, problem.kind.status, [entity_id] if entity_id else [])
        return problem

    def require_role(self, call: Call, role: str) -> None:
        if call.policy.role != role:
            raise self.refuse(call, "role_not_allowed", f"this endpoint is for the {role} role")

    async def read(self, call: Call, entity_type: str, view: Callable[..., Steps[R]], **query: Any) -> R | Response:
        """A search or a list: `view(reader, policy, entity_type, **query)` as steps (hub.store.steps) on a reader
        pinned to the published version, audited with what it disclosed and which criteria (never their values)
        were given, on the request's connection. A QueryError (the query cannot be answered as asked) is
        audited as 400."""
        problem, result, reader = await self._run(self._read(call, entity_type, view, query))
        if problem is not None:
            raise problem
        assert reader is not None and result is not None
        call.served(reader)
        return answer(result, reader)

    def _read(self, call: Call, entity_type: str, view: Callable[..., Steps[R]],
              query: dict[str, Any]) -> Steps[Outcome[R]]:
        given = {"given": sorted(name for name, value in query.items() if value is not None)}
        reader = yield from self._admit(call)
        problem = yield from self._type_refused(call, entity_type)
        if problem is None:
            try:
                result = yield from view(reader, call.policy, entity_type, **query)
            except QueryError as exc:
                problem = ApiProblem("invalid_query", str(exc))
            else:
                items = getattr(result, "items", None)
                detail = given if items is None else {**given, "results": len(items)}
                yield from self._audit(call, 200, disclosed=_disclosed(result), detail=detail)
                return None, result, reader
        yield from self._audit(call, problem.kind.status, detail=given)
        return problem, None, reader

    async def fetch(self, call: Call, entity_type: str, entity_id: str,
                    view: Callable[..., Steps[R | Moved | None]], **options: Any) -> R | Response:
        """`view(reader, policy, entity_id, **options)` as steps: an entity, one of its profiles, its lineage.
        Answers the result, a 308 to the survivor of a merged id, or 404 for an id that is unknown, of another
        type or out of scope: each audited on the request's connection."""
        for attempt in range(STALE_RETRIES + 1):
            try:
                refused, result, reader = await self._run(self._fetch(call, entity_type, entity_id, view, options,
                                                                      cached=attempt < STALE_RETRIES))
                break
            except StaleVersion as stale:    # published since this worker last looked: nothing read, nothing audited
                self._version = stale.published
        if refused is not None:
            raise refused
        assert reader is not None
        call.served(reader)
        if result is None:
            raise ApiProblem("not_found", f"no {entity_type} {entity_id} that you may see")
        if isinstance(result, Moved):
            location = call.path.replace(entity_id, result.merged_into, 1) + (f"?{call.query}" if call.query else "")
            return RedirectResponse(location, status_code=REDIRECT_STATUS,
                                    headers={PUBLICATION_HEADER: str(reader.version)})
        return answer(result, reader)

    def _fetch(self, call: Call, entity_type: str, entity_id: str, view: Callable[..., Steps[R | Moved | None]],
               options: dict[str, Any], *, cached: bool = False) -> Steps[Outcome[R | Moved]]:
        """Every view `fetch` runs begins with hub.views.gather's query, which checks a tentative version."""
        reader = yield from self._admit(call, cached=cached)
        refused = yield from self._type_refused(call, entity_type, entity_id)
        if refused is not None:
            return refused, None, reader
        result = yield from view(reader, call.policy, entity_id, **options)
        if result is not None and getattr(result, "entity_type", entity_type) != entity_type:
            result = None            # an id of another type, asked for on this type's path
        if result is None:
            yield from self._audit(call, 404, [entity_id])
        elif isinstance(result, Moved):
            yield from self._audit(call, REDIRECT_STATUS, disclosed=result.disclosed)
        else:
            yield from self._audit(call, 200, disclosed=_disclosed(result))
        return None, result, reader

    def act(self, call: Call, entity_type: str, action: Callable[[Connection, Policy], R], *,
            entity_ids: Callable[[R], list[str]], detail: Mapping[str, Any] | None = None) -> R:
        """A read or change outside the published read model (the events a grid worker handles): the caller
        admitted and its grant checked for `entity_type`, then `action` and the request's audit row in one
        transaction, so a change whose audit row cannot be written is not made. A refusal `action` raises
        (an ApiProblem) is audited in a transaction of its own."""
        with self.requests.connect() as conn:
            self.admit(conn, call)
        if not call.policy.allows_type(entity_type):
            raise self.refuse(call, "type_not_allowed", f"your grant does not cover {entity_type} entities")
        try:
            with self.engine.begin() as conn:
                result = action(conn, call.policy)
                run_steps(conn, self._audit(call, 200, entity_ids(result), detail=detail))
        except ApiProblem as problem:
            with self.engine.begin() as conn:
                run_steps(conn, self._audit(call, problem.kind.status, detail=detail))
            raise
        return result

    def describe(self, call: Call, view: Callable[[Reader], R]) -> R:
        """A view that discloses nothing personal (which version is served): the caller admitted, no audit row."""
        with self.requests.connect() as conn:
            return view(self.admit(conn, call))

    def examine(self, call: Call, action: Callable[[], R], *, detail: Callable[[R], Mapping[str, Any]]) -> R:
        """An auditor's request (the audit log, its verification): auditors only; the auditor's own read is
        appended to the log before anything is answered."""
        with self.requests.connect() as conn:
            self.admit(conn, call)
        self.require_role(call, "auditor")
        result = action()
        with self.engine.begin() as conn:
            run_steps(conn, self._audit(call, 200, detail=detail(result)))
        return result


def _mapping(row: Any) -> Mapping[str, Any]:
    """A row by column name: a SQLAlchemy Row's mapping, or a psycopg named tuple's fields."""
    mapping = getattr(row, "_mapping", None)
    return mapping if mapping is not None else row._asdict()
