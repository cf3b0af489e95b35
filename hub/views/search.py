"""Search and listing over the read model: candidates by exact or prefix lookups on pub_key, then ranking.

A query never scans a table: every criterion becomes (kind, key) lookups on the (kind, key) index, exact or a
prefix range, capped; identifiers are normalized and tokenized first, so a resident ID or phone is looked up by
its vault token and never appears in a query. Candidates are then scored with rapidfuzz against the names and
pinyin they are indexed under. Several criteria narrow each other (an entity must match all of them).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from rapidfuzz import fuzz

from hub.access.policy import Policy
from hub.normalize import normalize_phone, normalize_resident_id
from hub.publish.keys import (
    address_key,
    credit_code_key,
    latin_keys,
    name_key,
    org_name_key,
    person_name_keys,
)
from hub.store import tables
from hub.store.steps import Query, Steps, run_steps
from hub.views.entity import summaries
from hub.views.gather import constants, scoped_by, visible_at
from hub.views.reader import QueryError, Reader, decode_cursor, encode_cursor, in_scope, now_visible
from schemas.views import Disclosure, Page, SearchHit

CANDIDATES = 500
"""Most entities one lookup returns; a prefix as wide as a common surname is cut here, then ranked."""
MIN_SCORE = 60.0
MAX_LIMIT = 200
_END = "\U0010ffff"

Lookup = tuple[str, str, bool]
"""(kind, key, prefix?)."""


RANK_KINDS = ("name", "pinyin", "initials", "translit", "address", "org_name")
"""The search keys a ranked criterion scores its candidates by."""


@functools.lru_cache(maxsize=512)
def _candidate_statement(entity_type: str, scoped: bool, ranked: bool,
                         shape: tuple[tuple[str, bool], ...]) -> sa.Select[Any]:
    """The candidates query for lookups of this shape ((kind, prefix?) each; their keys bound as key_<i>, a
    prefix's end as end_<i>), built once: a request binds its keys instead of building the SQL again."""
    k = tables.pub_key
    matches = [(k.c.kind == constants([kind])[0])
               & ((k.c.key >= sa.bindparam(f"key_{i}")) & (k.c.key < sa.bindparam(f"end_{i}")) if prefix
                  else k.c.key == sa.bindparam(f"key_{i}"))
               for i, (kind, prefix) in enumerate(shape)]
    found = (sa.select(k.c.entity_id).where(sa.or_(*matches), k.c.entity_type == constants([entity_type])[0],
                                            visible_at(k), scoped_by(k.c.entity_id, scoped))
             .distinct().limit(CANDIDATES * len(matches)))
    if not ranked:
        return found
    return sa.select(k.c.entity_id, k.c.kind, k.c.key).where(
        k.c.entity_id.in_(found.scalar_subquery()), k.c.kind.in_(constants(RANK_KINDS)), visible_at(k))


def _candidates(reader: Reader, policy: Policy, entity_type: str, lookups: list[Lookup],
                ranked: bool) -> Steps[dict[str, list[tuple[str, str]]]]:
    """Entities having any of the keys, each lookup an index range of (kind, key); for a ranked criterion
    with their search keys to score, read in the same query (one round trip, however many candidates)."""
    unique = list(dict.fromkeys(lookups))
    params: dict[str, Any] = {"version": reader.version}
    if policy.scope is not None:
        params["scope"] = sorted(policy.scope)
    for i, (_kind, key, prefix) in enumerate(unique):
        params[f"key_{i}"] = key
        if prefix:
            params[f"end_{i}"] = key + _END
    statement = _candidate_statement(entity_type, policy.scope is not None, ranked,
                                     tuple((kind, prefix) for kind, _key, prefix in unique))
    rows = yield Query(statement, params)
    if not ranked:
        return {row.entity_id: [] for row in rows}
    out: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        out.setdefault(row.entity_id, []).append((row.kind, row.key))
    return out


def _identifier(policy: Policy, entity_type: str, attribute: str, raw: str,
                normalize: Callable[[Any], Any], reader: Reader) -> list[Lookup]:
    if not policy.allows_field(entity_type, attribute):
        raise QueryError(f"this caller may not search {entity_type}s by {attribute}")
    normalized = normalize(raw)
    if not normalized.ok:
        raise QueryError(f"{attribute}: {normalized.reason or 'not a valid value'}")
    return [(attribute, reader.vault.token(normalized.value), False)]


def _name_lookups(entity_type: str, name: str) -> tuple[list[Lookup], Callable[[list[tuple[str, str]]], float]]:
    """Lookups for a name, and the scorer of a candidate's (kind, key) list against it."""
    if entity_type == "organization":
        key = org_name_key(name)
        if key is None:
            raise QueryError("name: no letters to search for")
        lookups = [("org_name", key, True)] + ([("org_name", key[:2], True)] if len(key) > 2 else [])

        def score_org(keys: list[tuple[str, str]]) -> float:
            names = [k for kind, k in keys if kind == "org_name"]
            whole = max(names, key=len) if names else ""
            return max(fuzz.ratio(key, whole), max((fuzz.ratio(key, n[:len(key)]) for n in names), default=0.0) * 0.95)
        return lookups, score_org
    latin = latin_keys(name)
    if latin:
        text = latin[0][1]
        lookups = [(kind, key, kind == "pinyin") for kind, key in latin]

        def score_latin(keys: list[tuple[str, str]]) -> float:
            best = [fuzz.ratio(text, k) for kind, k in keys if kind in ("pinyin", "initials", "name")]
            best += [0.95 * fuzz.ratio(latin[1][1], k) for kind, k in keys if kind == "translit"]
            return max(best or [0.0])
        return lookups, score_latin
    keys = person_name_keys(name)
    if not keys:
        raise QueryError("name: no letters to search for")
    query_name = name_key(name) or ""
    lookups = [(kind, key, False) for kind, key in keys if kind != "initials"]
    if len(query_name) >= 2:
        lookups.append(("name", query_name[:2], True))     # a typo in the given name: surname and next character
    wanted = dict(keys)

    def score_name(candidate: list[tuple[str, str]]) -> float:
        best = [fuzz.ratio(query_name, k) for kind, k in candidate if kind == "name"]
        best += [95.0 * (k == wanted.get("pinyin")) or 0.9 * fuzz.ratio(wanted.get("pinyin", ""), k)
                 for kind, k in candidate if kind == "pinyin"]
        best += [88.0 for kind, k in candidate if kind == "translit" and k == wanted.get("translit")]
        return max(best or [0.0])
    return lookups, score_name


def search(reader: Reader, policy: Policy, entity_type: str, *, name: str | None = None,
           resident_id: str | None = None, phone: str | None = None, address: str | None = None,
           credit_code: str | None = None, limit: int = 20, cursor: str | None = None) -> Page:
    """`search_steps` on the reader's connection."""
    return run_steps(reader.conn, search_steps(reader, policy, entity_type, name=name, resident_id=resident_id,
                                               phone=phone, address=address, credit_code=credit_code, limit=limit,
                                               cursor=cursor))


def search_steps(reader: Reader, policy: Policy, entity_type: str, *, name: str | None = None,
                 resident_id: str | None = None, phone: str | None = None, address: str | None = None,
                 credit_code: str | None = None, limit: int = 20, cursor: str | None = None) -> Steps[Page]:
    """Entities of `entity_type` matching every criterion given, best first, with a score (0–100).

    resident_id / phone: normalized, then looked up by token (persons); name: persons by name, pinyin,
    initials and transliteration keys with typo tolerance, organizations by name; address: houses, persons
    (residence or hukou address) and organizations by normalized address prefix; credit_code: organizations.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    start = int((decode_cursor(cursor, "search") or {}).get("o", 0))
    disclosed = Disclosure()
    if not policy.allows_type(entity_type):
        return Page(version=reader.version, disclosed=disclosed)
    criteria: list[tuple[dict[str, list[tuple[str, str]]], Callable[[list[tuple[str, str]]], float] | None]] = []
    if resident_id:
        criteria.append(((yield from _candidates(reader, policy, entity_type, _identifier(
            policy, entity_type, "resident_id", resident_id, normalize_resident_id, reader), False)), None))
    if phone:
        criteria.append(((yield from _candidates(reader, policy, entity_type, _identifier(
            policy, entity_type, "phone", phone, normalize_phone, reader), False)), None))
    if credit_code:
        key = credit_code_key(credit_code)
        if key is None:
            raise QueryError("credit_code: not a valid unified social credit code")
        criteria.append(((yield from _candidates(reader, policy, entity_type, [("credit_code", key, False)], False)),
                         None))
    if address:
        key = address_key(address)
        if key is None:
            raise QueryError("address: nothing to search for")

        def score_address(keys: list[tuple[str, str]], query: str = key) -> float:
            return max([fuzz.ratio(query, k[:len(query)]) * 0.5 + fuzz.ratio(query, k) * 0.5
                        for kind, k in keys if kind == "address"] or [0.0])
        criteria.append(((yield from _candidates(reader, policy, entity_type, [("address", key, True)], True)),
                         score_address))
    if name:
        lookups, scorer = _name_lookups(entity_type, name)
        criteria.append(((yield from _candidates(reader, policy, entity_type, lookups, True)), scorer))
    if not criteria:
        raise QueryError("give at least one of name, resident_id, phone, address, credit_code")
    ids = set.intersection(*(set(found) for found, _ in criteria))
    scored = []
    for entity_id in ids:
        parts = [100.0 if scorer is None else scorer(found.get(entity_id, [])) for found, scorer in criteria]
        score = sum(parts) / len(parts)
        if score >= MIN_SCORE:
            scored.append((round(score, 1), entity_id))
    scored.sort(key=lambda item: (-item[0], item[1]))
    page = scored[start:start + limit]
    hits = yield from _hits(reader, policy, entity_type, page, disclosed)
    after = start + limit
    return Page(items=hits, version=reader.version, disclosed=disclosed,
                next_cursor=encode_cursor({"k": "search", "o": after}) if after < len(scored) else None)


def _hits(reader: Reader, policy: Policy, entity_type: str, page: list[tuple[float, str]],
          disclosed: Disclosure) -> Steps[list[SearchHit]]:
    ids = [entity_id for _, entity_id in page]
    labels, values = yield from summaries(reader, policy, ids, disclosed)
    for entity_id in ids:
        disclosed.add(entity_id)
    return [SearchHit(id=entity_id, entity_type=entity_type, score=score, label=labels.get(entity_id),
                      values=values.get(entity_id, {})) for score, entity_id in page]


def list_entities(reader: Reader, policy: Policy, entity_type: str, *, community: str | None = None,
                  updated_since: datetime | None = None, limit: int = 50, cursor: str | None = None) -> Page:
    """`list_entities_steps` on the reader's connection."""
    return run_steps(reader.conn, list_entities_steps(reader, policy, entity_type, community=community,
                                                      updated_since=updated_since, limit=limit, cursor=cursor))


def list_entities_steps(reader: Reader, policy: Policy, entity_type: str, *, community: str | None = None,
                        updated_since: datetime | None = None, limit: int = 50, cursor: str | None = None,
                        ) -> Steps[Page]:
    """Active entities of a type in id order, a page at a time (keyset cursor); `community`: a community or
    grid place id, or its name; `updated_since`: changed at or after that time."""
    limit = max(1, min(limit, MAX_LIMIT))
    after = (decode_cursor(cursor, "list") or {}).get("a")
    disclosed = Disclosure()
    if not policy.allows_type(entity_type):
        return Page(version=reader.version, disclosed=disclosed)
    e, s = tables.pub_entity, tables.pub_scope
    query = (sa.select(e.c.entity_id).where(e.c.entity_type == entity_type, e.c.state == "active",
                                            now_visible(reader, e), in_scope(reader, policy, e.c.entity_id))
             .order_by(e.c.entity_id).limit(limit + 1))
    if after is not None:
        query = query.where(e.c.entity_id > str(after))
    if updated_since is not None:
        query = query.where(e.c.updated_at >= updated_since)
    if community is not None:
        query = query.where(sa.exists(sa.select(1).select_from(s).where(
            s.c.entity_id == e.c.entity_id, now_visible(reader, s),
            sa.or_(s.c.place_id == community, s.c.name == community))))
    ids = [row.entity_id for row in (yield Query(query, reused=False))]
    more = len(ids) > limit
    ids = ids[:limit]
    hits = yield from _hits(reader, policy, entity_type, [(100.0, entity_id) for entity_id in ids], disclosed)
    return Page(items=hits, version=reader.version, disclosed=disclosed,
                next_cursor=encode_cursor({"k": "list", "a": ids[-1]}) if more else None)
