"""Closed-loop load from wrk (Debian's package), for the rate a server sustains flat out.

Why wrk beside bench/api/load.py: the generator shares the two cores with the server it measures. The
Python generator costs a fraction of a millisecond per request, which at the baseline's rates is a large
share of the machine (it held bare FastAPI to about 800 requests/s here); wrk, in C on one thread, costs a
few microseconds, so what it reports is the server's rate. wrk cannot offer a fixed rate, so the open-loop
figures (latency at an offered rate, measured from each request's due time) stay with bench/api/load.py.

Requests go round robin through the list given, each thread from the start, from a Lua script written
for the run; wrk's own summary is parsed (rate, percentiles, non-2xx/3xx answers, socket errors).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

WRK = shutil.which("wrk")
SCRIPT = """
local requests = {%s}
local i = 0
request = function()
  i = i %% #requests + 1
  return requests[i]
end
done = function(summary, latency, requests_)
  io.write(string.format("HUB-JSON {\\"requests\\": %%d, \\"seconds\\": %%f, \\"p50_ms\\": %%f, \\"p90_ms\\": %%f, "
    .. "\\"p99_ms\\": %%f, \\"mean_ms\\": %%f, \\"non_2xx_3xx\\": %%d, \\"connect\\": %%d, \\"read\\": %%d, "
    .. "\\"write\\": %%d, \\"timeout\\": %%d}\\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
    latency:percentile(99) / 1e3, latency.mean / 1e3, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout))
end
"""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""


def _lua_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=True)   # a JSON string literal is a valid Lua one for ASCII text


def _lua_request(request: Request) -> str:
    headers = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in request.headers.items())
    body = _lua_string(request.body) if request.body else "nil"
    return f"wrk.format({_lua_string(request.method)}, {_lua_string(request.path)}, {{{headers}}}, {body})"


def available() -> bool:
    return WRK is not None


def run_wrk(host: str, port: int, requests: Sequence[Request], *, seconds: float, connections: int = 32,
            threads: int = 1) -> dict[str, float]:
    """wrk flat out for `seconds` over `connections` connections: the same summary keys as
    bench.api.load.LoadResult.summary (rate, percentiles, errors), and `generator: wrk`."""
    if WRK is None:
        raise RuntimeError("wrk is not installed: `apt-get install wrk` (make bench does)")
    body = ",\n".join(f"  {_lua_request(r)}" for r in requests)
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "requests.lua"
        script.write_text(SCRIPT % body, encoding="utf-8")
        done = subprocess.run([WRK, "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s",
                               "--timeout", "10s", "-s", str(script), f"http://{host}:{port}"],
                              capture_output=True, text=True, check=True)
    found = re.search(r"^HUB-JSON (.*)$", done.stdout, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk said nothing parsable: {done.stdout[-500:]} {done.stderr[-500:]}")
    raw = json.loads(found.group(1))
    socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return {"requests": raw["requests"], "rate": round(raw["requests"] / raw["seconds"], 1),
            "errors": raw["non_2xx_3xx"] + socket_errors, "unanswered": raw["timeout"],
            "p50_ms": round(raw["p50_ms"], 2), "p90_ms": round(raw["p90_ms"], 2), "p99_ms": round(raw["p99_ms"], 2),
            "mean_ms": round(raw["mean_ms"], 2), "generator": "wrk"}
