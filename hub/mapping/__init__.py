"""Mapping files (mappings/*.yaml): the declarative description of a department source."""

from hub.mapping.loader import load_mapping, load_mappings
from hub.mapping.model import ConnectorSpec, EntitySpec, FieldSpec, MappingSpec, RelationSpec

__all__ = ["ConnectorSpec", "EntitySpec", "FieldSpec", "MappingSpec", "RelationSpec", "load_mapping",
           "load_mappings"]
