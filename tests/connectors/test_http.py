"""HTTP connector against a real local server (FastAPI on uvicorn, 127.0.0.1, a free port).

The stub paginates three ways, wants a bearer token (or an api_key query parameter), filters by
modified_since, and can be told to answer 429 or 500 a few times, hang, send a truncated body, or
ignore the page parameter.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from connectors.base import Batch
from connectors.connection import Connection
from connectors.http import HttpConnector, _fingerprint
from connectors.testing import connector_contract_tests
from hub.errors import ConfigurationError, HubError, SourceDataError, SourceSchemaChanged, SourceUnavailable

TOKEN = "tok-3f9a1c77e2-SECRET"
ITEMS = [
    {"id": i, "姓名": f"居民{i}", "updated_at": f"2024-03-{1 + i // 5:02d}T08:00:00", "grid": f"网格{i % 3}"}
    for i in range(1, 24)
]


@dataclass
class Behaviour:
    items: list[Any] = field(default_factory=lambda: list(ITEMS))
    failures: list[int] = field(default_factory=list)     # statuses to answer before a good one
    retry_after: str | None = "0"
    hangs: int = 0
    truncate: bool = False
    ignore_page: bool = False
    seen: list[dict[str, str]] = field(default_factory=list)
    seen_at: list[float] = field(default_factory=list)


def build_app(state: Callable[[], Behaviour]) -> FastAPI:
    app = FastAPI()

    async def misbehave(request: Request) -> Response | None:
        now = state()
        now.seen.append(dict(request.query_params))
        now.seen_at.append(time.monotonic())
        authorised = request.headers.get("authorization") == f"Bearer {TOKEN}"
        if not authorised and request.query_params.get("api_key") != TOKEN:
            return JSONResponse({"error": "unauthorised"}, status_code=401)
        if now.failures:
            status = now.failures.pop(0)
            headers = {"Retry-After": now.retry_after} if status == 429 and now.retry_after else {}
            return JSONResponse({"error": "busy"}, status_code=status, headers=headers)
        if now.hangs:
            now.hangs -= 1
            await asyncio.sleep(1.0)
        if now.truncate:
            return Response(b'{"data": {"items": [{"id": 1, "\xe5\xa7', media_type="application/json")
        return None

    def selected(request: Request) -> list[Any]:
        since = request.query_params.get("modified_since")
        items = state().items
        return [i for i in items if not isinstance(i, dict) or since is None or i["updated_at"] >= since]

    @app.get("/api/v1/residents")
    async def by_page(request: Request, page: int = 1, page_size: int = 10) -> Response:
        problem = await misbehave(request)
        if problem is not None:
            return problem
        items = selected(request)
        page = 1 if state().ignore_page else page
        chunk = items[(page - 1) * page_size : page * page_size]
        pages = (len(items) + page_size - 1) // page_size
        return JSONResponse({"data": {"items": chunk, "total_pages": pages}})

    @app.get("/api/v1/by-offset")
    async def by_offset(request: Request, offset: int = 0, limit: int = 10) -> Response:
        problem = await misbehave(request)
        items = selected(request)
        return problem or JSONResponse({"items": items[offset : offset + limit], "total": len(items)})

    @app.get("/api/v1/by-cursor")
    async def by_cursor(request: Request, cursor: int = 0) -> Response:
        problem = await misbehave(request)
        items = selected(request)
        following = cursor + 7 if cursor + 7 < len(items) else None
        return problem or JSONResponse({"results": items[cursor : cursor + 7], "next": following})

    @app.get("/api/v1/plain")
    async def plain(request: Request) -> Response:
        return await misbehave(request) or JSONResponse(selected(request)[:5])

    @app.get("/api/v1/utf16")
    async def utf16(request: Request) -> Response:
        # what the standard library reads and orjson does not: UTF-16, an integer beyond 64 bits
        body = json.dumps([{**item, "big": 2**70} for item in selected(request)[:2]], ensure_ascii=False)
        return await misbehave(request) or Response(body.encode("utf-16"), media_type="application/json")

    return app


@dataclass
class Stub:
    base_url: str
    behaviour: Behaviour


@pytest.fixture(scope="module")
def server() -> Iterator[Stub]:
    stub = Stub("", Behaviour())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    stub.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/api/v1"
    config = uvicorn.Config(build_app(lambda: stub.behaviour), log_level="warning", access_log=False,
                            lifespan="off", timeout_graceful_shutdown=1)
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not runner.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield stub
    runner.should_exit = True
    thread.join(timeout=5)
    sock.close()


@pytest.fixture
def stub(server: Stub) -> Stub:
    server.behaviour = Behaviour()
    return server


PAGED = {
    "path": "residents",
    "records_path": "data.items",
    "pagination": {"type": "page", "size_param": "page_size", "size": 10, "total_path": "data.total_pages"},
    "auth": {"type": "bearer"},
    "incremental": {"param": "modified_since", "field": "updated_at"},
    "retries": 2,
    "backoff": 0.01,
    "backoff_max": 0.05,
    "timeout": 0.3,
}


def http_source(
    stub: Stub, token: str | None = TOKEN, batch_size: int = 100, **changes: Any
) -> HttpConnector:
    settings = {**PAGED, "base_url": stub.base_url, **changes}
    return HttpConnector("civil_api", settings, Connection(token=token), batch_size=batch_size)


def rows_of(batches: list[Batch]) -> list[dict[str, Any]]:
    return [row for batch in batches for row in batch.rows]


def assert_no_token(error: BaseException) -> None:
    current: BaseException | None = error
    while current is not None:
        assert TOKEN not in str(current) and TOKEN not in repr(current)
        current = current.__cause__ or current.__context__


@pytest.fixture
def http_factory(stub: Stub) -> Callable[[], HttpConnector]:
    return lambda: http_source(stub, batch_size=4)


TestHttpContract = connector_contract_tests("http_factory", expected_rows=23, strict_rerun=True)


def test_pages_are_followed_until_the_total(stub: Stub) -> None:
    batches = list(http_source(stub).extract())
    assert [r["id"] for r in rows_of(batches)] == list(range(1, 24))
    assert [q["page"] for q in stub.behaviour.seen] == ["1", "2", "3"]     # no extra empty page
    assert batches[0].positions is not None and batches[0].positions[2] == "page 1 item 3"


@pytest.mark.parametrize(
    "changes",
    [
        {"path": "by-offset", "records_path": "items",
         "pagination": {"type": "offset", "size_param": "limit", "size": 6, "total_path": "total"}},
        {"path": "by-cursor", "records_path": "results",
         "pagination": {"type": "cursor", "next_cursor_path": "next", "cursor_param": "cursor"}},
        {"path": "residents", "pagination": {"type": "page", "size_param": "page_size", "size": 5}},
    ],
    ids=["offset", "cursor", "page-until-empty"],
)
def test_every_pagination_style_reads_each_item_once(stub: Stub, changes: dict[str, Any]) -> None:
    rows = rows_of(list(http_source(stub, **changes).extract()))
    assert [r["id"] for r in rows] == list(range(1, 24))


def since(watermark: str | None) -> str:
    assert watermark is not None
    return str(json.loads(watermark)["since"])


def test_the_incremental_parameter_is_sent_and_narrows_the_next_run(stub: Stub) -> None:
    first = list(http_source(stub).extract())
    assert since(first[-1].watermark) == "2024-03-05T08:00:00"
    assert "modified_since" not in stub.behaviour.seen[0]
    newcomer = {"id": 24, "姓名": "新居民", "updated_at": "2024-03-09T10:00:00", "grid": "网格0"}
    stub.behaviour.items.append(newcomer)
    again = list(http_source(stub).extract(first[-1].watermark))
    assert stub.behaviour.seen[-1]["modified_since"] == "2024-03-05T08:00:00"   # closed start
    assert [r["id"] for r in rows_of(again)] == [24]      # the boundary records read before are left out
    assert since(again[-1].watermark) == "2024-03-09T10:00:00"


@pytest.mark.reliability("F14")
def test_a_run_with_nothing_new_extracts_nothing_and_the_boundary_loses_nothing(
        stub: Stub, record_property: Any) -> None:
    """F14d: a no-op run of an incremental API source re-read its last record ("extracted 1, unchanged 1")."""
    first = list(http_source(stub).extract())
    noop = list(http_source(stub).extract(first[-1].watermark))
    record_property("records extracted by a run with nothing new", len(rows_of(noop)))
    assert rows_of(noop) == [] and noop[-1].watermark == first[-1].watermark
    boundary = "2024-03-05T08:00:00"      # the watermark's value: records 20 to 23 hold it
    stub.behaviour.items.append({"id": 30, "姓名": "同秒居民", "updated_at": boundary, "grid": "网格1"})
    stub.behaviour.items[20] = {**stub.behaviour.items[20], "grid": "网格9"}    # record 21 changed, same second
    again = list(http_source(stub).extract(first[-1].watermark))
    assert sorted(r["id"] for r in rows_of(again)) == [21, 30]     # nothing lost at the boundary, nothing doubled
    after = list(http_source(stub).extract(again[-1].watermark))
    assert rows_of(after) == []
    assert rows_of(list(http_source(stub).extract(boundary))) != []   # a plain-text watermark: closed start


def test_only_the_last_batch_advances_an_unordered_watermark(stub: Stub) -> None:
    stub.behaviour.items.reverse()
    batches = list(http_source(stub, batch_size=4).extract("2024-01-01"))
    assert [b.watermark for b in batches[:-1]] == ["2024-01-01"] * (len(batches) - 1)
    assert since(batches[-1].watermark) == "2024-03-05T08:00:00"
    ordered = {"param": "modified_since", "field": "updated_at", "ordered": True}
    stub.behaviour.items.reverse()
    marks = [since(b.watermark) for b in http_source(stub, batch_size=4, incremental=ordered).extract()]
    assert marks == sorted(marks) and len(set(marks)) > 1


@pytest.mark.reliability("G4")
def test_429_is_retried_after_the_time_the_server_asks(stub: Stub) -> None:
    stub.behaviour.failures = [429, 429]
    started = time.monotonic()
    rows = rows_of(list(http_source(stub, backoff=10, backoff_max=10).extract()))
    assert len(rows) == 23
    assert time.monotonic() - started < 2        # Retry-After: 0 wins over a 10 s backoff
    assert len(stub.behaviour.seen) == 3 + 2


@pytest.mark.reliability("G4")
def test_5xx_is_retried_with_backoff_then_succeeds(stub: Stub) -> None:
    stub.behaviour.failures = [500, 502]
    assert len(rows_of(list(http_source(stub).extract()))) == 23


@pytest.mark.reliability("G4")
def test_a_spent_retry_budget_is_unavailable_naming_status_and_path(stub: Stub) -> None:
    stub.behaviour.failures = [503] * 3
    with pytest.raises(SourceUnavailable) as caught:
        list(http_source(stub).extract())
    message = str(caught.value)
    assert all(part in message for part in ("503", "GET /api/v1/residents", "3 tries", "civil_api"))
    assert_no_token(caught.value)


@pytest.mark.reliability("G4")
def test_a_hanging_server_times_out_and_is_retried(stub: Stub) -> None:
    stub.behaviour.hangs = 1
    assert len(rows_of(list(http_source(stub, timeout=0.1).extract()))) == 23
    stub.behaviour.hangs = 3
    with pytest.raises(SourceUnavailable, match="timed out"):
        list(http_source(stub, timeout=0.1).extract())


@pytest.mark.reliability("G4")
def test_a_truncated_body_is_a_data_error_naming_the_page(stub: Stub) -> None:
    stub.behaviour.truncate = True
    with pytest.raises(SourceDataError, match="page 1 of GET /api/v1/residents is not complete JSON"):
        list(http_source(stub).extract())


@pytest.mark.parametrize("token", ["wrong-token", None])
def test_refused_or_missing_credentials_are_configuration_errors(stub: Stub, token: str | None) -> None:
    with pytest.raises(ConfigurationError) as caught:
        list(http_source(stub, token=token).extract())
    assert "credentials refused (401)" in str(caught.value) if token else "needs a token" in str(caught.value)
    assert_no_token(caught.value)


def test_query_auth_never_leaks_the_token_into_errors(stub: Stub) -> None:
    errors: list[HubError] = []
    for failure in ([500] * 3, [404]):
        stub.behaviour.failures = list(failure)
        with pytest.raises((SourceUnavailable, SourceSchemaChanged)) as caught:
            list(http_source(stub, auth={"type": "query", "param": "api_key"}).extract())
        errors.append(caught.value)
    stub.behaviour.failures = []
    rows = rows_of(list(http_source(stub, auth={"type": "query", "param": "api_key"}).extract()))
    assert len(rows) == 23 and stub.behaviour.seen[-1]["api_key"] == TOKEN
    for error in errors:
        assert_no_token(error)


@pytest.mark.reliability("G5")
def test_a_non_object_item_is_rejected_with_its_page_and_place(stub: Stub) -> None:
    stub.behaviour.items.insert(12, ["not", "an", "object"])
    batches = list(http_source(stub).extract())
    rejected = [r for b in batches for r in b.rejected]
    assert [(r.position, r.reason) for r in rejected] == [("page 2 item 3", "item is a list, not an object")]
    assert len(rows_of(batches)) == 23


@pytest.mark.reliability("G4")
def test_a_server_ignoring_the_page_parameter_is_caught(stub: Stub) -> None:
    stub.behaviour.ignore_page = True
    with pytest.raises(SourceDataError, match="repeats page 1"):
        list(http_source(stub, pagination={"type": "page", "size_param": "page_size", "size": 10}).extract())


@pytest.mark.reliability("G4")
def test_a_moved_records_path_is_a_schema_change(stub: Stub) -> None:
    with pytest.raises(SourceSchemaChanged, match=r"records_path 'data\.rows' not found"):
        list(http_source(stub, records_path="data.rows").extract())
    with pytest.raises(SourceSchemaChanged, match="set records_path"):
        list(http_source(stub, records_path=None).extract())


def test_discover_reads_a_small_first_page(stub: Stub) -> None:
    schema = http_source(stub).discover()
    assert schema.names == ["id", "姓名", "updated_at", "grid"]
    assert [c.type for c in schema.columns] == ["integer", "string", "string", "string"]
    assert stub.behaviour.seen[-1]["page_size"] == "10" and stub.behaviour.seen[-1]["page"] == "1"


def test_base_url_from_the_connection_and_a_plain_list_body(stub: Stub) -> None:
    settings = {"path": "plain", "auth": {"type": "bearer"}}
    connector = HttpConnector("civil_api", settings, Connection(uri=stub.base_url, token=TOKEN))
    assert [r["id"] for b in connector.extract() for r in b.rows] == [1, 2, 3, 4, 5]


def test_bodies_orjson_refuses_are_still_read(stub: Stub) -> None:
    settings = {"path": "utf16", "auth": {"type": "bearer"}}
    connector = HttpConnector("civil_api", settings, Connection(uri=stub.base_url, token=TOKEN))
    rows = [r for b in connector.extract() for r in b.rows]
    assert [r["id"] for r in rows] == [1, 2] and rows[0]["big"] == 2**70


def test_the_rate_limit_spaces_requests(stub: Stub) -> None:
    list(http_source(stub, rate_limit_per_second=20,
                     pagination={"type": "page", "size_param": "page_size", "size": 5}).extract())
    gaps = [b - a for a, b in zip(stub.behaviour.seen_at, stub.behaviour.seen_at[1:], strict=False)]
    # 20/s spaces request starts 50 ms apart. Arrival times seen by the server jitter on a loaded machine
    # (one request late by 60 ms leaves a 6 ms gap before the next), so the span is checked: unthrottled,
    # these 6 requests take a few ms; throttled, at least 5 × 50 ms less the jitter of the last one.
    assert len(gaps) == 5 and sum(gaps) >= 0.2


def test_settings_are_checked_up_front() -> None:
    with pytest.raises(ConfigurationError, match="no base_url"):
        HttpConnector("civil_api", {"path": "x"})
    with pytest.raises(ConfigurationError, match=r"settings\.pagination\.type"):
        HttpConnector("civil_api", {"base_url": "http://127.0.0.1:9", "pagination": {"type": "link"}})


def test_page_fingerprints_see_content_not_key_order_and_take_any_json() -> None:
    assert _fingerprint([{"a": 1, "b": "张"}]) == _fingerprint([{"b": "张", "a": 1}])
    assert _fingerprint([{"a": 1}]) != _fingerprint([{"a": 2}])
    assert len(_fingerprint([{"id": 10**30}])) == 64          # beyond 64 bits: orjson refuses, json takes it
