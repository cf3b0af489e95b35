"""A department's REST API that misbehaves on cue: a real HTTP server on 127.0.0.1, in a thread.

The standard library's server is used rather than an ASGI one because a fault has to reach below
HTTP: "cut" sends the headers and half the body, then closes the connection, as a dropped network
link does. The other faults: "stall" (answers after the client has given up), "short" (a complete
response whose JSON is cut, as a proxy with a body limit sends), and any status (429 with
Retry-After: 0, 5xx).

`faults` maps the number of a request (1, 2, ...; the discovery request counts) to a fault, used
once; `always` is applied to every request from `always_from` on, until it is cleared.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "stub-token-7f3e"
STALL_SECONDS = 1.0

Fault = str | int


@dataclass
class FaultyApi:
    items: list[dict[str, Any]]
    faults: dict[int, Fault] = field(default_factory=dict)
    always: Fault | None = None
    always_from: int = 1
    requests: int = 0
    injected: int = 0
    base_url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_fault(self) -> Fault | None:
        with self._lock:
            self.requests += 1
            fault = self.faults.pop(self.requests, None)
            if fault is None and self.always is not None and self.requests >= self.always_from:
                fault = self.always
            self.injected += fault is not None
            return fault

    def page(self, query: dict[str, list[str]]) -> bytes:
        page = int(query.get("page", ["1"])[0])
        size = int(query.get("page_size", ["10"])[0])
        total = (len(self.items) + size - 1) // size
        chunk = self.items[(page - 1) * size: page * size]
        return json.dumps({"items": chunk, "total_pages": total}, ensure_ascii=False).encode()


def _handler(api: FaultyApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:   # the test's output stays its own
            return

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None,
                  declared: int | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) if declared is None else declared))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

        def do_GET(self) -> None:
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(401, b'{"error": "unauthorised"}')
                return
            fault = api.next_fault()
            body = api.page(parse_qs(urlsplit(self.path).query))
            if fault == "stall":
                time.sleep(STALL_SECONDS)
            elif fault == "cut":
                self._send(200, body[: len(body) // 2], declared=len(body))
                self.close_connection = True
                return
            elif fault == "short":
                body = body[: len(body) // 2]
            elif isinstance(fault, int):
                retry = {"Retry-After": "0"} if fault == 429 else {}
                self._send(fault, b'{"error": "busy"}', retry)
                return
            self._send(200, body)

    return Handler


@contextmanager
def faulty_api(items: list[dict[str, Any]]) -> Iterator[FaultyApi]:
    api = FaultyApi(items)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    server.daemon_threads = True
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}/api"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
