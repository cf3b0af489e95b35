"""Who a row's entities are to each other, decided after the columns are placed.

An organization in a person's row is a care institution, a property company or an employer (by the columns
that name it, else by the department); the values of its name column that name no organization become its
condition; the household-register address is also the house the person is registered at; a registration time
dates an organization's founding where the row is an organization's; a start date belongs to the row's one
situation; where a row has parts of a house, unplaced columns whose values are the missing parts join them; a
query's columns read from an organization's table (金保 AB01) are the organization's.
"""

from __future__ import annotations

import re

from hub.normalize.base import is_blank
from hub.onboard.assemble import HOUSE_PARTS, Assembly, Placed
from hub.onboard.candidates import _ORGANIZATION_NAME, PLACE_AT
from hub.onboard.sample import Sample
from hub.onboard.vocab import not_organizations

_ORGANIZATION_TABLES = re.compile(r"^(AB\d\d|.*(单位|企业|机构|组织|org|company|employer|unit).*)$", re.IGNORECASE)
_FROM = re.compile(r"\b(?:FROM|JOIN)\s+([\w.]+)(?:\s+(?:AS\s+)?(?!ON\b|WHERE\b|LEFT\b|JOIN\b|INNER\b)(\w+))?",
                   re.IGNORECASE)


def organization_table_columns(query: str) -> set[str]:
    """Columns a query reads from an organization's table (金保 AB01, a 单位 table): `b.AAE006` of
    `… JOIN AB01 b` is the employer's address, not the person's."""
    tables = {(alias or table).lower(): table.rsplit(".", 1)[-1] for table, alias in _FROM.findall(query)}
    return {column for alias, column in re.findall(r"\b(\w+)\.(\w+)\b", query)
            if _ORGANIZATION_TABLES.match(tables.get(alias.lower(), ""))}


_DEPARTMENT_ORGANIZATIONS = {"civil_affairs": "care_home", "property": "property_company"}
"""The organization a person's row names in a department's export: the care institution of a welfare roster,
the property company of a property export; anywhere else (social insurance first) the employer."""


def organization_roles(asm: Assembly, department: str) -> None:
    """An organization in a person's row gets its role from the columns that name it (供养机构, 物业公司), else
    from the department; columns that only said "an organization" (a credit code) join it."""
    if ("person", "") not in asm.entities or ("person", "representative") in asm.entities:
        return
    roles = {r for t, r in asm.entities if t == "organization"}
    named = sorted(roles - {""})
    if "" not in roles:
        return
    role = named[0] if len(named) == 1 else _DEPARTMENT_ORGANIZATIONS.get(department, "employer")
    why = (f"with the {role} the row's other columns name" if named else
           f"the organization in a {department} export's person row is the {role.replace('_', ' ')}")
    asm.rekey(("organization", ""), ("organization", role), why)


_ESTATE_WORDS = re.compile(r"(花园|花苑|小区|家园|雅居|苑|园|公寓|新村|府邸|府|大厦|新城|天地|山庄|广场|名都|佳园)$")


def _numbers(sample: Sample, column: str) -> list[int] | None:
    values = [str(v).strip().removesuffix(".0") for v in sample.values(column) if not is_blank(v)]
    if not values or not all(v.isdigit() and len(v) <= 4 for v in values):
        return None
    return [int(v) for v in values]


def house_parts_from_values(asm: Assembly, sample: Sample) -> None:
    """Where a row already has parts of a house (楼栋 found by its header), columns nobody placed whose values
    are the missing parts: room numbers (1502, 301: floor and door), a handful of small numbers (单元), more of
    them (楼栋), estate names (…花园, …小区, …苑)."""
    have = {p for p in HOUSE_PARTS if ("house", "", p) in asm.placed}
    if not have & {"estate", "building", "unit", "room"}:
        return
    free = [c for c in asm.profiles if c not in asm.consumed and c not in {r for r, _, _ in asm.record_ids}]
    small: list[tuple[int, str]] = []
    for column in free:
        numbers = _numbers(sample, column)
        if numbers is None:
            texts = [str(v).strip() for v in sample.values(column) if not is_blank(v)]
            if ("estate" not in have and texts and sum(bool(_ESTATE_WORDS.search(t)) for t in texts) >= 0.8 * len(texts)
                    and len(set(texts)) < 0.5 * len(texts)):
                _place_part(asm, column, "estate", "its values are estate names")
                have.add("estate")
            continue
        rooms = sum(1 for n in numbers if 101 <= n <= 9999 and 1 <= n % 100 <= 8)
        if "room" not in have and rooms >= 0.9 * len(numbers):
            _place_part(asm, column, "room", "its values are room numbers (floor and door)")
            have.add("room")
        elif max(numbers) <= 99:
            small.append((max(numbers), column))
    for (_, column), part in zip(sorted(small), [p for p in ("unit", "building") if p not in have], strict=False):
        _place_part(asm, column, part, f"its values are small numbers, as a {part} number is")
    asm._compose_house_address()


def _place_part(asm: Assembly, column: str, part: str, why: str) -> None:
    key = ("house", "", part)
    asm.placed[key] = Placed(key, 0.6, f"header unknown, but the row has a house and {why}", column)
    asm.consumed[column] = f"house.{part}"


def one_situation(asm: Assembly) -> None:
    """Columns that only said "a situation" (a start date) belong to the one situation other columns named (the
    insurance whose status AAC008 gives), not to a second one."""
    roles = {r for t, r in asm.entities if t == "situation"}
    named = sorted(roles - {""})
    if "" in roles and len(named) == 1:
        asm.rekey(("situation", ""), ("situation", named[0]), f"the row's one situation is the {named[0]}")


def dated_by_the_row(asm: Assembly) -> None:
    """A start date that alone would make a situation (开始居住日期 in a property export: nothing else in the row
    is a welfare or insurance case) dates what its header also names, such as a move-in, when it can."""
    for entity, role in sorted(asm.entities):
        keys = [k for k in asm.placed if k[:2] == (entity, role)]
        start = asm.placed.get((entity, role, "start_date"))
        if entity != "situation" or start is None or start.column is None:
            continue
        if any(asm.placed[k].column not in (None, start.column) or asm.placed[k].parts for k in keys):
            continue
        event = next((c for c in asm.candidates[start.column] if c.confidence >= PLACE_AT
                      and c.target.entity == "event" and c.target.attribute == "occurred_at"), None)
        if event is None or not asm.free(("event", event.target.role, "occurred_at")):
            continue
        for k in keys:
            del asm.placed[k]
        asm.place(start.column, event, ("event", event.target.role, "occurred_at"))
        asm.placed[("event", event.target.role, "occurred_at")].evidence += (
            "; nothing else in the row makes it a situation's start")
        asm.consumed[start.column] = "event.occurred_at"


def registered_house(asm: Assembly) -> None:
    """The household-register address (户籍地址) names the house the person is registered at."""
    hukou = asm.placed.get(("person", "", "hukou_address"))
    key = ("house", "registered", "address")
    if hukou is None or hukou.column is None or not asm.free(key):
        return
    asm.placed[key] = Placed(key, hukou.confidence, f"{hukou.evidence}; the household-register address names the "
                             "house the person is registered at", hukou.column, entry=hukou.entry)


def founding_or_registration(asm: Assembly) -> None:
    """A registration time dates the person's registration (an event); in an organization's row, its founding."""
    if ("person", "") in asm.entities or asm.name_parts:
        return
    placed = asm.placed.get(("event", "registration", "occurred_at"))
    key = ("organization", "", "registered_on")
    if placed is None or ("organization", "") not in asm.entities or not asm.free(key):
        return
    for k in [k for k in asm.placed if k[:2] == ("event", "registration")]:
        del asm.placed[k]
    placed.key, placed.evidence = key, f"{placed.evidence}; the row is an organization's: its registration date"
    asm.placed[key] = placed


def placeholders(asm: Assembly, sample: Sample) -> None:
    """Values of an organization-name column that name no organization (灵活就业人员, 城乡居民)."""
    for (entity, _, attribute), placed in asm.placed.items():
        if entity == "organization" and attribute == "name" and placed.column is not None:
            seen = not_organizations(str(v).strip() for v in sample.values(placed.column) if not is_blank(v))
            if seen:
                asm.placeholders[placed.column] = seen


_MAIN_ORGANIZATION = ("name", "credit_code")
_ORGANIZATION_CONTACT = ("phone",)
_GUESSED_AT = 0.7
"""Below this a place was guessed from values under a header nobody knew."""


def _named_by_values(asm: Assembly, sample: Sample | None) -> str | None:
    """A column nobody placed whose values are mostly organizations' names, and many different ones (商户名称
    holding …便利店, …有限公司; chains repeat a name): the organization's name when its header was not known."""
    if sample is None:
        return None
    for column in asm.profiles:
        if column in asm.consumed:
            continue
        texts = [str(v).strip() for v in sample.values(column) if not is_blank(v)]
        if (len(texts) >= 5 and sum(bool(_ORGANIZATION_NAME.search(t)) for t in texts) >= 0.8 * len(texts)
                and len(set(texts)) >= max(5, 0.2 * len(texts))):
            return column
    return None


def organization_centred(asm: Assembly, sample: Sample | None = None) -> None:
    """A row identified by an organization (its name and credit code) whose only person is named by no column of
    their own is the organization's: a register of businesses, where the person is the operator or legal
    representative the organization names, not the row's subject. The person becomes the representative (named
    by the legal-representative column), the row's phone the organization's, and a house brought in only by a
    column whose header nobody knew (登记机关: an authority's address) is dropped."""
    org = [("organization", r) for t, r in asm.entities if t == "organization"]
    nameless = ("person", "", "name") not in asm.placed and not asm.name_parts
    column = _named_by_values(asm, sample) if nameless and len(org) == 1 and asm.free((*org[0], "name")) else None
    if column is not None:
        asm.placed[(*org[0], "name")] = Placed((*org[0], "name"), 0.7, "its values are organizations' names", column)
        asm.consumed[column] = "organization.name"
    if (("person", "") not in asm.entities or ("person", "", "name") in asm.placed or asm.name_parts
            or len(org) != 1 or not all(not asm.free((*org[0], a)) for a in _MAIN_ORGANIZATION)):
        return
    representative = asm.placed.get((*org[0], "legal_representative"))
    if representative is None or representative.column is None:
        return
    why = "the row is an organization's (its name and credit code identify it): the person is its representative"
    if org[0][1]:
        asm.rekey(org[0], ("organization", ""), why)
    for attribute in _ORGANIZATION_CONTACT:
        key = ("person", "", attribute)
        if key in asm.placed and asm.free(("organization", "", attribute)):
            placed = asm.placed.pop(key)
            placed.key, placed.evidence = ("organization", "", attribute), f"{placed.evidence}; {why}"
            asm.placed[placed.key] = placed
    for key in [k for k in asm.placed if (k[:2] == ("person", "") and k[2] == "residence_address")
                or k[:2] == ("house", "")]:
        if asm.placed[key].const is None and asm.placed[key].confidence < _GUESSED_AT:
            column = asm.placed.pop(key).column
            if column is not None and not any(p.column == column for p in asm.placed.values()):
                asm.consumed.pop(column, None)
    if not any(k[:2] == ("house", "") and p.const is None for k, p in asm.placed.items()):
        for key in [k for k in asm.placed if k[:2] == ("house", "")]:
            del asm.placed[key]
    asm.rekey(("person", ""), ("person", "representative"), why)
    asm.placed[("person", "representative", "name")] = Placed(
        ("person", "representative", "name"), representative.confidence,
        f"the organization's legal representative names its person; {why}", representative.column)
