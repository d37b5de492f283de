"""The edition as data: the typed model, its loader, the expression language and the rule kinds."""

from perfxl.spec.kinds import rule_refs
from perfxl.spec.load import DEFAULT_EDITION, available_editions, data_dirs, load_edition, read_edition
from perfxl.spec.model import (
    FIELD_TYPES,
    NUMBER_UNITS,
    READING_KINDS,
    Band,
    Bound,
    Edition,
    FieldDef,
    Form,
    Item,
    Rubric,
    Rule,
    SpecError,
    known_field_ids,
)

__all__ = [
    "DEFAULT_EDITION",
    "FIELD_TYPES",
    "NUMBER_UNITS",
    "READING_KINDS",
    "Band",
    "Bound",
    "Edition",
    "FieldDef",
    "Form",
    "Item",
    "Rubric",
    "Rule",
    "SpecError",
    "available_editions",
    "data_dirs",
    "known_field_ids",
    "load_edition",
    "read_edition",
    "rule_refs",
]
