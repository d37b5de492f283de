"""Rule kind ``ladder`` (分档计分): the band the metric falls in gives the score.

Bands are written "[80, 90)", ">= 90", "= 0"; an edge may be an expression over fields
("(0, income.total.carryover]"), compared as the form shows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from perfxl.spec import expr
from perfxl.spec.ctx import Ctx, as_dec, as_expr, as_list, keys
from perfxl.spec.kinds.common import (
    ZERO,
    Cells,
    Given,
    Kind,
    Label,
    Outcome,
    Value,
    load_metric,
    metric_text,
    metric_unit,
    number_text,
    shown,
    shown_formula,
    zero_case,
    zero_formula,
)
from perfxl.spec.model import Band, Bound, Item, Rule

_INTERVAL = re.compile(r"^\s*([\[(])\s*(.+?)\s*,\s*(.+?)\s*([\])])\s*$")
_COMPARE = re.compile(r"^\s*(>=|<=|>|<|=)\s*(.+?)\s*$")


# ------------------------------------------------------------------ parameters


def load(ctx: Ctx, raw: Mapping[str, Any], maximum: Decimal, readings: Mapping[str, str]) -> Rule:
    keys(ctx, raw, ("kind", "metric", "bands"), ("zero_denominator",))
    metric, zero = load_metric(ctx, raw, maximum)
    bands = tuple(
        _band(ctx.at(f"bands.{i}"), b) for i, b in enumerate(as_list(ctx.at("bands"), raw["bands"]))
    )
    for i, b in enumerate(bands):
        if not Decimal(0) <= b.score <= maximum:
            raise ctx.at(f"bands.{i}.score").fail(f"得分 {b.score} 超出 0～{maximum}")
    _check_numeric_overlap(ctx.at("bands"), bands)
    return Rule("ladder", metric=metric, bands=bands, zero=zero)


def _band(ctx: Ctx, raw: Any) -> Band:
    keys(ctx, raw, ("when", "score"), ("label",))
    text = str(raw["when"])
    score = as_dec(ctx.at("score"), raw["score"])
    low = high = None
    m = _INTERVAL.match(text)
    if m:
        low = Bound(as_expr(ctx.at("when"), m.group(2)), m.group(1) == "[")
        high = Bound(as_expr(ctx.at("when"), m.group(3)), m.group(4) == "]")
    else:
        m = _COMPARE.match(text)
        if not m:
            raise ctx.at("when").fail(f'无法识别的区间 “{text}”；应如 "[80, 90)"、">= 90"、"= 0"')
        op, bound = m.group(1), as_expr(ctx.at("when"), m.group(2))
        if op in (">=", ">"):
            low = Bound(bound, op == ">=")
        elif op in ("<=", "<"):
            high = Bound(bound, op == "<=")
        else:
            low = high = Bound(bound, True)
    return Band(score, text, low, high, raw.get("label"))


def _check_numeric_overlap(ctx: Ctx, bands: tuple[Band, ...]) -> None:
    """Numeric bands must not overlap (a value scoring twice would be a drafting error)."""

    def edge(b: Bound | None, default: Decimal) -> tuple[Decimal, bool] | None:
        if b is None:
            return default, False
        return (b.value.value, b.closed) if isinstance(b.value, expr.Num) else None

    spans = []
    for b in bands:
        lo, hi = edge(b.low, Decimal("-1e30")), edge(b.high, Decimal("1e30"))
        if lo is None or hi is None:
            return
        if lo[0] > hi[0] or (lo[0] == hi[0] and not (lo[1] and hi[1])):
            raise ctx.fail(f"区间 “{b.text}” 是空的（下限不小于上限）")
        spans.append((lo, hi, b.text))
    for i, (lo1, hi1, t1) in enumerate(spans):
        for lo2, hi2, t2 in spans[i + 1 :]:
            apart = hi1[0] < lo2[0] or hi2[0] < lo1[0]
            touch1 = hi1[0] == lo2[0] and not (hi1[1] and lo2[1])
            touch2 = hi2[0] == lo1[0] and not (hi2[1] and lo1[1])
            if not (apart or touch1 or touch2):
                raise ctx.fail(f"区间 “{t1}” 与 “{t2}” 重叠")


def refs(rule: Rule) -> Iterable[str]:
    for band in rule.bands:
        for b in (band.low, band.high):
            if b is not None:
                yield from expr.refs(b.value)


# ------------------------------------------------------------------ score and formula


def in_band(x: Decimal, band: Band, value: Value, places: int = 2) -> bool:
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


def score(item: Item, metric: Decimal | None, given: Given) -> Outcome:
    rule = item.rule
    if metric is None:
        points, note = zero_case(rule, given.value)
        return Outcome(points, metric=None, note=note)
    for band in rule.bands:
        if in_band(metric, band, given.value, given.rate_decimals):
            return Outcome(band.score, metric=metric, band=band.label or band.text)
    return Outcome(ZERO, metric=metric, note="不在评分标准的任何档次内，按0分计")


def formula(item: Item, metric: str | None, cells: Cells) -> str:
    assert metric is not None
    rule = item.rule
    body = "0"
    for band in reversed(rule.bands):
        conds = []
        for b, upper in ((band.low, False), (band.high, True)):
            if b is None:
                continue
            edge = expr.to_excel(b.value, cells.cell)
            if not isinstance(b.value, expr.Num):
                edge = shown_formula(edge, cells.rate_decimals)
            op = ("<=" if b.closed else "<") if upper else (">=" if b.closed else ">")
            conds.append(f"{metric}{op}{edge}")
        if band.low is not None and band.high is not None and band.low == band.high:
            conds = [conds[0].replace(">=", "=", 1)]
        cond = conds[0] if len(conds) == 1 else f"AND({','.join(conds)})"
        body = f"IF({cond},{expr.num(band.score)},{body})"
    if rule.zero is None:
        return body
    return f'IF({metric}="",{zero_formula(rule, cells.cell)},{body})'


# ------------------------------------------------------------------ explanation


def explain(item: Item, outcome: Outcome, given: Given, label: Label) -> str:
    rule = item.rule
    assert rule.metric is not None
    if outcome.metric is None:
        return outcome.note or ""
    text = metric_text(rule.metric, outcome.metric)
    band = next((b for b in rule.bands if in_band(outcome.metric, b, given.value, given.rate_decimals)), None)
    if band is None:
        return text
    unit = metric_unit(rule.metric)
    fields = [b.value.field for b in (band.low, band.high) if b is not None and isinstance(b.value, expr.Ref)]
    extra = "，".join(f"{label(f)} {number_text(given.value(f))}{unit}" for f in fields)
    return text + f"，{band.label or '属于“' + band.text + '”档'}" + (f"（{extra}）" if extra else "")


KIND = Kind("ladder", load, score, formula, explain, refs)
