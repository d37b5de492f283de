"""Rule kind ``checklist`` (逐项计分): each yes/no field answered “是” earns its points."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from perfxl.spec import expr
from perfxl.spec.ctx import Ctx, as_dec, as_list, keys
from perfxl.spec.kinds.common import ZERO, Cells, Given, Kind, Label, Outcome, number_text
from perfxl.spec.model import Item, Rule


def load(ctx: Ctx, raw: Mapping[str, Any], maximum: Decimal, readings: Mapping[str, str]) -> Rule:
    keys(ctx, raw, ("kind", "checks"))
    checks = []
    for i, c in enumerate(as_list(ctx.at("checks"), raw["checks"])):
        keys(ctx.at(f"checks.{i}"), c, ("field", "points"))
        checks.append((str(c["field"]), as_dec(ctx.at(f"checks.{i}.points"), c["points"])))
    total = sum((p for _, p in checks), ZERO)
    if total != maximum:
        raise ctx.at("checks").fail(f"各项分值合计 {total} 与分值 {maximum} 不符")
    return Rule("checklist", checks=tuple(checks))


def refs(rule: Rule) -> Iterable[str]:
    return (f for f, _ in rule.checks)


def score(item: Item, metric: Decimal | None, given: Given) -> Outcome:
    return Outcome(sum((p for f, p in item.rule.checks if given.text(f) == "是"), ZERO))


def formula(item: Item, metric: str | None, cells: Cells) -> str:
    return "+".join(f'IF({cells.cell(f)}="是",{expr.num(p)},0)' for f, p in item.rule.checks)


def explain(item: Item, outcome: Outcome, given: Given, label: Label) -> str:
    # The label's first character is its number (①②…): enough to name an unmet check.
    missing = [f"{label(f)[:1]}（{number_text(p)} 分）" for f, p in item.rule.checks if given.text(f) != "是"]
    return "未满足：" + "、".join(missing) if missing else "各项均为“是”"


KIND = Kind("checklist", load, score, formula, explain, refs)
