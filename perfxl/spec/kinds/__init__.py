"""The rubric's rule kinds: a plain registry from ``kind:`` name to Kind, and dispatch through it.

Each kind is one module holding, side by side, how its parameters load from the YAML, its exact
Python score, its Excel formula and its Chinese explanation. Adding a kind is writing that module
and listing its ``KIND`` below; the loader refuses any name not registered here.
"""

from __future__ import annotations

from perfxl.spec.kinds import checklist, judgement, ladder, per_count, per_point
from perfxl.spec.kinds.common import Cells, Given, Kind, Label, Outcome, metric_refs, metric_value
from perfxl.spec.model import Item, Rule

KINDS: dict[str, Kind] = {
    k.name: k for k in (ladder.KIND, per_point.KIND, per_count.KIND, checklist.KIND, judgement.KIND)
}


def score(item: Item, given: Given) -> Outcome:
    """The item's exact score; its metric, if the rule has one, computed first as its own cell shows it."""
    rule = item.rule
    metric = None if rule.metric is None else metric_value(rule, given.value, given.rate_decimals)
    return KINDS[rule.kind].score(item, metric, given)


def formula(item: Item, metric_cell: str | None, cells: Cells) -> str:
    """The 参考得分 formula (without '='); ``metric_cell`` is the cell of the rule's metric, if any."""
    return KINDS[item.rule.kind].formula(item, metric_cell, cells)


def explain(item: Item, outcome: Outcome, given: Given, label: Label) -> str:
    """Why the rule gives ``outcome``, with the numbers, in Chinese; ``label(field_id)`` names a field."""
    return KINDS[item.rule.kind].explain(item, outcome, given, label)


def rule_refs(rule: Rule) -> list[str]:
    """Every field id the rule reads: its metric's, then its kind's own parameters'."""
    out = [] if rule.metric is None else metric_refs(rule.metric)
    return out + list(KINDS[rule.kind].refs(rule))


__all__ = ["KINDS", "Cells", "Given", "Kind", "Outcome", "explain", "formula", "rule_refs", "score"]
