"""What the rule kinds share: their interface, the metric and its zero-denominator case, rounding as
the form shows it, the wording of numbers, and the grade of a total — each in Python and in Excel.

Pure functions. ``Given.value(field_id)`` gives a field's number (blank = 0, as Excel reads it);
``Cells.cell(field_id)`` gives the Excel reference of a field. Keeping both renderings side by side
is what keeps the template's 参考得分 and the checker's 复核得分 identical.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from perfxl.spec import expr
from perfxl.spec.ctx import Ctx, as_dec, as_expr, get, keys
from perfxl.spec.model import Item, Metric, Rule, ZeroPolicy

Value = Callable[[str], Decimal]
Text = Callable[[str], object]
CellRef = Callable[[str], str]
Label = Callable[[str], str]

ZERO = Decimal(0)


# ------------------------------------------------------------------ the interface of a kind


@dataclass(frozen=True)
class Outcome:
    """The rule's verdict on one item."""

    score: Decimal  # under the first (primary) reading
    readings: dict[str, Decimal] = field(default_factory=dict)  # reading -> score, if several
    metric: Decimal | None = None  # the rate or value the rule looked at
    note: str | None = None  # e.g. the zero-denominator policy that applied
    band: str | None = None  # the ladder band that applied


@dataclass(frozen=True)
class Given:
    """What a kind scores (and explains) from: fields' numbers and texts, the self-score, the places."""

    value: Value
    text: Text
    self_score: Decimal
    rate_decimals: int
    score_decimals: int


@dataclass(frozen=True)
class Cells:
    """What a kind's Excel formula refers to: each field's cell, the self-score's cell, the places."""

    cell: CellRef
    self_cell: str
    rate_decimals: int
    score_decimals: int
    reading: str | None = None  # the reading to render (a kind with readings); None: the rule's first


def no_refs(rule: Rule) -> Iterable[str]:
    return ()


@dataclass(frozen=True)
class Kind:
    """One rule kind, registered by name in ``kinds.KINDS``.

    ``load(ctx, raw, maximum, readings)`` builds the Rule from the item's ``rule:`` mapping (raising
    ``ctx.fail`` for any mistake; ``readings`` are the rubric's declared readings); ``score(item,
    metric, given)`` and ``formula(item, metric_cell, cells)`` are the exact Python score and its Excel
    twin (the metric, when the rule has one, is computed once by the caller: it has a cell of its own;
    a kind whose rule lists several readings renders ``cells.reading``, the first when it is None);
    ``explain(item, outcome, given, label)`` says in Chinese why the rule gives that score;
    ``refs(rule)`` lists the fields the kind's own parameters read (the metric's are added by the caller).
    """

    name: str
    load: Callable[[Ctx, Mapping[str, Any], Decimal, Mapping[str, str]], Rule]
    score: Callable[[Item, Decimal | None, Given], Outcome]
    formula: Callable[[Item, str | None, Cells], str]
    explain: Callable[[Item, Outcome, Given, Label], str]
    refs: Callable[[Rule], Iterable[str]] = no_refs


# ------------------------------------------------------------------ rounding


def quantize(x: Decimal, places: int) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


# Spreadsheets compute in binary: 600.03-600 is 0.0299999…, so a plain ROUND(…,2) of a half-cent
# tie can fall either way. Rounding to 9 places first removes that noise; Python does the same
# twice-rounding on exact decimals, so both sides agree by construction.
NOISE_PLACES = 9


def shown(x: Decimal, places: int) -> Decimal:
    """x rounded as the form shows it (half away from zero), after the binary-noise rounding."""
    return quantize(quantize(x, NOISE_PLACES), places)


def shown_formula(text: str, places: int) -> str:
    return f"ROUND(ROUND({text},{NOISE_PLACES}),{places})"


def number_text(x: Decimal) -> str:
    """A number as a finance officer writes it: 3.29, 97, -0.38 (no exponent, no trailing zeros)."""
    v = quantize(x, 2) if x == x.quantize(Decimal("0.01")) or abs(x) >= 1 else x
    return format(v.normalize(), "f")


# ------------------------------------------------------------------ the metric


def load_metric(ctx: Ctx, raw: Mapping[str, Any], maximum: Decimal) -> tuple[Metric, ZeroPolicy | None]:
    """The rule's ``metric`` and ``zero_denominator``: a rate must say what a zero denominator scores."""
    metric = _metric(ctx.at("metric"), get(ctx, raw, "metric"))
    zero = _zero(ctx.at("zero_denominator"), raw.get("zero_denominator"), maximum)
    if metric.is_rate and zero is None:
        raise ctx.at("zero_denominator").fail("比率型指标必须声明分母为 0 时的处理")
    return metric, zero


def _metric(ctx: Ctx, raw: Any) -> Metric:
    if isinstance(raw, Mapping) and "value" in raw:
        keys(ctx, raw, ("label", "value"), ("unit",))
        return Metric(
            str(raw["label"]), value=as_expr(ctx.at("value"), raw["value"]), unit=raw.get("unit", "%")
        )
    keys(ctx, raw, ("label", "num", "den"))
    return Metric(
        str(raw["label"]),
        num=as_expr(ctx.at("num"), raw["num"]),
        den=as_expr(ctx.at("den"), raw["den"]),
        unit="%",
    )


def _zero(ctx: Ctx, raw: Any, maximum: Decimal) -> ZeroPolicy | None:
    if raw is None:
        return None
    keys(ctx, raw, ("score", "when_numerator_zero", "note"))

    def points(key: str) -> Decimal:
        v = raw[key]
        return maximum if v == "max" else as_dec(ctx.at(key), v)

    return ZeroPolicy(points("score"), points("when_numerator_zero"), str(raw["note"]))


def metric_refs(metric: Metric) -> list[str]:
    return [ref for e in (metric.num, metric.den, metric.value) if e is not None for ref in expr.refs(e)]


def metric_value(rule: Rule, value: Value, rate_decimals: int) -> Decimal | None:
    """The rule's rate (in %, rounded as shown on the form) or value; None if the denominator is 0."""
    m = rule.metric
    assert m is not None
    if m.value is not None:  # rounded like rates, so Excel's binary sums compare as Python's decimals do
        return shown(expr.evaluate(m.value, value), rate_decimals)
    assert m.num is not None and m.den is not None
    den = expr.evaluate(m.den, value)
    if den == 0:
        return None
    return shown(expr.evaluate(m.num, value) * 100 / den, rate_decimals)


def metric_formula(rule: Rule, cell: CellRef, rate_decimals: int) -> str:
    m = rule.metric
    assert m is not None
    if m.value is not None:
        return shown_formula(expr.to_excel(m.value, cell), rate_decimals)
    assert m.num is not None and m.den is not None
    num, den = expr.to_excel(m.num, cell), expr.to_excel(m.den, cell)
    return f'IF({den}=0,"",{shown_formula(f"({num})*100/({den})", rate_decimals)})'


def zero_case(rule: Rule, value: Value) -> tuple[Decimal, str]:
    """(score, note) when the rate's denominator is 0, by the rule's declared policy."""
    assert rule.zero is not None and rule.metric is not None and rule.metric.num is not None
    num = expr.evaluate(rule.metric.num, value)
    if quantize(num, 6) == 0:
        return rule.zero.when_numerator_zero, rule.zero.note + "（分子也为0）"
    return rule.zero.score, rule.zero.note


def zero_formula(rule: Rule, cell: CellRef) -> str:
    assert rule.zero is not None and rule.metric is not None and rule.metric.num is not None
    num = expr.to_excel(rule.metric.num, cell)
    return f"IF(ROUND({num},6)=0,{expr.num(rule.zero.when_numerator_zero)},{expr.num(rule.zero.score)})"


def metric_unit(metric: Metric) -> str:
    """The unit written after a quoted metric: rates and percentages as %, amounts as “ 万元”."""
    return " 万元" if not metric.is_rate and metric.unit == "万元" else "%"


def metric_text(metric: Metric, x: Decimal) -> str:
    """The metric as an explanation quotes it: “累计结余 3.29 万元”."""
    return f"{metric.label.split('（')[0]} {number_text(x)}{metric_unit(metric)}"


# ------------------------------------------------------------------ grade of a total


def grade(total: Decimal, grades: tuple[tuple[str, Decimal], ...]) -> str:
    for label, low in grades:
        if total >= low:
            return label
    return grades[-1][0]


def grade_formula(total_cell: str, grades: tuple[tuple[str, Decimal], ...]) -> str:
    body = f'"{grades[-1][0]}"'
    for label, low in reversed(grades[:-1]):
        body = f'IF({total_cell}>={expr.num(low)},"{label}",{body})'
    return body
