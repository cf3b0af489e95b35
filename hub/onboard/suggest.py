"""`hub mappings suggest`: a draft mapping for a source nobody has mapped yet.

Reads a sample through the source's connector, profiles every column, weighs what its header and its
values say (see `candidates`), places columns into the entities of a row (see `assemble`), and fills in
what follows: value maps for coded columns, the `when` that makes 证件号码 a resident ID only for the
right 证件类型, the source's date order, relations between the row's entities, the record id, the
department and the attributes schemas/ names it authoritative for.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from itertools import combinations
from typing import Any

from pypinyin import lazy_pinyin

import schemas
from hub.mapping.code_tables import code_table, resident_id_documents
from hub.mapping.conditions import Condition, fold
from hub.normalize import NORMALIZERS
from hub.normalize.base import is_blank
from hub.onboard.assemble import Assembly, Placed
from hub.onboard.candidates import PLACE_AT, column_candidates
from hub.onboard.detect import PERSONAL_KINDS, Profile, profile
from hub.onboard.draft import Draft
from hub.onboard.entities import draft_entities, entity_names, relations
from hub.onboard.locate import SourceRef
from hub.onboard.roles import (
    dated_by_the_row,
    founding_or_registration,
    house_parts_from_values,
    one_situation,
    organization_centred,
    organization_roles,
    organization_table_columns,
    placeholders,
    registered_house,
)
from hub.onboard.sample import Sample
from hub.onboard.vocab import (
    closed_attributes,
    department_scores,
    situation_from_context,
    value_map,
)

_DATE_ATTRS = {"date", "datetime"}


def _birth_match(sample: Sample, profiles: dict[str, Profile]) -> dict[str, float]:
    """Per column, the share of rows whose date equals the birth date inside the row's ID number."""
    id_columns = [c for c, p in profiles.items() if p.share("resident_id") >= 0.8]
    if not id_columns:
        return {}
    births = [NORMALIZERS["resident_id"](v).derived.get("birth_date") for v in sample.values(id_columns[0])]
    out: dict[str, float] = {}
    for column, p in profiles.items():
        if column in id_columns or p.share("date", "date_dmy_only", "excel_serial") < 0.5:
            continue
        normalizer = NORMALIZERS["date_dmy" if p.share("date_dmy_only") >= 0.05 else "date"]
        pairs = [(b, normalizer(v).value) for b, v in zip(births, sample.values(column), strict=True) if b]
        same = sum(1 for b, d in pairs if d == b)
        out[column] = same / len(pairs) if pairs else 0.0
    return out


def _slug(text: str) -> str:
    words = "_".join(lazy_pinyin(text))
    slug = re.sub(r"[^a-z0-9]+", "_", words.lower()).strip("_")
    slug = slug if slug and slug[0].isalpha() else f"source_{slug}"
    return slug[:48].rstrip("_")


def _proposed(table: str, code: str) -> str | None:
    """A value for a code the shipped table lacks: a number past the table's codes reads like the last code
    before it (金保 AAC008 '4' after '3' 终止), a word like the table's word it contains."""
    entries = code_table(table).index
    if code.isdigit():
        lower = [int(c) for c in entries if c.isdigit() and int(c) < int(code)]
        return entries[str(max(lower))] if lower else None
    key = fold(code)
    hits = [(len(k), v) for k, v in entries.items() if fold(k) and fold(k) in key]
    return max(hits)[1] if hits else None


def _table_with_proposals(placed: Placed, table: str, codes: list[str], attribute: str = "") -> None:
    """The code table, or where the sample holds codes it lacks an inline map of the codes seen with an entry
    proposed for each missing one (said in the comment, for the operator to confirm): from the table's own
    words, else from the attribute's value vocabulary (在职缴费: 在职, active)."""
    lookup = code_table(table).lookup
    missing = [c for c in codes if lookup(c) is None]
    proposals = {c: v for c in missing if (v := _proposed(table, c)) is not None}
    if attribute in closed_attributes():
        proposals.update(value_map(attribute, [c for c in missing if c not in proposals])[0])
    if not proposals:
        placed.extra["map"] = table
        return
    placed.extra["map"] = {c: value for c in sorted(codes, key=_code_order)
                           if (value := lookup(c) or proposals.get(c)) is not None}
    placed.evidence += (f"; the sample holds {', '.join(repr(c) for c in proposals)}, which {table} lacks: the map is "
                        f"{table} for the codes seen plus a proposed "
                        + ", ".join(f"{c}: {v}" for c, v in proposals.items()) + " (confirm it)")
    if unknown := [c for c in missing if c not in proposals]:      # never a value the attribute does not allow
        placed.evidence += f"; not understood, left out of the map: {', '.join(unknown[:6])}"


def _code_order(code: str) -> tuple[int, int, str]:
    return (0, int(code), "") if code.isdigit() else (1, 0, code)


def _maps(asm: Assembly) -> None:
    """Value maps: the dictionary's code table or map for the column, else one built from its values."""
    closed = set(closed_attributes())
    for (entity, _, attribute), placed in asm.placed.items():
        if placed.column is None:
            continue
        codes = asm.profiles[placed.column].codes
        table = placed.entry.map if placed.entry is not None else None
        if isinstance(table, str) and codes:
            _table_with_proposals(placed, table, codes, f"{entity}.{attribute}")
        elif isinstance(table, str):
            placed.extra["map"] = table
        elif table is not None:
            seen = {fold(c) for c in codes or []}
            placed.extra["map"] = {k: v for k, v in table.items() if not codes or fold(k) in seen}
        elif f"{entity}.{attribute}" in closed and codes:
            mapped, unknown = value_map(f"{entity}.{attribute}", codes)
            if not mapped and set(codes) <= set(code_table("jinbao_status").index):
                placed.extra["map"] = "jinbao_status"
            elif not mapped and sum(c in code_table("jinbao_status").index for c in codes) * 2 > len(codes):
                _table_with_proposals(placed, "jinbao_status", codes, f"{entity}.{attribute}")
            elif mapped and (unknown or any(k != v for k, v in mapped.items())):
                placed.extra["map"] = mapped
                placed.evidence += "; map written from its values"
                if unknown:
                    placed.evidence += f"; not understood: {', '.join(unknown[:6])}"


def _identity_condition(asm: Assembly) -> None:
    """证件号码 holds a resident ID only for some 证件类型: say which, from the types seen."""
    placed = asm.placed.get(("person", "", "resident_id"))
    if asm.id_type is None or placed is None or placed.column is None:
        return
    kinds = set(resident_id_documents())
    table = code_table("ga_t_517")
    codes = asm.profiles[asm.id_type].codes or []
    seen = [c for c in codes if table.lookup(c) in kinds]
    kinds_seen = {table.lookup(c) for c in seen}
    values = seen + [name for name in ("居民身份证", "户口簿") if table.lookup(name) not in kinds_seen]
    placed.extra["when"] = Condition.model_validate({"column": asm.id_type, "in": values}).describe()
    others = [c for c in codes if table.lookup(c) not in kinds]
    placed.evidence += f"; only where {asm.id_type} is a resident-ID document" + (
        f" (not {', '.join(others[:4])})" if others else "")


def _date_order(asm: Assembly) -> tuple[dict[str, Any] | None, str]:
    for (entity, _, attribute), placed in asm.placed.items():
        meta = schemas.attribute_spec(entity, attribute)
        if placed.column and meta is not None and meta.normalizer in _DATE_ATTRS:
            share = asm.profiles[placed.column].share("date_dmy_only")
            if share >= 0.05:
                return {"order": "dmy"}, f"{placed.column}: {round(100 * share)} % of dates only read day first"
    return None, ""


def _situation_types(asm: Assembly, context: list[str], unplaced: list[tuple[str, str]]) -> None:
    for entity, role in sorted(asm.entities):
        key = ("situation", role, "situation_type")
        if entity != "situation" or not asm.free(key):
            continue
        found = situation_from_context(context)
        if found is not None:
            asm.placed[key] = Placed(key, 0.7, f"the source is called {' / '.join(c for c in context if c)!r}",
                                     const=found)
        else:
            unplaced.append(("(situation_type)", "no column or title tells the kind of situation: add a const"))


def _unique_together(sample: Sample, columns: tuple[str, ...]) -> bool:
    """The columns, read together, are filled in every sampled row and tell every row apart."""
    keys = [tuple(v if isinstance(v, (str, int, float)) or v is None else repr(v) for v in map(row.get, columns))
            for row in sample.rows]
    return len(set(keys)) == len(keys) and not any(is_blank(v) for key in keys for v in key)


COMBINED_UP_TO = 3
"""Columns a record id may combine when no single column is unique in the sample."""
COMBINED_AMONG = 16
"""Columns (the first filled, non-personal ones) searched for a unique triple: pairs are searched among all."""


def _unique_combination(sample: Sample, columns: list[str]) -> tuple[str, ...] | None:
    """The first pair, then triple, of columns that is unique in the sample (fewest columns first)."""
    for size in range(2, COMBINED_UP_TO + 1):
        among = columns if size == 2 else columns[:COMBINED_AMONG]
        for combination in combinations(among, size):
            if _unique_together(sample, combination):
                return combination
    return None


def _record_id(asm: Assembly, ref: SourceRef, sample: Sample, sheets: bool) -> tuple[list[str], str]:
    """Record ids are stored and logged in clear: never a column that is or carries an ID number or a phone.

    And a record id must tell the rows of an extract apart (ingest quarantines a repeat): never a column, or
    set of columns, that repeats in the sample. The table's primary key is unique by construction."""
    personal = {c for c, p in asm.profiles.items() if p.share(*PERSONAL_KINDS) >= 0.3}
    for column in personal & {c for c, _, _ in asm.record_ids}:
        asm.lost.setdefault(column, "identifies a record but carries resident ID numbers or phones, and record "
                                    "ids are stored in clear: not used as the record id")
    unique = {c for c, p in asm.profiles.items() if p.unique and c not in personal}
    totals = _total_rows(sample)
    if totals:                # a 合计 or 制表人 line under the data fills no id: the ids above still tell rows apart
        unique |= {c for c in asm.profiles if c not in personal and _unique_beside(sample, c, totals)}
    n = max((p.rows for p in asm.profiles.values()), default=0)
    if ref.keys and all(k in asm.profiles and k not in personal for k in ref.keys):
        return list(ref.keys), "the table's primary key"
    prefix = ["_sheet"] if sheets else []
    sheet_note = "; _sheet: rows are numbered per sheet" if sheets else ""
    counts = {c for c in asm.profiles if _running_count(sample, c, totals)}
    timely = {c for c, p in asm.profiles.items() if p.share("date", "datetime", "excel_serial", "address") >= 0.5}
    named = {c for c, _, _ in asm.record_ids}
    business = [c for c, p in asm.profiles.items() if c in unique and c not in counts | timely | set(asm.consumed)
                and (c in named or (p.share("system_code", "number") >= 0.8 and p.share("long") >= 0.8))]
    for column in counts & named if business else set():
        asm.lost.setdefault(column, "a row number (1, 2, 3 …): it names no record, and another column identifies one")
    main = [p.column for k, p in asm.placed.items()
            if k == ("organization", "", "credit_code") and p.column in unique]
    if main and ("person", "") not in asm.entities:
        return [*prefix, main[0]], f"the credit code of the organization the row is about{sheet_note}"
    for column, _, weak in sorted(asm.record_ids, key=lambda r: (r[0] in counts, r[2], r[0] in asm.consumed, -r[1])):
        if column in counts and business:
            break       # a row number, while another column identifies the record whatever the export's order
        if column in unique or (sheets and weak and _unique_together(sample, ("_sheet", column))):
            why = ("a row number: stable only while the export keeps its order" if column in counts
                   else f"an identifier, unique and filled in {n} sampled rows")
            return [*prefix, column], why + sheet_note
    strong = [p.column for k, p in asm.placed.items() if p.column in unique and k[2] == "credit_code"]
    others = sorted((c for c in asm.profiles if c in unique and c not in timely),
                    key=lambda c: (c in counts, c not in business))
    if strong or others:
        return [*prefix, (strong or others)[0]], f"unique and filled in {n} sampled rows; check it identifies a " \
                                                  f"record{sheet_note}"
    filled = [c for c, p in asm.profiles.items() if c not in personal and p.filled == p.rows and p.rows]
    combined = _unique_combination(sample, [*prefix, *filled] if sheets else filled)
    if combined is not None:
        return list(combined), (f"no column is unique in the {n} sampled rows; these {len(combined)} together are: "
                                "check they identify a record")
    return [CHOOSE_RECORD_ID], (f"NO column or set of up to {COMBINED_UP_TO} columns is unique in the {n} sampled "
                                "rows (rows repeat): name the column(s) that identify a record")


def _running_count(sample: Sample, column: str, skipped: Collection[int] = ()) -> bool:
    """The column counts the rows (1, 2, 3 …, per sheet): a row number, not a business id such as MZ2024…

    A row number names no record: it changes when the export is sorted or filtered, so any other column that
    tells the rows apart (对象识别号, insuree_no) is the record id before it, whatever its header says."""
    values = [str(v).strip().removesuffix(".0") for i, v in enumerate(sample.values(column))
              if i not in skipped and not is_blank(v) and not _TOTAL.fullmatch(str(v).strip())]
    if len(values) < 3 or not all(v.isdigit() for v in values):
        return False
    numbers = sorted(int(v) for v in values)
    return numbers[-1] - numbers[0] < 2 * len(numbers) and numbers[0] <= 1 + len(numbers)


_TOTAL = re.compile(r"(合\s*计|总\s*计|小\s*计|共\s*计|总数|total|subtotal|sum)[:：]?", re.IGNORECASE)
"""The word a totals row under the data starts with (合计, 总计, Total)."""


def _total_rows(sample: Sample) -> set[int]:
    """Rows that are a line under the data, in the last rows of the sample: a totals line (合计 in some cell), or
    a line that fills one or two cells of a wide table whose rows fill most (制表人：… 审核人：…, a note)."""
    rows = sample.rows
    tail = range(max(0, len(rows) - 3), len(rows))
    width = len(sample.columns)
    filled = [sum(1 for v in row.values() if not is_blank(v)) for row in rows]
    typical = sorted(filled)[len(filled) // 2] if filled else 0
    sparse = {i for i in tail if width >= 6 and filled[i] <= 2 < typical and 2 * typical >= width}
    return sparse | {i for i in tail if any(isinstance(v, str) and _TOTAL.fullmatch(v.strip())
                                            for v in rows[i].values())}


def _unique_beside(sample: Sample, column: str, skipped: set[int]) -> bool:
    """The column is filled and unique on every row but the skipped ones (a totals line)."""
    values = [str(v).strip() for i, v in enumerate(sample.values(column)) if i not in skipped]
    return len(values) > 1 and all(values) and not any(is_blank(v) for v in values) and len(set(values)) == len(values)


CHOOSE_RECORD_ID = "CHOOSE_THE_RECORD_ID"
"""The record id of a draft whose sample no column set tells apart: `hub mappings check` fails until replaced."""


def _department(asm: Assembly, context: list[str], given: str | None) -> tuple[str, str]:
    if given:
        return given, ""
    texts = [*asm.profiles, *(p.comment or "" for p in asm.profiles.values()), *context]
    scores = department_scores(texts)
    best = max(scores, key=lambda d: scores[d])
    if scores[best] == 0:
        return "grid", "guessed nothing from headers or title: set the department"
    return best, f"guessed from headers and title ({scores[best]} hints)"


def _unplaced(asm: Assembly, used: set[str]) -> list[tuple[str, str]]:
    """Columns the draft does not read, each with the reason, for the operator."""
    out = []
    for column, p in asm.profiles.items():
        if column in asm.consumed or column in used:
            continue
        if column in asm.lost:
            out.append((column, asm.lost[column]))
            continue
        if any(c.target.kind == "record_id" for c in asm.candidates[column]):
            out.append((column, "an identifier or row number, but another column was chosen as the record id"))
            continue
        best = next((c for c in asm.candidates[column] if c.target.kind not in ("record_id", "cursor")), None)
        if best is not None and best.confidence < PLACE_AT:
            out.append((column, f"best guess {best.target} ({best.confidence:.2f}): {'; '.join(best.evidence)}"))
        elif best is not None and best.target.entity is not None:
            out.append((column, f"{best.target} would fit, but nothing else in the row describes a "
                                f"{best.target.entity}, so it was left out"))
        elif best is not None:
            out.append((column, f"it looks like {best.target}, but another column was taken for that"))
        else:
            kinds = sorted(p.shares.items(), key=lambda kv: -kv[1])[:2]
            shape = ", ".join(f"{round(100 * s)} % {k}" for k, s in kinds if s >= 0.3) or "no recognised shape"
            out.append((column, "empty in the sample" if p.empty else f"header not in the dictionary; values: {shape}"))
    return out


def suggest_mapping(ref: SourceRef, sample: Sample, *, source_id: str | None = None, department: str | None = None,
                    district_code: str | None = None, title: str | None = None) -> Draft:
    """A draft mapping for the sampled source (render it with `hub.onboard.draft.render`)."""
    columns = [c for c in sample.columns if c != "_sheet"]
    profiles = {c: profile(c, sample.values(c), source_type=sample.types.get(c), comment=ref.comments.get(c))
                for c in columns}
    births = _birth_match(sample, profiles)
    asm = Assembly(profiles, {c: column_candidates(profiles[c], birth_match=births.get(c, 0.0)) for c in columns})
    asm.organization_columns = organization_table_columns(str(ref.settings.get("query") or ""))
    asm.run()
    context = [title or "", ref.title, ref.label, *(str(v) for v in ref.settings.get("params", {}).values())]
    unplaced: list[tuple[str, str]] = []
    dept, dept_note = _department(asm, context, department)
    house_parts_from_values(asm, sample)
    one_situation(asm)
    dated_by_the_row(asm)
    organization_centred(asm, sample)
    organization_roles(asm, dept)
    registered_house(asm)
    founding_or_registration(asm)
    placeholders(asm, sample)
    _situation_types(asm, context, unplaced)
    for entity, role in sorted(asm.entities):
        key = ("house", role, "district_code")
        if district_code and entity == "house" and role != "registered" and asm.free(key):   # 户籍 may be anywhere
            asm.placed[key] = Placed(key, 0.9, "the district this hub serves (--district-code)", const=district_code)
    _maps(asm)
    _identity_condition(asm)
    dates, dates_note = _date_order(asm)
    consts = {k: p.const for k, p in asm.placed.items() if p.const is not None}
    names = entity_names(asm.entities, consts)
    sheets = ref.settings.get("sheet") == "*"
    record_id, record_note = _record_id(asm, ref, sample, sheets)
    settings = dict(ref.settings)
    used = set(record_id)
    if ref.kind == "sql":
        cursor = next((c for c, _ in sorted(asm.cursors, key=lambda x: -x[1])
                       if profiles[c].share("date", "datetime") >= 0.8), None)
        if cursor:
            settings["cursor"] = cursor
            used.add(cursor)
        settings["key"] = [c for c in record_id if c != "_sheet"]
    if "incremental" in settings:
        used.add(str(settings["incremental"]["field"]))
    entities = draft_entities(asm, names)
    authority = [f"{e.type}.{f.attribute}" for e in entities for f in e.fields
                 if (meta := schemas.attribute_spec(e.type, f.attribute)) is not None
                 and dept in {d.value for d in meta.authority}]
    connector: dict[str, Any] = {"kind": ref.kind, "settings": settings}
    if ref.connection_name:
        connector["connection"] = ref.connection_name
    notes = {"source": "" if source_id else "from the source's name", "department": dept_note,
             "settings": "; ".join(ref.notes.values()), "record_id": record_note, "dates": dates_note,
             "authority": f"schemas/ names {dept} authoritative for these" if authority else ""}
    tenure = None
    if asm.house_role is not None:
        tenure = (asm.house_role, [str(v) for v in asm.profiles[asm.house_role].codes or []])
    found, relation_notes = relations(names, context, tenure)
    return Draft(
        source=source_id or _slug(ref.label.rsplit(".", 1)[0]),
        department=dept,
        title=title or ref.title or ref.label.rsplit(".", 1)[0],
        connector=connector,
        record_id=record_id,
        entities=entities,
        relations=found,
        relation_notes=relation_notes,
        authority=list(dict.fromkeys(authority)),
        dates=dates,
        notes=notes,
        unplaced=unplaced + _unplaced(asm, used),
        columns=columns,
        origin=f"{ref.kind} source {ref.label} ({len(sample.rows)} rows sampled)",
    )
