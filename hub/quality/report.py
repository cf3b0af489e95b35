"""The auditors' report: one static HTML file per run that opens from disk, with no server and no network.

What it shows is read from the store's tables (run, quality_result, quarantine, record_hold, entity,
entity_change, review_pair, conflict) and the entity-type suites it runs itself; the charts are inline SVG
drawn here and the styles inline, so nothing is fetched when it opens. Record references are masked with
hub.protect's one masking (a long digit run reads as an ID number or a phone); the report never decrypts a
record to show it.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from os.path import relpath
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

from hub.private_files import make_private_dir
from hub.protect import Vault, mask_identifier
from hub.quality.derived import event_rows, finding_rows, finding_trend
from hub.quality.entities import entity_frame, entity_suites, entity_types, share
from hub.quality.gate import GONE, HELD, QUALITY, SUPERSEDED, visible
from hub.quality.suites import WARNING
from hub.quality.validate import data_docs_index, record, run_suites
from hub.store import runs, tables
from hub.store.runs import as_utc, now

SAMPLES = 3
"""Record references shown per quarantine reason."""
TOP_REASONS = 8
"""Reasons listed per source (the rest summed in one line)."""
TREND_RUNS = 30
"""Runs a trend chart goes back."""
_DIGITS = re.compile(r"\d[\d*]{9,}[\dXx]?")


def masked(text: object) -> str:
    """A record reference or reason as the report shows it: digit runs long enough to be an ID number or a
    phone masked (hub.protect.mask_identifier), the rest as it is."""
    return _DIGITS.sub(lambda m: mask_identifier(m[0]), str(text)) if text is not None else ""


@dataclass
class ReportResult:
    path: Path
    run_id: str
    data_docs: Path | None
    sections: dict[str, int] = field(default_factory=dict)   # rows per table, for the CLI and tests


# ------------------------------------------------------------------------------------------------ data


def _frame(engine: Engine, query: sa.Select[Any], columns: Sequence[str]) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=list(columns))


def _age(at: Any, moment: datetime) -> timedelta | None:
    if at is None or (isinstance(at, float) and at != at):
        return None
    stamp = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
    stamped = as_utc(stamp)
    return moment - stamped if stamped is not None else None


def _shares(detail: str, kinds: Sequence[str]) -> float | None:
    """Mean share of rows the expectations of these kinds held for, from a stored suite result."""
    found = [share(o) for o in json.loads(detail).get("expectations", []) if o.get("kind") in kinds]
    values = [v for v in found if v is not None]
    return sum(values) / len(values) if values else None


def source_rows(engine: Engine, sources: Sequence[str], moment: datetime) -> pd.DataFrame:
    """Per source: last run, gate, completeness, validity and timeliness, held and retired versions."""
    r, raw, q, h = tables.run.c, tables.raw_record.c, tables.quality_result.c, tables.record_hold.c
    ingest = _frame(engine, sa.select(r.id, r.source, r.status, r.gate, r.finished_at, r.extracted, r.loaded,
                                      r.quarantined).where(r.stage == "ingest").order_by(r.started_at),
                    ["id", "source", "status", "gate", "finished_at", "extracted", "loaded", "quarantined"])
    newest = _frame(engine, sa.select(raw.source, sa.func.max(raw.extracted_at)).where(visible(raw.id))
                    .group_by(raw.source), ["source", "newest"])
    results = _frame(engine, sa.select(q.subject, q.suite, q.detail, q.created_at).where(q.scope == "source")
                     .order_by(q.created_at, q.id), ["source", "suite", "detail", "created_at"])
    holds = _frame(engine, sa.select(h.source, h.reason, sa.func.count()).where(h.released_at.is_(None))
                   .group_by(h.source, h.reason), ["source", "reason", "n"])
    rows = []
    for source in sorted(set(sources) | set(ingest["source"])):
        mine = ingest[ingest["source"] == source]
        last = mine.iloc[-1] if len(mine) else None
        good = mine[mine["status"] == runs.SUCCEEDED]
        warning = results[(results["source"] == source) & (results["suite"] == WARNING)]
        detail = warning.iloc[-1]["detail"] if len(warning) else None
        stamp = newest.loc[newest["source"] == source, "newest"]
        held = holds[(holds["source"] == source)]
        rows.append({
            "source": source,
            "last run": last["finished_at"] if last is not None else None,
            "status": last["status"] if last is not None else "never run",
            "gate": (last["gate"] or "-") if last is not None else "-",
            "extracted": int(last["extracted"]) if last is not None else 0,
            "loaded": int(last["loaded"]) if last is not None else 0,
            "completeness": _shares(detail, ("filled", "record_id")) if detail else None,
            "validity": _shares(detail, ("valid", "coded")) if detail else None,
            "newest record age": _age(stamp.iloc[0], moment) if len(stamp) else None,
            "last success age": _age(good.iloc[-1]["finished_at"], moment) if len(good) else None,
            "held versions": int(held.loc[held["reason"] == QUALITY, "n"].sum()),
            "retired records": int(held.loc[held["reason"] == GONE, "n"].sum()),
        })
    return pd.DataFrame(rows)


def held_batches(engine: Engine) -> pd.DataFrame:
    r = tables.run.c
    return _frame(engine, sa.select(r.id, r.source, r.finished_at, r.gate, r.gate_note).where(
        r.gate.in_([HELD, SUPERSEDED])).order_by(r.started_at.desc()),
        ["run", "source", "finished", "gate", "failed expectations"])


def quarantine_rows(engine: Engine) -> pd.DataFrame:
    """Reasons per source and kind with counts and a few masked record references."""
    qt = tables.quarantine.c
    counts = _frame(engine, sa.select(qt.source, qt.kind, qt.reason, sa.func.count()).where(qt.kind != "flag")
                    .group_by(qt.source, qt.kind, qt.reason), ["source", "kind", "reason", "records"])
    if counts.empty:
        return counts.assign(samples=[])
    counts = counts.sort_values(["source", "records", "reason"], ascending=[True, False, True])
    counts = counts.groupby("source", sort=False).head(TOP_REASONS).reset_index(drop=True)
    samples = []
    with engine.connect() as conn:
        for source, kind, reason in zip(counts["source"], counts["kind"], counts["reason"], strict=True):
            found = conn.execute(sa.select(qt.source_record_id, qt.position, qt.field).where(
                qt.source == source, qt.kind == kind, qt.reason == reason).order_by(qt.id).limit(SAMPLES)).all()
            samples.append(", ".join(masked(rid or pos or "?") + (f" ({masked(fld)})" if fld else "")
                                     for rid, pos, fld in found))
    return counts.assign(samples=samples)


def match_rows(engine: Engine) -> pd.DataFrame:
    """Per entity type: active entities, records linked, merges, splits, review queue."""
    e, ch, rp, link = tables.entity.c, tables.entity_change.c, tables.review_pair.c, tables.record_link.c
    active = _frame(engine, sa.select(e.entity_type, sa.func.count()).where(e.state == "active")
                    .group_by(e.entity_type), ["type", "n"]).set_index("type")["n"]
    linked = _frame(engine, sa.select(link.entity_type, sa.func.count()).group_by(link.entity_type),
                    ["type", "n"]).set_index("type")["n"]
    changes = _frame(engine, sa.select(ch.entity_type, ch.change, sa.func.count()).group_by(ch.entity_type, ch.change),
                     ["type", "change", "n"])
    review = _frame(engine, sa.select(rp.entity_type, sa.func.count()).group_by(rp.entity_type),
                    ["type", "n"]).set_index("type")["n"]
    types = sorted(set(active.index) | set(linked.index))

    def change(kind: str, entity_type: str) -> int:
        hit = changes[(changes["type"] == entity_type) & (changes["change"] == kind)]
        return int(hit["n"].sum())

    return pd.DataFrame([{"entity type": t, "entities": int(active.get(t, 0)), "records linked": int(linked.get(t, 0)),
                          "merges": change("merged_into", t), "splits": change("split_from", t),
                          "review queue": int(review.get(t, 0))} for t in types])


def conflict_rows(engine: Engine, departments: Mapping[str, str]) -> pd.DataFrame:
    """Per entity type and field: entities where departments disagree, and the departments most involved."""
    c = tables.conflict.c
    rows = _frame(engine, sa.select(c.entity_type, c.attribute, c.sources), ["type", "field", "sources"])
    if rows.empty:
        return pd.DataFrame(columns=["entity type", "field", "entities in conflict", "departments"])
    rows["departments"] = rows["sources"].map(
        lambda s: " × ".join(sorted({departments.get(x, x) for x in json.loads(s)})))
    out = []
    for (entity_type, attribute), group in rows.groupby(["type", "field"], sort=True):
        pairs = group["departments"].value_counts().head(3)
        out.append({"entity type": entity_type, "field": attribute, "entities in conflict": len(group),
                    "departments": "; ".join(f"{k} ({v:,})" for k, v in pairs.items())})
    return pd.DataFrame(out).sort_values(["entities in conflict"], ascending=False, kind="stable")


def source_trends(engine: Engine) -> dict[str, list[tuple[str, float]]]:
    """Per source, share of warning checks passed by each gated run, oldest first (last TREND_RUNS)."""
    q = tables.quality_result.c
    rows = _frame(engine, sa.select(q.subject, q.evaluated, q.failed, q.created_at).where(
        q.scope == "source", q.suite == WARNING).order_by(q.created_at, q.id), ["source", "evaluated", "failed", "at"])
    out: dict[str, list[tuple[str, float]]] = {}
    for source, group in rows.groupby("source", sort=True):
        tail = group.tail(TREND_RUNS)
        out[str(source)] = [(_label(at), 100 * (1 - f / e) if e else 100.0)
                            for at, e, f in zip(tail["at"], tail["evaluated"], tail["failed"], strict=True)]
    return out


def quarantine_trend(engine: Engine) -> dict[str, list[tuple[str, float]]]:
    """Per source, the share of extracted records quarantined by each ingest run that extracted something,
    oldest first (last TREND_RUNS). A share, not a count, and one line per source: sources of very different
    sizes stay comparable, and a department whose exports get worse shows as its own rising line."""
    r = tables.run.c
    rows = _frame(engine, sa.select(r.source, r.finished_at, r.extracted, r.quarantined).where(
        r.stage == "ingest", r.extracted > 0).order_by(r.started_at, r.id),
        ["source", "at", "extracted", "quarantined"])
    out: dict[str, list[tuple[str, float]]] = {}
    for source, group in rows.groupby("source", sort=True):
        tail = group.tail(TREND_RUNS)
        out[str(source)] = [(_label(at), 100 * q / e) for at, e, q in
                            zip(tail["at"], tail["extracted"], tail["quarantined"], strict=True)]
    return out


def entity_trends(engine: Engine) -> dict[str, list[tuple[str, float]]]:
    """Per entity type, mean completeness (share of profiles holding each expected field) per report run."""
    q = tables.quality_result.c
    rows = _frame(engine, sa.select(q.subject, q.detail, q.created_at).where(q.scope == "entity_type")
                  .order_by(q.created_at, q.id), ["type", "detail", "at"])
    out: dict[str, list[tuple[str, float]]] = {}
    for entity_type, group in rows.groupby("type", sort=True):
        points = [(_label(at), _shares(d, ("complete",))) for d, at in zip(group["detail"], group["at"], strict=True)]
        kept = [(a, 100 * v) for a, v in points if v is not None][-TREND_RUNS:]
        if kept:
            out[str(entity_type)] = kept
    return out


def _label(at: Any) -> str:
    stamp = at if isinstance(at, datetime) else datetime.fromisoformat(str(at)) if at is not None else None
    return f"{stamp:%m-%d %H:%M}" if stamp is not None else "?"


# ------------------------------------------------------------------------------------------------ charts

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
           "#bcbd22", "#393b79", "#637939", "#843c39", "#7b4173")


def line_chart(title: str, series: Mapping[str, Sequence[tuple[str, float]]], *, unit: str = "",
               width: int = 640, height: int = 220, floor: float | None = None,
               ceiling: float | None = None) -> str:
    """An inline SVG line chart of several series over run times (x: run order, y: value)."""
    series = {k: list(v) for k, v in series.items() if v}
    if not series:
        return f'<figure class="chart"><figcaption>{html.escape(title)}</figcaption><p>no runs yet</p></figure>'
    left, right, top, bottom = 48, 150, 12, 28
    values = [y for points in series.values() for _, y in points]
    low = min(values) if floor is None else min(floor, min(values))
    high = max(values) if ceiling is None else max(ceiling, max(values))
    if high == low:
        high, low = high + 1, low - (1 if low > 0 else 0)
    most = max(len(points) for points in series.values())
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + (plot_w * i / (most - 1) if most > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low) / (high - low))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{html.escape(title)}">',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#999"/>']
    digits = 0 if high - low >= 10 else 1 if high - low >= 1 else 2   # a small range keeps distinct ticks
    for v in (low, (low + high) / 2, high):
        parts.append(f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end" class="tick">'
                     f'{v:,.{digits}f}{unit}</text>')
    first = next(iter(series.values()))
    for i in (0, len(first) - 1):
        parts.append(f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="middle" class="tick">'
                     f'{html.escape(first[i][0])}</text>')
    for n, (name, points) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        start = most - len(points)
        coords = " ".join(f"{x(start + i):.1f},{y(v):.1f}" for i, (_, v) in enumerate(points))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}">'
                     f'<title>{html.escape(name)}</title></polyline>')
        for i, (at, v) in enumerate(points):
            parts.append(f'<circle cx="{x(start + i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}">'
                         f'<title>{html.escape(name)} {html.escape(at)}: {v:,.1f}{unit}</title></circle>')
        parts.append(f'<rect x="{width - right + 10}" y="{top + 14 * n}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{width - right + 24}" y="{top + 14 * n + 9}" class="legend">{html.escape(name)}</text>')
    parts.append("</svg>")
    return f'<figure class="chart"><figcaption>{html.escape(title)}</figcaption>{"".join(parts)}</figure>'


# ------------------------------------------------------------------------------------------------ HTML

CSS = """
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em auto;max-width:1100px;
color:#222;line-height:1.4}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}th,td{border:1px solid #ddd;padding:.25em .5em;
text-align:left;vertical-align:top}th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
.held{color:#b00020;font-weight:bold}.ok{color:#1b7f3b}.warn{color:#a15c00}.tick,.legend{font-size:11px;fill:#444}
figure.chart{display:inline-block;margin:.5em 1em .5em 0}figcaption{font-weight:bold;font-size:.9em}
.note{color:#555;font-size:.9em}
"""


def _cell(value: Any) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):   # NaT: never ran
        return "<td>-</td>"
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if isinstance(value, int):
        return f'<td class="n">{value:,}</td>'
    if isinstance(value, float):
        return f'<td class="n">{value:,.1f}</td>'
    if isinstance(value, timedelta):
        return f'<td class="n">{_duration(value)}</td>'
    if isinstance(value, datetime):
        return f"<td>{value:%Y-%m-%d %H:%M}</td>"
    return f"<td>{html.escape(str(value))}</td>"


def _duration(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} d"


def _table(frame: pd.DataFrame, css_id: str, formats: Mapping[str, Any] | None = None) -> str:
    if frame.empty:
        return f'<p id="{css_id}" class="note">none</p>'
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            shown = formats[column](value) if formats and column in formats else None
            cells.append(shown if shown is not None else _cell(value.item() if hasattr(value, "item") else value))
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table id="{css_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _percent(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "<td>-</td>"
    return f'<td class="n">{100 * float(value):.1f} %</td>'


def _gate(value: Any) -> str:
    css = "held" if value in (HELD, SUPERSEDED) else "ok" if value in ("published", "approved") else ""
    return f'<td class="{css}">{html.escape(str(value))}</td>'


def render(*, generated: datetime, store: str, publication: int | None, sources: pd.DataFrame, held: pd.DataFrame,
           quarantine: pd.DataFrame, matches: pd.DataFrame, conflicts: pd.DataFrame, entity_results: pd.DataFrame,
           charts: Sequence[str], data_docs: str | None, run_id: str, findings: pd.DataFrame | None = None,
           events: pd.DataFrame | None = None) -> str:
    """The report's HTML, one self-contained page."""
    docs = (f'<p><a id="data-docs" href="{html.escape(data_docs)}">GX Data Docs</a>: every validation of every '
            "suite, expectation by expectation (opens from disk as well).</p>") if data_docs else \
        '<p class="note">No GX Data Docs yet: no batch has been validated.</p>'
    alert = ""
    if not held.empty:
        alert = (f'<p class="held" id="alert">{len(held)} batch(es) held by a failed critical expectation: the '
                 "previous state is still served. Fix the source and ingest again, or approve with "
                 "<code>hub batches approve RUN</code>.</p>")
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>数据质量报告 · Data quality report {generated:%Y-%m-%d %H:%M}</title>
<style>{CSS}</style></head><body>
<h1>数据质量报告 · Data quality report</h1>
<p class="note">Generated {generated:%Y-%m-%d %H:%M:%S} UTC (report run {html.escape(run_id)})
from {html.escape(store)}; publication served: {publication if publication is not None else "none yet"}.
Personal values are never shown; record references that look like ID numbers or phones are masked.</p>
{alert}
<h2 id="sources-h">Sources: completeness, validity, timeliness</h2>
<p class="note">Completeness and validity: share of rows the warning suite's checks held for in the source's last
validated batch (record ids and required fields; checksums and coded values). Timeliness: age of the newest record
landed and of the last successful run.</p>
{_table(sources, "sources", {"gate": _gate, "completeness": _percent, "validity": _percent})}
<h2 id="held-h">Held batches</h2>
{_table(held, "held", {"gate": _gate})}
<h2 id="quarantine-h">Quarantine</h2>
<p class="note">The commonest reasons per source (records, entities and values rejected), with up to {SAMPLES} record
references each.</p>
{_table(quarantine, "quarantine")}
<h2 id="matching-h">Matching</h2>
{_table(matches, "matching")}
<h2 id="entities-h">Entity types: completeness, validity, consistency across departments</h2>
{_table(entity_results, "entities", {"share": _percent})}
<h2 id="conflicts-h">Conflicts between departments</h2>
{_table(conflicts, "conflicts")}
<h2 id="findings-h">Findings of the cross-department rules</h2>
<p class="note">Per rule and community (the community of the finding's event): findings open now, found first by
the last rules run, cleared so far. Their trend across rules runs is among the charts below.</p>
{_table(findings if findings is not None else pd.DataFrame(), "findings")}
<h2 id="events-h">Events: handling per community and grid</h2>
<p class="note">Open (not yet resolved), overdue (open past the due time its severity gives), handled (resolved or
closed; suppressed ones are not), on time (handled by the due time), median hours from discovery to resolution; a
grid's load: residents living in its buildings, workers, open events per worker. Community rows first (grid
empty), then one row per grid.</p>
{_table(events if events is not None else pd.DataFrame(), "events", {"on time": _percent})}
<h2 id="trends-h">Trends across runs</h2>
<div id="trends">{"".join(charts)}</div>
<h2 id="docs-h">Validation details</h2>
{docs}
</body></html>
"""


def write_report(engine: Engine, vault: Vault, quality_home: Path, *, departments: Mapping[str, str],
                 out: Path | None = None) -> ReportResult:
    """Run the entity-type suites, gather every table and chart, write the HTML and build the Data Docs."""
    from hub.quality.validate import _context, _exclusive

    moment = now()
    run_id = runs.start_run(engine, "report", "quality").id
    entity_results = []
    found_by_type = {}
    for entity_type in entity_types():
        frame = entity_frame(engine, vault, entity_type)
        if frame.empty:
            continue
        found = run_suites(quality_home, f"entity.{entity_type}", frame, entity_suites(frame))
        found_by_type[entity_type] = found
        for outcome in found[0].outcomes:
            entity_results.append({"entity type": entity_type, "check": outcome.meaning,
                                   "share": share(outcome.__dict__), "target": f"≥ {_mostly(outcome.name)}",
                                   "result": "pass" if outcome.success else "below target"})
    with engine.begin() as conn:
        for entity_type, found in found_by_type.items():
            record(conn, run_id, "entity_type", entity_type, found)
    data_docs = None
    if (quality_home / "gx").exists():   # some suite has run here: its results are what the Data Docs show
        context = _context(quality_home)
        with _exclusive(quality_home):
            context.build_data_docs()
        data_docs = data_docs_index(quality_home)
    sources = source_rows(engine, list(departments), moment)
    charts = [line_chart("Warning checks passed per gated run, by source (%)", source_trends(engine), unit=" %",
                         floor=0, ceiling=100),
              line_chart("Records quarantined per ingest run, by source (% of extracted)", quarantine_trend(engine),
                         unit=" %", floor=0),
              line_chart("Profile completeness per report run, by entity type (%)", entity_trends(engine),
                         unit=" %", floor=0, ceiling=100),
              line_chart("Open findings after each rules run, by rule", finding_trend(engine), floor=0)]
    p = tables.publication.c
    with engine.connect() as conn:
        publication = conn.execute(sa.select(sa.func.max(p.version)).where(p.state == "published")).scalar()
    target = out or quality_home / "reports" / f"report-{moment:%Y%m%d-%H%M%S}-{run_id[:6]}.html"
    make_private_dir(target.parent)
    docs_link = relpath(data_docs, target.parent) if data_docs is not None else None
    held = held_batches(engine)
    quarantine = quarantine_rows(engine)
    matches = match_rows(engine)
    conflicts = conflict_rows(engine, departments)
    findings = finding_rows(engine)
    events = event_rows(engine, moment)
    text = render(generated=moment, store=engine.url.render_as_string(hide_password=True), publication=publication,
                  sources=sources, held=held, quarantine=quarantine, matches=matches, conflicts=conflicts,
                  entity_results=pd.DataFrame(entity_results), charts=charts, data_docs=docs_link, run_id=run_id,
                  findings=findings, events=events)
    target.write_text(text, encoding="utf-8")
    target.chmod(0o600)
    latest = target.parent / "latest.html"
    latest.write_text(text, encoding="utf-8")   # beside it: the same relative link to the Data Docs
    latest.chmod(0o600)
    with engine.begin() as conn:
        runs.finish_run(conn, run_id, runs.SUCCEEDED, extracted=len(sources), loaded=len(entity_results))
    return ReportResult(target, run_id, data_docs, {"sources": len(sources), "held": len(held),
                                                    "quarantine": len(quarantine), "matching": len(matches),
                                                    "conflicts": len(conflicts), "entities": len(entity_results),
                                                    "findings": len(findings), "events": len(events)})


def _mostly(name: str) -> str:
    from hub.quality.entities import MOSTLY

    kind = name.split(":", 1)[0]
    return f"{100 * MOSTLY.get(kind, 0):.0f} %"
