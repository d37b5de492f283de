"""Rule kind ``per_count`` (按个数扣分): each case counted in a field costs ``step``, down to 0."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from perfxl.spec import expr
from perfxl.spec.ctx import Ctx, as_dec, keys
from perfxl.spec.kinds.common import (
    ZERO,
    Cells,
    Given,
    Kind,
    Label,
    Outcome,
    number_text,
    shown,
    shown_formula,
)
from perfxl.spec.model import Item, Rule


def load(ctx: Ctx, raw: Mapping[str, Any], maximum: Decimal, readings: Mapping[str, str]) -> Rule:
    keys(ctx, raw, ("kind", "count", "step"))
    return Rule("per_count", count=str(raw["count"]), step=as_dec(ctx.at("step"), raw["step"]))


def refs(rule: Rule) -> Iterable[str]:
    assert rule.count is not None
    return (rule.count,)


def score(item: Item, metric: Decimal | None, given: Given) -> Outcome:
    assert item.rule.count is not None
    n = given.value(item.rule.count)
    return Outcome(shown(max(ZERO, item.max - item.rule.step * n), given.score_decimals), metric=n)


def formula(item: Item, metric: str | None, cells: Cells) -> str:
    assert item.rule.count is not None
    c = cells.cell(item.rule.count)
    return shown_formula(f"MAX(0,{expr.num(item.max)}-{expr.num(item.rule.step)}*{c})", cells.score_decimals)


def explain(item: Item, outcome: Outcome, given: Given, label: Label) -> str:
    rule = item.rule
    assert rule.count is not None
    return f"{label(rule.count)} {number_text(given.value(rule.count))}，每个扣 {number_text(rule.step)} 分"


KIND = Kind("per_count", load, score, formula, explain, refs)
