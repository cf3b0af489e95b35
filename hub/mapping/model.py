"""The mapping language: one YAML file per department source, parsed into typed models.

A mapping says where a source lives (connector kind, settings, the name of its connection), which
columns identify a record, which canonical entities one row describes, how each column becomes a
canonical attribute (normalizer, value map or national code table, constant, default, composite of
several columns, condition on another column), how the entities of a row relate, how the source
writes dates, which attributes this source is authoritative for, and whether the file is still a
draft that `hub ingest` must leave alone. Nothing else in the hub is
edited to add a department. References to the canonical model (entity types, attributes,
predicates), to normalizers and to connector settings are checked by `hub.mapping.loader`, which
reports every problem with file and line. docs/mapping-reference.md documents every key;
schemas/mapping.schema.json is generated from these models for editors.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from hub.mapping.code_tables import CODE_TABLE_NAMES
from hub.mapping.conditions import Condition
from hub.mapping.nearest import suggest
from hub.mapping.parts import ADDRESS_ROLES, NAME_ROLES, ROLES

IDENT = r"^[a-z][a-z0-9_]*$"
SOURCE_ID_MAX = 64
"""Longest source id: the width of the `source` column of the store's run, raw and statement tables."""
WHEN_INPUT = str | Condition | list[str | Condition]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _conditions(value: Any) -> Any:
    """`when` as a list of conditions: one expression, one mapping, or a list of them (all must hold)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> Any:
    """YAML reads 1 and 1.5 as numbers; codes are text."""
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


class ConnectorSpec(Strict):
    """Where and how to read the source. Secrets never stand here: `connection` names them."""

    kind: str = Field(description="connector kind, e.g. sql, file, http (entry-point group hub.connectors)")
    connection: str | None = Field(
        default=None,
        pattern=IDENT,
        description="name of the connection (env HUB_CONN_<NAME>, the connections file, or an Airflow "
        "connection) that holds URLs and credentials",
    )
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="kind-specific settings, no secrets. file: path, format, encoding (auto detects), "
        "header_row (a number or auto), sheet (a name, an index or * for all); sql: table or query, cursor, "
        "key; http: path, params, records_path, pagination, auth, incremental",
    )

    @field_validator("settings")
    @classmethod
    def _no_secrets(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if key.lower() in {"password", "token", "secret", "api_key", "apikey"}:
                raise ValueError(f"setting {key!r} looks like a secret; put it in the connection instead")
        return value


class FieldSpec(Strict):
    """How one canonical attribute is read from a row: from exactly one of column, columns, parts, const."""

    column: str | None = Field(default=None, description="the source column")
    columns: list[str] | None = Field(default=None, description="several columns joined into one value")
    join: str = Field(default="", description="separator used with `columns`")
    parts: dict[str, str] | None = Field(
        default=None,
        description="a composite value: role → column. Address roles: " + ", ".join(ADDRESS_ROLES)
        + " (bare numbers get 号楼, 单元, 层, 室); name roles: " + ", ".join(NAME_ROLES)
        + " (姓+名 joined, given·father for transliterated names)",
    )
    const: str | None = Field(default=None, description="a constant value for every row")
    normalize: str | None = Field(default=None, description="normalizer name; default: the attribute's own")
    map: dict[str, str] | str | None = Field(
        default=None,
        description="value map applied to the raw text before normalizing (code → value), or the name of a "
        "shipped national code table: " + ", ".join(CODE_TABLE_NAMES),
    )
    default: str | None = Field(default=None, description="value used when the column is blank")
    when: list[Condition] = Field(
        default_factory=list,
        description="the field applies only to rows where this holds: an expression such as "
        "'证件类型 in (居民身份证, 户口簿)', a condition mapping, or a list of them (all must hold)",
    )

    _when = field_validator("when", mode="before", json_schema_input_type=WHEN_INPUT)(_conditions)

    @field_validator("const", "default", mode="before")
    @classmethod
    def _scalar(cls, value: Any) -> Any:
        return _text(value)

    @field_validator("map", mode="before")
    @classmethod
    def _map(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(_text(k)): _text(v) for k, v in value.items()}
        if isinstance(value, str) and value not in CODE_TABLE_NAMES:
            raise ValueError(f"unknown code table {value!r}{suggest(value, CODE_TABLE_NAMES)}; "
                             f"known: {', '.join(CODE_TABLE_NAMES)}")
        return value

    @field_validator("parts")
    @classmethod
    def _roles(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        for role in value:
            if role not in ROLES:
                raise ValueError(f"unknown part {role!r}{suggest(role, ROLES)}; address parts: "
                                 f"{', '.join(ADDRESS_ROLES)}; name parts: {', '.join(NAME_ROLES)}")
        if not value:
            raise ValueError("parts needs at least one role: column")
        if any(r in NAME_ROLES for r in value) and any(r in ADDRESS_ROLES for r in value):
            raise ValueError("parts mixes name roles and address roles; use one kind per field")
        return value

    @model_validator(mode="after")
    def _exactly_one_source(self) -> FieldSpec:
        given = [n for n in ("column", "columns", "parts", "const") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of column, columns, parts or const" + (f" (got {', '.join(given)})"
                                                                                      if given else ""))
        return self

    @property
    def source_columns(self) -> list[str]:
        """The columns the value is read from (not those of its conditions)."""
        if self.column is not None:
            return [self.column]
        if self.parts is not None:
            return list(self.parts.values())
        return list(self.columns or [])

    @property
    def condition_columns(self) -> list[str]:
        return [c.column for c in self.when]


class EntitySpec(Strict):
    """One canonical entity described by a row (a row may describe several)."""

    type: str = Field(description="canonical entity type: person, house, organization, thing, situation, event")
    required: list[str] = Field(
        default_factory=list, description="attributes without which this entity is rejected into quarantine"
    )
    when: list[Condition] = Field(
        default_factory=list,
        description="the entity exists only on rows where this holds (elsewhere it is simply absent)",
    )
    fields: dict[str, FieldSpec] = Field(description="canonical attribute → how to read it (a bare string is a column)")
    local_ids: dict[str, FieldSpec] = Field(
        default_factory=dict,
        description="department-local identifiers: name → how to read it (a bare string is a column). An id the "
        "source system gives the entity (a property system's flat number, an employer number), meaningful only "
        "within this source: stored as the statement attribute `local_id:<name>` in clear, never fused into "
        "golden values; resolution may treat equal values within the source as the same entity",
    )

    _when = field_validator("when", mode="before", json_schema_input_type=WHEN_INPUT)(_conditions)

    @field_validator("fields", "local_ids", mode="before", json_schema_input_type=dict[str, FieldSpec | str])
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ({"column": v} if isinstance(v, str) else v) for k, v in value.items()}
        return value

    @field_validator("local_ids")
    @classmethod
    def _local_ids(cls, value: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        for name, spec in value.items():
            if not re.fullmatch(IDENT, name):
                raise ValueError(f"local id name {name!r} must be lower case letters, digits and _ (e.g. flat_no)")
            if spec.const is not None:
                raise ValueError(f"local id {name!r} is a constant: an identifier must come from the row's columns")
        return value

    @property
    def own_fields(self) -> list[FieldSpec]:
        """The fields and local ids read from the row's columns (not constants): where they are all blank,
        the entity is absent from the row."""
        return [f for f in (*self.fields.values(), *self.local_ids.values()) if f.const is None]


class RelationSpec(Strict):
    subject: str = Field(description="local entity name of the subject")
    predicate: str = Field(description="relation predicate from schemas.RelationPredicate")
    object: str = Field(description="local entity name of the object")
    when: list[Condition] = Field(
        default_factory=list,
        description="the relation holds only on rows where this holds (身份 == 业主 → owns, 身份 == 租户 → rents)",
    )

    _when = field_validator("when", mode="before", json_schema_input_type=WHEN_INPUT)(_conditions)


class DateHints(Strict):
    """How this source writes dates: a property of the source, not of a value (07/03 alone cannot tell)."""

    order: Literal["ymd", "dmy"] = Field(
        default="ymd", description="ymd (1985-03-07, the Chinese order) or dmy (07/03/1985): how every date and "
        "timestamp attribute is read (date_dmy instead of date; 07/03/2025 08:15 for datetime); an explicit "
        "`normalize:` still wins",
    )
    excel_serials: bool = Field(
        default=True, description="numbers such as 31113 are Excel serial dates; false: quarantine them instead",
    )


class RecordVersions(Strict):
    """The source is a change log: one extract may hold several versions of a record."""

    ordered_by: str = Field(
        min_length=1, description="the column that orders the versions of a record (a change time or a version "
        "number): versions land in its order and the one it orders last is the record's latest; numbers compare "
        "as numbers, timestamps as timestamps, other text as text",
    )


class MappingSpec(Strict):
    """A department source: the whole content of one mappings/*.yaml file."""

    source: str = Field(pattern=IDENT, max_length=SOURCE_ID_MAX, description="unique id of this source")
    department: str = Field(description="department key (schemas.Department)")
    title: str = Field(default="", description="human name of the source system")
    status: Literal["draft", "ready"] = Field(
        default="ready", description="draft: written by `hub mappings suggest` and not reviewed yet; `hub ingest` "
        "skips it (and refuses it by name) until an operator changes it to ready",
    )
    connector: ConnectorSpec
    record_id: list[str] = Field(
        min_length=1, description="column(s) identifying a record in the source; several are joined with |"
    )
    record_versions: RecordVersions | None = Field(
        default=None, description="only for a change log: a record id that repeats in one extract is then a new "
        "version of its record, not a duplicate (without it, a repeat with other content is quarantined)",
    )
    dates: DateHints = Field(default_factory=DateHints, description="how the source writes dates")
    entities: dict[str, EntitySpec] = Field(min_length=1)
    relations: list[RelationSpec] = Field(default_factory=list)
    authority: list[str] = Field(
        default_factory=list, description="'entity.attribute' (or 'entity.*') this source is authoritative for"
    )
    batch_size: int = Field(default=5000, gt=0, le=200_000)

    @field_validator("record_id", mode="before", json_schema_input_type=str | list[str])
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("record_versions")
    @classmethod
    def _ordered_by_another_column(cls, value: RecordVersions | None, info: ValidationInfo) -> RecordVersions | None:
        if value is not None and value.ordered_by in info.data.get("record_id", []):
            raise ValueError(f"ordered_by {value.ordered_by!r} is a record id column: versions of one record all "
                             "share it, so it cannot order them; name the column of the change time or version")
        return value

    @property
    def columns_read(self) -> set[str]:
        """Every source column this mapping reads: what schema-drift detection checks for."""
        cols = set(self.record_id)
        if self.record_versions is not None:
            cols.add(self.record_versions.ordered_by)
        for entity in self.entities.values():
            cols.update(c.column for c in entity.when)
            for spec in (*entity.fields.values(), *entity.local_ids.values()):
                cols.update(spec.source_columns)
                cols.update(spec.condition_columns)
        for relation in self.relations:
            cols.update(c.column for c in relation.when)
        return cols

    def is_authoritative(self, entity_type: str, attribute: str) -> bool:
        return f"{entity_type}.{attribute}" in self.authority or f"{entity_type}.*" in self.authority
