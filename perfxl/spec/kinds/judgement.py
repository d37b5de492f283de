"""Rule kind ``judgement`` (主观评分): no rule can recompute it; the self-score stands within [0, max]."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from perfxl.spec import expr
from perfxl.spec.ctx import Ctx, keys
from perfxl.spec.kinds.common import ZERO, Cells, Given, Kind, Label, Outcome
from perfxl.spec.model import Item, Rule


def load(ctx: Ctx, raw: Mapping[str, Any], maximum: Decimal, readings: Mapping[str, str]) -> Rule:
    keys(ctx, raw, ("kind",))
    return Rule("judgement")


def score(item: Item, metric: Decimal | None, given: Given) -> Outcome:
    return Outcome(min(item.max, max(ZERO, given.self_score)))


def formula(item: Item, metric: str | None, cells: Cells) -> str:
    return f"MIN({expr.num(item.max)},MAX(0,{cells.self_cell}))"


def explain(item: Item, outcome: Outcome, given: Given, label: Label) -> str:
    return "主观评分，按自评得分计"


KIND = Kind("judgement", load, score, formula, explain)
