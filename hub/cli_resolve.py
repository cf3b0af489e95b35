"""`hub resolve`, `hub review …`, `hub explain …`: resolution from the command line.

    hub resolve [-t person -t house] [--full] [--train]    records → stable entities, golden records, relations
    hub review list [-t person] [--limit 10]                uncertain pairs side by side, with their score breakdown
    hub review accept A B [--why …] / reject A B            a judgement the model never overrides
    hub explain A B                                         per-comparison weights and the decision for two records
    hub explain ENTITY (or one record key)                  the records that formed an entity, and why

Commands wire settings to hub.resolve / hub.fuse functions and print; resident IDs and phones are
printed masked, other sensitive values not at all.
"""

from __future__ import annotations

import getpass
import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from hub.cli_console import console, folding_table, source_text
from hub.cli_console import fail as _fail
from hub.errors import HubError

if TYPE_CHECKING:
    import pandas as pd

    from hub.pipeline import Hub, ResolveReport
    from hub.resolve.review import PairView

review_app = typer.Typer(help="The review queue: uncertain pairs, accepted or rejected by a person.",
                         no_args_is_help=True)
EntityTypes = Annotated[list[str] | None, typer.Option("--entity-type", "-t",
                                                       help="person, house, organization, thing (repeat); default all")]


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as dicts, missing values as None (what the tables below print)."""
    clean = frame.astype(object)
    return [{str(k): v for k, v in row.items()} for row in clean.where(clean.notna(), None).to_dict("records")]


def _hub(*, create: bool = False) -> Hub:
    """The hub for a command; only `resolve` (which writes results) may create or migrate the store."""
    from hub.pipeline import Hub

    return Hub.open(create=create)


def run_resolve(entity_types: list[str] | None, *, full: bool = False, train: bool | None = None) -> ResolveReport:
    """Resolve with a progress bar, then print what the run did and the resolution summary."""
    from hub.pipeline import resolve
    from hub.resolve.runner import ENTITY_TYPES

    hub = _hub(create=True)
    steps = 5 * len(entity_types or ENTITY_TYPES) + 6
    with Progress(SpinnerColumn(), TextColumn("{task.description:<48}"), BarColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("resolution", total=steps)

        def say(message: str) -> None:
            progress.update(task, description=message, advance=1)

        report = resolve(hub, entity_types, full=full, train=train, progress=say)
        progress.update(task, description="done", completed=steps)
    table = folding_table("entity type", "mode", "records", "links written", "review pairs", "created", "merged",
                          "split", "seconds", title="resolution run")
    for run in report.runs:
        table.add_row(run.entity_type, run.mode, f"{run.records:,}", f"{run.links_written:,}",
                      f"{run.review_pairs:,}", f"{run.changes.get('created', 0):,}",
                      f"{run.changes.get('merged_into', 0):,}", f"{run.changes.get('split_from', 0):,}",
                      f"{run.seconds:.1f}")
    console.print(table)
    print_summary(hub)
    published = report.publication
    if published.changed:
        added = sum(c["added"] for c in published.counts.values())
        retired = sum(c["retired"] for c in published.counts.values())
        console.print(f"published read model version {published.version}: {added:,} rows added, {retired:,} retired")
    else:
        console.print(f"read model unchanged: version {published.version} still served")
    return report


def print_summary(hub: Hub) -> None:
    """Entities per type, records linked, review queue size, conflicts per field."""
    from hub.fuse import conflict_counts
    from hub.resolve.review import queue_size
    from hub.resolve.store import entity_counts

    counts, queue, conflicts = entity_counts(hub.engine), queue_size(hub.engine), conflict_counts(hub.engine)
    table = folding_table("entity type", "entities", "records linked", "review queue", title="match summary")
    for row in _rows(counts):
        table.add_row(source_text(row["entity_type"]), f"{row['entities']:,}", f"{row['records']:,}",
                      f"{queue.get(row['entity_type'], 0):,}")
    console.print(table)
    if not conflicts.empty:
        fields = folding_table("entity type", "field", "entities with conflicting values",
                               title="conflicts between sources")
        for row in _rows(conflicts):
            fields.add_row(source_text(row["entity_type"]), source_text(row["attribute"]), f"{row['entities']:,}")
        console.print(fields)


def resolve_cmd(entity_types: EntityTypes = None,
                full: Annotated[bool, typer.Option(help="resolve every record again, not only new and changed ones")]
                = False,
                train: Annotated[bool, typer.Option(help="learn weights from this data instead of the reviewed "
                                                         "weights (full runs)")] = False) -> None:
    """Resolve records into stable canonical entities; fuse golden records, conflicts, relations, places."""
    try:
        run_resolve(entity_types, full=full, train=train or None)
    except HubError as exc:
        raise _fail(exc) from None


def _print_pair(view: PairView, title: str) -> None:
    records = folding_table("field", "record A", "record B",
                            title=f"{title}\nA = {source_text(view.record_a)}\nB = {source_text(view.record_b)}",
                            title_justify="left")
    for row in _rows(view.side_by_side):
        records.add_row(source_text(row["attribute"]), source_text(row["a"] or ""), source_text(row["b"] or ""))
    console.print(records)
    scores = folding_table("comparison", "level", "A", "B", "weight")
    for row in _rows(view.explanation.table):
        scores.add_row(source_text(row["comparison"]), source_text(row["level"]), source_text(row["value_a"] or ""),
                       source_text(row["value_b"] or ""), f"{row['weight']:+.2f}")
    scores.add_row("[bold]total[/bold]", view.explanation.decision, "", "", f"[bold]{view.explanation.total:+.2f}")
    console.print(scores)
    if view.judgement:
        j = view.judgement
        verdict = "same entity" if j["positive"] else "different entities"
        console.print(f"judgement in force: [bold]{verdict}[/bold] by {source_text(j['decided_by'])} at "
                      f"{j['decided_at']}" + (f" ({source_text(j['reason'])})" if j["reason"] else ""))


@review_app.command("list")
def review_list(entity_type: Annotated[str | None, typer.Option("--entity-type", "-t")] = None,
                limit: Annotated[int, typer.Option(help="pairs to show")] = 10) -> None:
    """Uncertain pairs nobody has judged, most probable match first, side by side with their scores:
    one item per pair of entities (its strongest record pair; one decision settles the two entities)."""
    from hub.resolve.review import review_items, view_pairs

    try:
        hub = _hub()
        items = review_items(hub.engine, entity_type)
        pending = items.head(limit)
        views = view_pairs(hub.engine, hub.vault, list(zip(pending["record_a"], pending["record_b"], strict=True)))
    except HubError as exc:
        raise _fail(exc) from None
    total = len(items)
    for i, (row, view) in enumerate(zip(_rows(pending), views, strict=True), start=1):
        where = f"{row['entity_a'] or 'no entity yet'} / {row['entity_b'] or 'no entity yet'}"
        held = f", held back: {row['reason']}" if row["reason"] else ""
        more = f", {row['pairs']} record pairs between them" if row["pairs"] > 1 else ""
        _print_pair(view, f"[{i}/{total}] {row['entity_type']}  weight {row['weight']:+.2f}{held}  "
                          f"({source_text(where)}{more})")
    console.print(f"{total:,} item(s) waiting. Decide with `hub review accept A B` or `hub review reject A B` "
                  "(--why …); the next `hub resolve` applies them.")


def _judge(a: str, b: str, positive: bool, why: str | None, who: str | None) -> None:
    from hub.resolve.review import judge

    try:
        entity_type = judge(_hub().engine, a, b, positive=positive, who=who or getpass.getuser(), why=why)
    except HubError as exc:
        raise _fail(exc) from None
    verdict = "the same" if positive else "different"
    console.print(f"recorded: {source_text(a)} and {source_text(b)} are {verdict} {entity_type}s. "
                  f"The next `hub resolve` applies it (a full run for {entity_type}); no model run will override it.")


Why = Annotated[str | None, typer.Option(help="why (kept with the judgement)")]
Who = Annotated[str | None, typer.Option(help="reviewer; default the login name")]


@review_app.command("accept")
def review_accept(a: str, b: str, why: Why = None, who: Who = None) -> None:
    """Two records are the same entity: they will always be linked."""
    _judge(a, b, True, why, who)


@review_app.command("reject")
def review_reject(a: str, b: str, why: Why = None, who: Who = None) -> None:
    """Two records are different entities: they will never be merged."""
    _judge(a, b, False, why, who)


def _explain_entity(hub: Hub, entity_id: str) -> None:
    from hub.access.policy import Policy
    from hub.cli_find import record_cli_read
    from hub.fuse.conflicts import conflict_rows
    from hub.mapping.code_tables import display_value
    from hub.protect import HIDDEN
    from hub.resolve.review import ReviewError
    from hub.resolve.store import entity_changes, entity_row, link_rows, links_of
    from hub.views import entity_view, open_reader
    from schemas.views import Disclosure, EntityView

    if "|" in entity_id:              # a record key: explain the entity it belongs to
        linked = link_rows(hub.engine, [entity_id])["entity_id"]
        if linked.empty:
            raise ReviewError(f"record {entity_id!r} is linked to no entity: run `hub resolve`")
        entity_id = str(linked.iloc[0])
    row = entity_row(hub.engine, entity_id)
    if row is None:
        raise ReviewError(f"no entity {entity_id!r}")
    state = row["state"] + (f" into {row['merged_into']}" if row["merged_into"] else "")
    console.print(f"[bold]{source_text(entity_id)}[/bold] {row['entity_type']}, {state}; founded by "
                  f"{source_text(row['founding_record'])} "
                  f"(run {row['created_run']})")
    links = folding_table("record", "score", "linked to", "decided by", title="records")
    for link in _rows(links_of(hub.engine, entity_id)):
        score = "" if link["score"] is None else f"{link['score']:+.2f}"
        links.add_row(source_text(link["record_key"]), score, source_text(link["linked_to"] or ""),
                      source_text(link["decided_by"]))
    console.print(links)
    golden = folding_table("attribute", "value", "from", "sources", title="golden record (as published)")
    with hub.engine.connect() as conn:
        view = entity_view(open_reader(conn, hub.vault), Policy.operator(getpass.getuser(), "hub explain"), entity_id)
    record_cli_read(hub, "hub explain", view.disclosed if view is not None else Disclosure(), {"entity_id": entity_id})
    if isinstance(view, EntityView):
        for attribute, shown in view.values.items():
            value = display_value(row["entity_type"], attribute, shown.value)
            golden.add_row(source_text(attribute), source_text(value if value is not None else HIDDEN),
                           source_text(shown.source or ""), str(shown.sources or ""))
        console.print(golden)
    for c in _rows(conflict_rows(hub.engine, entity_id)):
        sources = ", ".join(json.loads(c["sources"]))
        console.print(f"conflict: {source_text(c['attribute'])} has {c['distinct_values']} values across "
                      f"{source_text(sources)}")
    for c in _rows(entity_changes(hub.engine, entity_id)):
        other = f" {c['other_id']}" if c["other_id"] else ""
        console.print(f"{c['changed_at']:%Y-%m-%d %H:%M} {source_text(c['entity_id'])} {c['change']}"
                      f"{source_text(other)} {source_text(c['detail'] or '')}")


def explain_cmd(first: Annotated[str, typer.Argument(help="a record key (source|record id|entity) or an entity id")],
                second: Annotated[str | None, typer.Argument(help="a second record key")] = None) -> None:
    """Why two records match or not (per-field comparison, weights, decision), or how an entity was formed."""
    from hub.resolve.review import view_pairs
    from hub.resolve.store import link_rows

    try:
        hub = _hub()
        if second is None:
            _explain_entity(hub, first)
            return
        [view] = view_pairs(hub.engine, hub.vault, [(first, second)])
        _print_pair(view, f"{view.entity_type} pair")
        links = link_rows(hub.engine, [first, second]).set_index("record_key")["entity_id"]
        console.print(f"now: A in {source_text(links.get(first, '-'))}, B in {source_text(links.get(second, '-'))}")
    except HubError as exc:
        raise _fail(exc) from None
