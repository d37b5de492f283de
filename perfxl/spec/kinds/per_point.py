"""Rule kind ``per_point`` (按百分点扣分): beyond a threshold, each percentage point costs ``step``.

“每超过一个百分点扣 x 分” has several readings (proportional, whole points, started points); the
rule lists those it accepts, the first being the one the template's 参考得分 uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from perfxl.spec import expr
from perfxl.spec.ctx import Ctx, as_dec, as_list, keys
from perfxl.spec.kinds.common import (
    NOISE_PLACES,
    ZERO,
    Cells,
    Given,
    Kind,
    Label,
    Outcome,
    load_metric,
    metric_text,
    number_text,
    quantize,
    shown,
    shown_formula,
    zero_case,
    zero_formula,
)
from perfxl.spec.model import READING_KINDS, Item, Rule


def load(ctx: Ctx, raw: Mapping[str, Any], maximum: Decimal, readings: Mapping[str, str]) -> Rule:
    keys(ctx, raw, ("kind", "metric", "direction", "threshold", "step"), ("readings", "zero_denominator"))
    metric, zero = load_metric(ctx, raw, maximum)
    direction = raw["direction"]
    if direction not in ("over", "under"):
        raise ctx.at("direction").fail(f"应为 over 或 under，实际为 “{direction}”")
    names = tuple(as_list(ctx.at("readings"), raw.get("readings", ["proportional"])))
    if not names:
        raise ctx.at("readings").fail("应至少列出一种读法（第一种用于模板的参考得分）")
    for name in names:
        if name not in READING_KINDS:
            raise ctx.at("readings").fail(f"未知读法 “{name}”；可用：{', '.join(READING_KINDS)}")
        if name not in readings:
            raise ctx.at("readings").fail(f"读法 “{name}” 未在文件顶层 readings 中说明")
    return Rule(
        "per_point",
        metric=metric,
        direction=direction,
        threshold=as_dec(ctx.at("threshold"), raw["threshold"]),
        step=as_dec(ctx.at("step"), raw["step"]),
        readings=names,
        zero=zero,
    )


def _excess(rule: Rule, metric: Decimal) -> Decimal:
    gap = metric - rule.threshold if rule.direction == "over" else rule.threshold - metric
    return max(ZERO, gap)


def score(item: Item, metric: Decimal | None, given: Given) -> Outcome:
    rule = item.rule
    if metric is None:
        points, note = zero_case(rule, given.value)
        return Outcome(points, {r: points for r in rule.readings}, None, note)
    excess = quantize(_excess(rule, metric), NOISE_PLACES)
    counted = {
        "proportional": excess,
        "whole": excess.to_integral_value(rounding=ROUND_FLOOR),
        "started": excess.to_integral_value(rounding=ROUND_CEILING),
    }
    scores = {
        r: shown(max(ZERO, item.max - rule.step * counted[r]), given.score_decimals) for r in rule.readings
    }
    return Outcome(scores[rule.readings[0]], scores, metric)


def formula(item: Item, metric: str | None, cells: Cells) -> str:
    assert metric is not None
    rule = item.rule
    thr = expr.num(rule.threshold)
    gap = f"{metric}-{thr}" if rule.direction == "over" else f"{thr}-{metric}"
    gap = f"ROUND(MAX(0,{gap}),{NOISE_PLACES})"
    reading = cells.reading or rule.readings[0]
    excess = {"proportional": gap, "whole": f"INT({gap})", "started": f"ROUNDUP({gap},0)"}[reading]
    body = shown_formula(f"MAX(0,{expr.num(item.max)}-{expr.num(rule.step)}*{excess})", cells.score_decimals)
    return f'IF({metric}="",{zero_formula(rule, cells.cell)},{body})'


def explain(item: Item, outcome: Outcome, given: Given, label: Label) -> str:
    rule = item.rule
    assert rule.metric is not None
    if outcome.metric is None:
        return outcome.note or ""
    side = "超过" if rule.direction == "over" else "低于"
    return (
        f"{metric_text(rule.metric, outcome.metric)}，"
        f"每{side} {number_text(rule.threshold)}% 一个百分点扣 {number_text(rule.step)} 分"
    )


KIND = Kind("per_point", load, score, formula, explain)
