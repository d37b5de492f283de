"""The typed model of an edition: the form (templates/) and the rubric (checks/) as frozen dataclasses.

Loading and validation live in ``spec.load``; everything downstream reads only these types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from perfxl.spec import expr

if TYPE_CHECKING:
    from perfxl.spec.narrative import Lexicon, Narrative

FIELD_TYPES = {
    "text": None,
    "longtext": None,
    "integer": "人",
    "amount": "万元",
    "percent": "%",
    "count": "个",
    "yesno": None,
    "score": "分",
}
# The unit a typed number of each numeric field type is read in (numbers.parse_number's unit).
NUMBER_UNITS = {t: u for t, u in FIELD_TYPES.items() if u is not None}
READING_KINDS = ("proportional", "whole", "started")


class SpecError(ValueError):
    """The edition's data files are wrong; the message names the file and key."""


# ---------------------------------------------------------------- form


@dataclass(frozen=True)
class FieldDef:
    """One input of the form."""

    id: str
    label: str
    type: str
    unit: str | None = None
    required: bool = False
    signed: bool = False
    min: Decimal | None = None
    max: Decimal | None = None


@dataclass(frozen=True)
class Column:
    id: str
    header: tuple[str, ...]
    formula: str | None = None
    signed: bool = False


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    counted: bool  # several numbered 指标 rows (count set per unit) or a single 指标 row


@dataclass(frozen=True)
class Form:
    edition: str
    version: int
    title: str
    region: str
    options: Mapping[str, Any]
    basic: Mapping[str, Any]
    basic_rows: tuple[tuple[FieldDef, ...], ...]
    finance: Mapping[str, Any]
    tables: tuple[Table, ...]
    basis: Mapping[str, Any]
    basis_groups: tuple[tuple[str, tuple[FieldDef, ...]], ...]
    performance: Mapping[str, Any]
    categories: tuple[tuple[str, tuple[Category, ...]], ...]
    reviewers: Mapping[str, Any]
    reporter: tuple[FieldDef, ...]
    rubric_sheet: Mapping[str, Any]
    instructions: Mapping[str, Any]
    source: str
    narrative: Narrative | None = None  # the 评价报告 sheet, where the edition has one


# ---------------------------------------------------------------- rubric


@dataclass(frozen=True)
class Metric:
    label: str
    num: expr.Expr | None = None
    den: expr.Expr | None = None
    value: expr.Expr | None = None
    unit: str = "%"

    @property
    def is_rate(self) -> bool:
        return self.den is not None


@dataclass(frozen=True)
class Bound:
    """A band edge: a number or an expression over fields."""

    value: expr.Expr
    closed: bool


@dataclass(frozen=True)
class Band:
    score: Decimal
    text: str
    low: Bound | None
    high: Bound | None
    label: str | None = None


@dataclass(frozen=True)
class ZeroPolicy:
    score: Decimal
    when_numerator_zero: Decimal
    note: str


@dataclass(frozen=True)
class Rule:
    kind: str
    metric: Metric | None = None
    bands: tuple[Band, ...] = ()
    direction: str = "over"
    threshold: Decimal = Decimal(0)
    step: Decimal = Decimal(0)
    readings: tuple[str, ...] = ()
    zero: ZeroPolicy | None = None
    count: str | None = None
    checks: tuple[tuple[str, Decimal], ...] = ()
    # A kind's own parameters that none of the fields above fits: a frozen dataclass of its module.
    params: object | None = None


@dataclass(frozen=True)
class Item:
    id: str
    name: str
    max: Decimal
    standard: str | None
    rule: Rule
    section: str
    group: str


@dataclass(frozen=True)
class Group:
    label: str
    max: Decimal
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Section:
    label: str
    max: Decimal
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class Grade:
    label: str
    min: Decimal


@dataclass(frozen=True)
class Identity:
    id: str
    label: str
    left: expr.Expr
    right: expr.Expr
    when_filled: tuple[str, ...]


@dataclass(frozen=True)
class Rubric:
    edition: str
    version: int
    form: str
    title: str
    total: Decimal
    tolerance: Decimal
    score_tolerance: Decimal
    rate_decimals: int
    score_decimals: int
    grades: tuple[Grade, ...]
    readings: Mapping[str, str]
    identities: tuple[Identity, ...]
    sections: tuple[Section, ...]
    source: str
    plausibility: Mapping[str, Any] = field(default_factory=dict)
    prior_year: Mapping[str, str] = field(default_factory=dict)  # this year's input <- last year's field
    lexicon: Lexicon | None = None  # phrases of the 评价报告 that name table values

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(i for s in self.sections for g in s.groups for i in g.items)

    def item(self, item_id: str) -> Item:
        return next(i for i in self.items if i.id == item_id)


@dataclass(frozen=True, eq=False)  # identity semantics: hashable, so plans can be cached per edition
class Edition:
    form: Form
    rubric: Rubric

    @property
    def name(self) -> str:
        return self.form.edition


def known_field_ids(form: Form) -> set[str]:
    """Ids that rules may read: inputs and the 汇总-row/total cells of the tables."""
    return set(known_field_types(form))


def known_field_types(form: Form) -> dict[str, str]:
    """The type of every id rules may read (the tables' cells are amounts)."""
    types = {f.id: f.type for row in form.basic_rows for f in row}
    types |= {f.id: f.type for _, fs in form.basis_groups for f in fs}
    types |= {f"{t.id}.total.{c.id}": "amount" for t in form.tables for c in t.columns}
    return types
