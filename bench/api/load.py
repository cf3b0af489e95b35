"""A small HTTP/1.1 load generator for the API benchmark: open-loop at a fixed rate, or closed-loop flat out.

Why not httpx or locust: on a two-core machine the generator shares the cores with the server it
measures, so it must cost as little as possible per request. This one keeps persistent connections,
writes pre-built request bytes and parses only the status line and Content-Length of each answer.

Open loop (`rate=`): requests are scheduled at fixed intervals whatever the server does, and each
latency is measured from the time the request was *due*, not from when a free connection sent it, so a
stalled server shows up in the percentiles instead of slowing the generator down (coordinated omission).
Closed loop (`rate=None`): each connection sends its next request as soon as the previous answer is in;
what it reports is the throughput the server sustains.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import uvloop


@dataclass
class LoadResult:
    requests: int
    seconds: float
    errors: int
    latencies_ms: list[float] = field(repr=False)
    statuses: dict[int, int]
    header_values: dict[str, int] = field(default_factory=dict)
    """With `watch_header`: each value that response header took, and how many responses carried it."""
    unanswered: int = 0
    """Open loop: requests still unanswered `grace` seconds after the last was sent (counted in `errors`)."""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    def summary(self) -> dict[str, float]:
        return {"requests": self.requests, "rate": round(self.rate, 1), "errors": self.errors,
                "unanswered": self.unanswered,
                "p50_ms": round(self.percentile(50), 2), "p90_ms": round(self.percentile(90), 2),
                "p99_ms": round(self.percentile(99), 2),
                "mean_ms": round(statistics.fmean(self.latencies_ms), 2) if self.latencies_ms else float("nan")}


def request_bytes(method: str, path: str, host: str, headers: dict[str, str] | None = None,
                  body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method in {"POST", "PUT", "PATCH"}:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader, watch: bytes | None = None) -> tuple[int, str | None]:
    """The status of one response and the value of header `watch` (lower case), its body read and discarded."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, chunked, watched = 0, False, None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value)
        elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif watch is not None and lowered == watch:
            watched = value.strip().decode("latin-1")
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status, watched


async def _run(host: str, port: int, requests: Sequence[bytes], *, seconds: float, rate: float | None,
               connections: int, ok: Callable[[int], bool], watch_header: str | None,
               grace: float) -> LoadResult:
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection(host, port))
    latencies: list[float] = []
    unanswered = 0
    statuses: dict[int, int] = {}
    header_values: dict[str, int] = {}
    watch = watch_header.lower().encode("latin-1") if watch_header else None
    errors = 0
    cycle = itertools.cycle(requests)

    async def one(due: float) -> None:
        nonlocal errors
        reader, writer = await pool.get()
        try:
            writer.write(next(cycle))
            status, watched = await _read_response(reader, watch)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
            writer.close()
            pool.put_nowait(await asyncio.open_connection(host, port))
            return
        latencies.append((time.perf_counter() - due) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
        if watched is not None:
            header_values[watched] = header_values.get(watched, 0) + 1
        if not ok(status):
            errors += 1
        pool.put_nowait((reader, writer))

    start = time.perf_counter()
    end = start + seconds
    if rate is None:
        async def worker() -> None:
            while time.perf_counter() < end:
                await one(time.perf_counter())
        await asyncio.gather(*(worker() for _ in range(connections)))
    else:
        interval, tasks, n = 1 / rate, set(), 0
        while True:
            due = start + n * interval
            if due >= end:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.ensure_future(one(due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
        if tasks:   # what the server has not answered `grace` seconds after the last send counts as an error
            _, late = await asyncio.wait(set(tasks), timeout=grace)
            for task in late:
                task.cancel()
            errors += len(late)
            unanswered = len(late)
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait()[1].close()
    return LoadResult(len(latencies), elapsed, errors, latencies, statuses, header_values, unanswered)


def run_load(host: str, port: int, requests: Sequence[bytes], *, seconds: float, rate: float | None = None,
             connections: int = 32, ok: Callable[[int], bool] = lambda s: s < 400,
             watch_header: str | None = None, grace: float = 5.0) -> LoadResult:
    """Send `requests` round robin for `seconds`: at `rate` per second (open loop) or flat out (None). In open
    loop a server slower than `rate` leaves requests unanswered `grace` seconds after the last send: they are
    cancelled and counted as errors, so an overloaded server gives a bounded run and a visible figure.
    The generator runs on uvloop, as the servers it measures do: it shares their two cores, so the less it
    costs per request, the more of the figure is the server's."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(_run(host, port, requests, seconds=seconds, rate=rate, connections=connections, ok=ok,
                               watch_header=watch_header, grace=grace))
