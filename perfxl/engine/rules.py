"""Scoring rules: for each rule kind, the exact Python score and the Excel formula, side by side.

Pure functions. ``value(field_id)`` gives a field's number (blank = 0, as Excel reads it);
``cell(field_id)`` gives the Excel reference of a field. Keeping both renderings of a rule in
one place is what keeps the template's 参考得分 and the checker's 复核得分 identical.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from perfxl.spec import Band, Bound, Item, Rule, expr

Value = Callable[[str], Decimal]
Text = Callable[[str], object]
CellRef = Callable[[str], str]

ZERO = Decimal(0)


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


@dataclass(frozen=True)
class Outcome:
    """The rule's verdict on one item."""

    score: Decimal  # under the first (primary) reading
    readings: dict[str, Decimal] = field(default_factory=dict)  # reading -> score, if several
    metric: Decimal | None = None  # the rate or value the rule looked at
    note: str | None = None  # e.g. the zero-denominator policy that applied
    band: str | None = None  # the ladder band that applied


# ------------------------------------------------------------------ metrics


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


def _zero_case(rule: Rule, value: Value) -> tuple[Decimal, str]:
    assert rule.zero is not None and rule.metric is not None and rule.metric.num is not None
    num = expr.evaluate(rule.metric.num, value)
    if quantize(num, 6) == 0:
        return rule.zero.when_numerator_zero, rule.zero.note + "（分子也为0）"
    return rule.zero.score, rule.zero.note


def _zero_formula(rule: Rule, cell: CellRef) -> str:
    assert rule.zero is not None and rule.metric is not None and rule.metric.num is not None
    num = expr.to_excel(rule.metric.num, cell)
    return f"IF(ROUND({num},6)=0,{expr.num(rule.zero.when_numerator_zero)},{expr.num(rule.zero.score)})"


# ------------------------------------------------------------------ ladder


def _in_band(x: Decimal, band: Band, value: Value, places: int = 2) -> bool:
    def ok(b: Bound | None, upper: bool) -> bool:
        if b is None:
            return True
        edge = expr.evaluate(b.value, value)
        if not isinstance(b.value, expr.Num):
            edge = shown(edge, places)  # a field edge is compared as shown, like the metric
        if upper:
            return x <= edge if b.closed else x < edge
        return x >= edge if b.closed else x > edge

    return ok(band.low, False) and ok(band.high, True)


def ladder(item: Item, value: Value, metric: Decimal | None, places: int = 2) -> Outcome:
    rule = item.rule
    if metric is None:
        score, note = _zero_case(rule, value)
        return Outcome(score, metric=None, note=note)
    for band in rule.bands:
        if _in_band(metric, band, value, places):
            return Outcome(band.score, metric=metric, band=band.label or band.text)
    return Outcome(ZERO, metric=metric, note="不在评分标准的任何档次内，按0分计")


def ladder_formula(item: Item, m: str, cell: CellRef, places: int = 2) -> str:
    rule = item.rule
    body = "0"
    for band in reversed(rule.bands):
        conds = []
        for b, upper in ((band.low, False), (band.high, True)):
            if b is None:
                continue
            edge = expr.to_excel(b.value, cell)
            if not isinstance(b.value, expr.Num):
                edge = shown_formula(edge, places)
            op = ("<=" if b.closed else "<") if upper else (">=" if b.closed else ">")
            conds.append(f"{m}{op}{edge}")
        if band.low is not None and band.high is not None and band.low == band.high:
            conds = [conds[0].replace(">=", "=", 1)]
        cond = conds[0] if len(conds) == 1 else f"AND({','.join(conds)})"
        body = f"IF({cond},{expr.num(band.score)},{body})"
    if rule.zero is None:
        return body
    return f'IF({m}="",{_zero_formula(rule, cell)},{body})'


# ------------------------------------------------------------------ per percentage point


def _excess(rule: Rule, metric: Decimal) -> Decimal:
    gap = metric - rule.threshold if rule.direction == "over" else rule.threshold - metric
    return max(ZERO, gap)


def per_point(item: Item, value: Value, metric: Decimal | None, places: int) -> Outcome:
    rule = item.rule
    if metric is None:
        score, note = _zero_case(rule, value)
        return Outcome(score, {r: score for r in rule.readings}, None, note)
    excess = quantize(_excess(rule, metric), NOISE_PLACES)
    points = {
        "proportional": excess,
        "whole": excess.to_integral_value(rounding=ROUND_FLOOR),
        "started": excess.to_integral_value(rounding=ROUND_CEILING),
    }
    scores = {r: shown(max(ZERO, item.max - rule.step * points[r]), places) for r in rule.readings}
    return Outcome(scores[rule.readings[0]], scores, metric)


def per_point_formula(item: Item, m: str, cell: CellRef, places: int) -> str:
    rule = item.rule
    thr = expr.num(rule.threshold)
    gap = f"{m}-{thr}" if rule.direction == "over" else f"{thr}-{m}"
    gap = f"ROUND(MAX(0,{gap}),{NOISE_PLACES})"
    excess = {"proportional": gap, "whole": f"INT({gap})", "started": f"ROUNDUP({gap},0)"}[rule.readings[0]]
    body = shown_formula(f"MAX(0,{expr.num(item.max)}-{expr.num(rule.step)}*{excess})", places)
    return f'IF({m}="",{_zero_formula(rule, cell)},{body})'


# ------------------------------------------------------------------ counts, checklists, judgement


def per_count(item: Item, value: Value, places: int) -> Outcome:
    assert item.rule.count is not None
    n = value(item.rule.count)
    return Outcome(shown(max(ZERO, item.max - item.rule.step * n), places), metric=n)


def per_count_formula(item: Item, cell: CellRef, places: int) -> str:
    assert item.rule.count is not None
    c = cell(item.rule.count)
    return shown_formula(f"MAX(0,{expr.num(item.max)}-{expr.num(item.rule.step)}*{c})", places)


def checklist(item: Item, text: Text) -> Outcome:
    score = sum((p for f, p in item.rule.checks if text(f) == "是"), ZERO)
    return Outcome(score)


def checklist_formula(item: Item, cell: CellRef) -> str:
    return "+".join(f'IF({cell(f)}="是",{expr.num(p)},0)' for f, p in item.rule.checks)


def judgement(item: Item, self_score: Decimal) -> Outcome:
    """No rule can recompute a judgement: the self-score stands, held within [0, max]."""
    return Outcome(min(item.max, max(ZERO, self_score)))


def judgement_formula(item: Item, self_cell: str) -> str:
    return f"MIN({expr.num(item.max)},MAX(0,{self_cell}))"


# ------------------------------------------------------------------ dispatch


def score(
    item: Item, value: Value, text: Text, self_score: Decimal, rate_decimals: int, score_decimals: int
) -> Outcome:
    kind = item.rule.kind
    if kind == "judgement":
        return judgement(item, self_score)
    if kind == "per_count":
        return per_count(item, value, score_decimals)
    if kind == "checklist":
        return checklist(item, text)
    metric = metric_value(item.rule, value, rate_decimals)
    if kind == "ladder":
        return ladder(item, value, metric, rate_decimals)
    return per_point(item, value, metric, score_decimals)


def score_formula(
    item: Item,
    cell: CellRef,
    metric_cell: str | None,
    self_cell: str,
    score_decimals: int,
    rate_decimals: int = 2,
) -> str:
    kind = item.rule.kind
    if kind == "judgement":
        return judgement_formula(item, self_cell)
    if kind == "per_count":
        return per_count_formula(item, cell, score_decimals)
    if kind == "checklist":
        return checklist_formula(item, cell)
    assert metric_cell is not None
    if kind == "ladder":
        return ladder_formula(item, metric_cell, cell, rate_decimals)
    return per_point_formula(item, metric_cell, cell, score_decimals)


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
