"""Where an API worker's time goes: py-spy's raw samples (`py-spy record --gil -f raw`) sorted into parts.

    python -m bench.api.profile_split SAMPLES [SAMPLES ...]

Each sample is given to the innermost frame that belongs to a known part (the hub's packages, SQLAlchemy,
psycopg, pydantic, the web framework, logging, orjson); frames of the standard library (asyncio, threading,
json …) pass the sample on to their caller, so a `json.dumps` called by the views counts as the views.
Prints each part's share of the samples, one table per file.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

PARTS: list[tuple[str, str]] = [
    ("audit", r"(^|/)hub/audit/"),
    ("access (token, policy)", r"(^|/)hub/access/"),
    ("gateway and routes", r"(^|/)hub/api/"),
    ("views and masking", r"(^|/)hub/(views|protect|publish)/|(^|/)schemas/"),
    ("hub, other", r"(^|/)hub/"),
    ("SQLAlchemy", r"(^|/)sqlalchemy/"),
    ("psycopg (driver)", r"(^|/)psycopg/|(^|/)psycopg_binary/|(^|/)psycopg_pool/"),
    ("pydantic", r"(^|/)pydantic/|(^|/)pydantic_core/"),
    ("FastAPI", r"(^|/)fastapi/"),
    ("Starlette", r"(^|/)starlette/"),
    ("uvicorn (HTTP, access log)", r"(^|/)uvicorn/|(^|/)httptools/"),
    ("anyio (thread pool)", r"(^|/)anyio/"),
    ("logging", r"(^|/)logging/"),
    ("cryptography, jwt", r"(^|/)cryptography/|(^|/)jwt/"),
    ("rapidfuzz", r"(^|/)rapidfuzz/"),
]
_FILE = re.compile(r"\(([^()]*?):\d+\)$|\(([^()]*?)\)$")


def part_of(frame: str) -> str | None:
    found = _FILE.search(frame)
    path = (found.group(1) or found.group(2)) if found else frame
    for name, pattern in PARTS:
        if re.search(pattern, path):
            return name
    return None


def split(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack or not number.isdigit():
            continue
        frames = stack.split(";")
        part = next((p for p in map(part_of, reversed(frames)) if p is not None), "other (stdlib, idle loop)")
        counts[part] += int(number)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("samples", nargs="+", type=Path)
    args = parser.parse_args()
    for path in args.samples:
        counts = split(path)
        total = sum(counts.values()) or 1
        print(f"\n{path} ({total} samples holding the GIL)\n\n| part | share |\n| --- | ---: |")
        for name, count in counts.most_common():
            print(f"| {name} | {100 * count / total:.1f} % |")


if __name__ == "__main__":
    main()
