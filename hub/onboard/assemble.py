"""From per-column candidates to entities: who the row describes, and which column gives what.

Columns are placed best-first, each target at most once per entity; generic headers (状态, 类型,
登记日期) are placed only into entities other columns brought in; a free-text address becomes the
residence of the row's person together with the house it names; house parts (楼栋, 单元, 房号)
become the house's address by composition; constants implied by a column (a door-access device
means an access event) are filled in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import schemas
from hub.onboard.candidates import PLACE_AT, Candidate
from hub.onboard.detect import Profile
from hub.onboard.dictionary import Entry

EntityKey = tuple[str, str]             # (entity type, role)
AttrKey = tuple[str, str, str]          # (entity type, role, attribute)
HOUSE_PARTS = ("estate", "building", "unit", "floor", "room")


@dataclass
class Placed:
    """One attribute of one entity, from a column, a composite of columns or a constant."""

    key: AttrKey
    confidence: float
    evidence: str
    column: str | None = None
    parts: dict[str, str] | None = None
    const: str | None = None
    entry: Entry | None = None
    extra: dict[str, object] = field(default_factory=dict)   # map, when, normalize


@dataclass
class Assembly:
    profiles: dict[str, Profile]
    candidates: dict[str, list[Candidate]]
    placed: dict[AttrKey, Placed] = field(default_factory=dict)
    consumed: dict[str, str] = field(default_factory=dict)      # column → what it became
    record_ids: list[tuple[str, float, bool]] = field(default_factory=list)   # (column, confidence, weak)
    cursors: list[tuple[str, float]] = field(default_factory=list)
    id_type: str | None = None
    address: Candidate | None = None
    address_column: str | None = None
    name_parts: dict[str, str] = field(default_factory=dict)
    lost: dict[str, str] = field(default_factory=dict)          # column → why its best target went elsewhere
    local_ids: dict[EntityKey, dict[str, tuple[str, str]]] = field(default_factory=dict)  # name → (column, evidence)
    house_role: str | None = None                               # 业主 / 租户: decides owns or rents
    placeholders: dict[str, list[str]] = field(default_factory=dict)   # column → values that are no organization
    organization_columns: set[str] = field(default_factory=set)   # a query's columns from an organization table

    @property
    def entities(self) -> set[EntityKey]:
        found = {(t, r) for t, r, _ in self.placed} | set(self.local_ids)
        if self.name_parts:
            found.add(("person", ""))
        return found

    def place(self, column: str | None, candidate: Candidate, key: AttrKey, **extra: object) -> None:
        self.placed[key] = Placed(key, candidate.confidence, "; ".join(candidate.evidence), column,
                                  entry=candidate.entry, extra=dict(extra))
        if column is not None:
            self.consumed.setdefault(column, ".".join(k for k in (key[0], key[2]) if k))

    def free(self, key: AttrKey) -> bool:
        return key not in self.placed

    def rekey(self, old: EntityKey, new: EntityKey, why: str) -> None:
        """Move what was placed into one entity to another (an organization whose role the row decides)."""
        for key in [k for k in self.placed if (k[0], k[1]) == old]:
            target = (new[0], new[1], key[2])
            if self.free(target):
                placed = self.placed.pop(key)
                placed.key, placed.evidence = target, f"{placed.evidence}; {why}".lstrip("; ")
                self.placed[target] = placed
        if old in self.local_ids:
            moved = self.local_ids.pop(old)
            self.local_ids.setdefault(new, {}).update({k: v for k, v in moved.items()
                                                       if k not in self.local_ids.get(new, {})})

    def _try(self, column: str, candidate: Candidate, *, weak_ok: bool) -> bool:
        """Place one candidate if its target is free; True when the column is used up."""
        t = candidate.target
        if t.kind == "record_id":
            self.record_ids.append((column, candidate.confidence, candidate.weak))
            return False
        if t.kind == "cursor":
            self.cursors.append((column, candidate.confidence))
            return False
        if candidate.weak and not weak_ok:
            return False
        if t.kind == "unmapped":
            self.lost.setdefault(column, candidate.entry.note if candidate.entry else "no canonical attribute")
            return True
        if t.kind == "id_type":
            if self.id_type is None:
                self.id_type = column
                self.consumed[column] = "id_type"
                return True
            return False
        if t.kind == "address":
            if self.address is None:
                self.address, self.address_column = candidate, column
                self.consumed[column] = "address"
                return True
            return False
        if t.kind == "house_role":
            if self.house_role is None:
                self.house_role = column
                self.consumed[column] = "house_role"
                return True
            return False
        if t.kind == "local_id":
            assert t.entity is not None and t.attribute is not None
            ids = self.local_ids.setdefault((t.entity, t.role), {})
            if t.attribute in ids:
                return False
            ids[t.attribute] = (column, "; ".join(candidate.evidence))
            self.consumed[column] = f"{t.entity} local id {t.attribute}"
            return True
        if t.kind == "name_part":
            if t.role not in self.name_parts:
                self.name_parts[t.role] = column
                self.consumed[column] = f"name part {t.role}"
                return True
            return False
        assert t.entity is not None and t.attribute is not None
        key = (t.entity, t.role, t.attribute)
        if candidate.weak and (t.entity, t.role) not in self.entities:
            roles = [r for e, r in self.entities if e == t.entity]
            if len(roles) != 1:          # a generic header (状态) joins the row's one entity of its type, if any
                return False
            key = (t.entity, roles[0], t.attribute)
        if not self.free(key):
            self.lost.setdefault(column, f"also looks like {t} ({candidate.confidence:.2f}), which column "
                                         f"{self.placed[key].column!r} gives")
            return False
        self.place(column, candidate, key)
        return True

    def run(self) -> None:
        order = sorted(self.candidates, key=lambda c: -max((x.confidence for x in self.candidates[c]), default=0))
        # a generic header's column (供养方式: a weak level) waits for its values' guess until the columns that
        # name a target outright have had theirs (救助类型名称: the situation type)
        strong = sorted(self.candidates, key=lambda c: -max((x.confidence for x in self.candidates[c] if not x.weak
                                                             or x.target.kind in ("record_id", "cursor")), default=0))
        for column in strong:                # strong headers and values create the entities
            for candidate in self.candidates[column]:
                if candidate.confidence < PLACE_AT:
                    break
                if candidate.target.kind in ("record_id", "cursor"):
                    self._try(column, candidate, weak_ok=True)
                elif not candidate.weak and self._try(column, candidate, weak_ok=False):
                    break
        self._resolve_address()
        for column in order:                 # generic headers join the entities already there
            if column in self.consumed:
                continue
            for candidate in self.candidates[column]:
                if candidate.confidence < PLACE_AT:
                    break
                if (candidate.weak and candidate.target.kind not in ("record_id", "cursor")
                        and self._try(column, candidate, weak_ok=True)):
                    break
        self._compose_name()
        self._compose_house_address()
        self._also()
        self._implied()

    def _resolve_address(self) -> None:
        """A free-text address: the person's residence and the house it names; else the organization's."""
        if self.address is None or self.address_column is None:
            return
        column, candidate = self.address_column, self.address
        has = self.entities
        if column in self.organization_columns and ("organization", "") in has:
            targets = [("organization", "", "address")]   # read from the organization's table of a query
        elif (("person", "") in has or self.name_parts) and self.house_role is not None:
            targets = [("house", "", "address")]       # the house a person owns or rents: not always their home
        elif ("person", "") in has or self.name_parts:
            targets = [("person", "", "residence_address"), ("house", "", "address")]
        elif ("organization", "") in has:
            targets = [("organization", "", "address")]
        else:
            targets = [("house", "", "address")]
        for key in targets:
            if self.free(key):
                self.place(column, candidate, key)
                self.consumed[column] = "address"

    def _compose_name(self) -> None:
        key = ("person", "", "name")
        if self.name_parts and self.free(key):
            roles: tuple[str, ...] = ("surname", "given", "father")
            parts = {role: self.name_parts[role] for role in roles if role in self.name_parts}
            self.placed[key] = Placed(key, 0.8, f"composed from {' + '.join(parts.values())}", parts=parts)

    def _compose_house_address(self) -> None:
        key = ("house", "", "address")
        if ("house", "") not in self.entities:
            return
        if not self.free(key) and self.placed[key].parts is not None:
            del self.placed[key]          # composed again: a part was added since
        if not self.free(key):
            return
        parts = {p: self.placed[("house", "", p)].column or "" for p in HOUSE_PARTS if ("house", "", p) in self.placed}
        if len(parts) >= 2 and set(parts) & {"building", "unit", "room"}:
            confidence = min(self.placed[("house", "", p)].confidence for p in parts)
            self.placed[key] = Placed(key, confidence, f"composed from {' + '.join(parts.values())} (bare numbers "
                                      "get 号楼, 单元, 室)", parts={p: c for p, c in parts.items() if c})

    def _also(self) -> None:
        for placed in list(self.placed.values()):
            if placed.entry is None or placed.column is None:
                continue
            for t in placed.entry.also:
                assert t.entity is not None and t.attribute is not None
                key = (t.entity, t.role, t.attribute)
                if (t.entity, t.role) in self.entities and self.free(key):
                    self.placed[key] = Placed(key, placed.confidence, f"the same column as {placed.key[2]}",
                                              placed.column)

    def _implied(self) -> None:
        for placed in list(self.placed.values()):
            if placed.entry is None:
                continue
            entity, role, _ = placed.key
            for attribute, value in placed.entry.implies.items():
                key = (entity, role, attribute)
                if self.free(key):
                    self.placed[key] = Placed(key, placed.confidence, f"implied by column {placed.column!r}",
                                              const=value)


def attribute_order(entity_type: str) -> list[str]:
    return list(schemas.attributes(entity_type))
