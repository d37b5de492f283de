"""The order findings are read in: root causes first, each consequence right after its cause and linked to it.

A formula typed over, an amount in 元, an unreadable or blank input is the root of what follows from
it: the 合计 that no longer adds up, the per-capita spending a thousand times too high, the item that
cannot be checked. Listed by severity alone, the 错误 it causes would come first and the cause, a
警告, far below. So a finding of a kind that follows from its inputs (a formula's result, a
plausibility ratio, an item left unchecked or scored by its zero-denominator rule) whose cell or item
is computed from the cell of a root cause is placed right after that cause, and says so; the group
sits where its most severe member would. A self-score that disagrees with the rule is not linked:
the unit chose it, whatever the inputs. Everything else keeps the plain order: severity, then
sheet, row, column.
"""

from __future__ import annotations

import re
from dataclasses import replace

from perfxl.check.reader import Return
from perfxl.engine.catalogue import entry
from perfxl.engine.compute import field_dependencies
from perfxl.engine.findings import SEVERITIES, Finding
from perfxl.engine.layout import Plan

# Findings about what a unit did to a cell, which other findings follow from.
ROOT_CAUSES = (
    "formula.overwritten",
    "formula.changed",
    "plausible.yuan",
    "input.yuan",
    "input.invalid",
    "input.text_number",
    "input.blank",
)
# Findings that follow from the cells they are computed from (a 自评得分 mismatch does not: see above).
FOLLOW = (
    "sum.",
    "identity.",
    "metric.",
    "ref.",
    "total.",
    "subtotal.",
    "grade.",
    "perf.",
    "plausible.per_capita",
    "plausible.scale",
)
FOLLOW_ITEM = (".unverified", ".unanswered", ".zero")  # score.<ID>.…


def ordered(plan: Plan, ret: Return, findings: list[Finding]) -> list[Finding]:
    """``findings`` in reading order, each consequence's ``cause`` the index of its root cause."""
    order = {sp.name: i for i, sp in enumerate(plan.sheets)}
    for plan_name, actual in ret.sheet_names.items():
        order[actual] = order.get(plan_name, 99)

    def key(f: Finding) -> tuple[int, int, int, int]:
        row, col = 0, 0
        if f.cell:
            m = re.match(r"([A-Z]+)(\d+)", f.cell)
            if m:
                row, col = int(m.group(2)), len(m.group(1)) * 100 + ord(m.group(1)[-1])
        return SEVERITIES.index(f.severity), order.get(f.sheet or "", -1), row, col

    plain = sorted(findings, key=key)
    at: dict[tuple[str | None, str | None], str] = {
        (loc.sheet, loc.ref): fid for fid, loc in ret.cells.items()
    }
    deps = field_dependencies(plan)
    causes = [(n, at.get((f.sheet, f.cell))) for n, f in enumerate(plain) if f.rule in ROOT_CAUSES]
    cause_of: dict[int, int] = {}
    for n, f in enumerate(plain):
        if f.rule in ROOT_CAUSES or not (f.rule.startswith(FOLLOW) or f.rule.endswith(FOLLOW_ITEM)):
            continue
        reach = _reach(f, at, deps)
        hit = next((c for c, field in causes if field is not None and field in reach), None)
        if hit is not None:
            cause_of[n] = hit
    # each group (a cause and its consequences) goes where its most severe member would
    members: dict[int, list[int]] = {}
    for n in range(len(plain)):
        members.setdefault(cause_of.get(n, n), []).append(n)
    groups = sorted(members.items(), key=lambda g: min(key(plain[m]) for m in g[1]))
    placed = [m for head, rest in groups for m in [head, *(x for x in rest if x != head)]]
    index = {old: new for new, old in enumerate(placed)}
    out = []
    for old in placed:
        f = plain[old]
        if old in cause_of:
            cause = plain[cause_of[old]]
            f = replace(
                f,
                message=f"{f.message}（起因：{cause.where} {entry(cause.rule).title}）",
                cause=index[cause_of[old]],
            )
        out.append(f)
    return out


def _reach(
    f: Finding, at: dict[tuple[str | None, str | None], str], deps: dict[str, frozenset[str]]
) -> set[str]:
    """Every field ``f`` is about: its cell's field and all it is computed from, or its item's rule's."""
    out: set[str] = set()
    field = at.get((f.sheet, f.cell))
    if field is not None:
        out |= deps.get(field, frozenset())
    if f.item is not None:
        for part in ("ref", "self"):
            out |= deps.get(f"score.{f.item}.{part}", frozenset())
    return out
