"""A real webhook receiver on 127.0.0.1 for the tests: an HTTP server in a thread that checks each request's
signature with hub.webhooks.signing (as a receiver would), records what arrived, and can be stopped (the port
then refuses connections) and started again on the same port, or made to answer 500 for a number of requests."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hub.webhooks.signing import SignatureError, verify_signature


@dataclass
class Received:
    event_id: int
    entity_id: str
    status: int
    signature_ok: bool


@dataclass
class Receiver:
    secret: str = ""
    fail_next: int = 0
    """Answer 500 to this many requests before accepting again."""
    port: int = field(default_factory=lambda: _free_port())
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/hub"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    verify_signature(receiver.secret, dict(self.headers.items()), body)
                    ok = True
                except SignatureError:
                    ok = False
                event: dict[str, Any] = json.loads(body)
                with receiver._lock:
                    status = 500 if receiver.fail_next > 0 else (200 if ok else 401)
                    receiver.fail_next = max(0, receiver.fail_next - 1)
                    receiver.received.append(Received(int(event["id"]), str(event["entity_id"]), status, ok))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:   # quiet
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def accepted(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.status == 200]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
