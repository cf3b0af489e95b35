"""Onboarding benchmark: how much of each demo department `hub mappings suggest` maps right unaided.

For every mapping in mappings/ (the mapping each department is finally ingested with), the script
plays the operator: it points `suggest` at the same source (file, table or query, API path with its
query parameters, through the same named connection), giving only what an operator types on the
command line (the source id, the department, the district code), then compares the draft with the
final mapping: columns mapped right with no edit, their share, and the lines the operator changed.

    .venv/bin/python -m bench.onboarding [--residents 20000] [--seed 7] [--out var/bench-onboarding]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from connectors.connection import Connection
from hub.demo import connections, generate_district, running_property_api
from hub.mapping import MappingSpec, load_mapping, load_mappings
from hub.onboard import SourceRef, compare, locate_file, locate_http, locate_sql, render, suggest_mapping
from hub.onboard.measure import Comparison

MAPPINGS = Path(__file__).resolve().parents[1] / "mappings"
DISTRICT_CODE = "650102"


def locate_like(spec: MappingSpec, sources_dir: Path, conns: dict[str, object]) -> SourceRef:
    """Where the operator points `suggest`: the place the final mapping reads."""
    settings, name = spec.connector.settings, spec.connector.connection
    if spec.connector.kind == "file":
        return locate_file(sources_dir / settings["path"], base_dir=sources_dir)
    assert name is not None
    connection = Connection.from_value(conns[name])  # type: ignore[arg-type]
    if spec.connector.kind == "sql":
        return locate_sql(connection, connection_name=name, table=settings.get("table"), query=settings.get("query"))
    params = settings.get("params") or {}
    target = settings["path"] + (f"?{urlencode(params)}" if params else "")
    return locate_http(target, connection=connection, connection_name=name)


def measure(spec: MappingSpec, sources_dir: Path, conns: dict[str, object], work: Path) -> Comparison:
    ref = locate_like(spec, sources_dir, conns)
    sample = ref.sample(500)
    draft = suggest_mapping(ref, sample, source_id=spec.source, department=spec.department,
                            district_code=DISTRICT_CODE)
    path = work / f"{spec.source}.draft.yaml"
    path.write_text(render(draft), encoding="utf-8")
    return compare(load_mapping(path), spec, sample)


def run(out: Path, residents: int, seed: int) -> tuple[list[Comparison], dict[str, str]]:
    manifest = generate_district(out, residents=residents, seed=seed, gongan_url=f"sqlite:///{out / 'gongan.db'}",
                                 renshe_url=f"sqlite:///{out / 'renshe.db'}")
    results = []
    # a pushed source (grid_collection: form write-backs) has no export to point suggest at
    specs = [s for s in load_mappings(MAPPINGS).require_ready() if s.connector.kind != "submissions"]
    with running_property_api(manifest.property_db, manifest.property_token) as base_url:
        conns = connections(manifest)
        conns["wuye"] = {"conn_type": "http", "uri": base_url, "token": manifest.property_token}
        for spec in specs:
            results.append(measure(spec, out, conns, out))
    return results, {s.source: s.department for s in specs}


def table(results: list[Comparison], departments: dict[str, str]) -> str:
    """Markdown: one row per source, then one per department, then the total."""
    lines = ["| department | source | columns | mapped right, no edit | share | lines changed | columns edited |",
             "|---|---|---:|---:|---:|---:|---|"]
    for r in sorted(results, key=lambda r: (departments[r.source], r.source)):
        lines.append(f"| {departments[r.source]} | {r.source} | {r.columns} | {r.right} | {r.share:.0%} | "
                     f"{r.lines_changed} | {', '.join(r.wrong) or '–'} |")
    groups: dict[str, list[Comparison]] = {}
    for r in results:
        groups.setdefault(departments[r.source], []).append(r)
    for name, group in sorted({**groups, "**all departments**": results}.items()):
        columns, right = sum(r.columns for r in group), sum(r.right for r in group)
        lines.append(f"| {name} | {len(group)} sources | {columns} | {right} | {right / columns:.0%} | "
                     f"{sum(r.lines_changed for r in group)} | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=20_000, help="size of the district (as `make run`)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="folder for the district and the drafts")
    args = parser.parse_args()
    if args.out is None:
        with tempfile.TemporaryDirectory() as tmp:
            print(table(*run(Path(tmp), args.residents, args.seed)))
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        print(table(*run(args.out.resolve(), args.residents, args.seed)))


if __name__ == "__main__":
    main()
