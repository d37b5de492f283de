"""The finance tables: every identity of the rubric, and a 局机关 row left wholly blank."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from functools import lru_cache

from perfxl.check.reader import Return
from perfxl.check.text import fmt, number_of
from perfxl.engine.catalogue import finding
from perfxl.engine.compute import Computation, Scalar, input_dependencies
from perfxl.engine.findings import Finding
from perfxl.engine.layout import Cell, Plan
from perfxl.spec import expr
from perfxl.spec.model import Table


def check_identities(
    plan: Plan, inputs: dict[str, Scalar], calc: Computation, tol: Decimal, unknown: set[str]
) -> Iterator[Finding]:
    deps = input_dependencies(plan)

    def value(fid: str) -> Decimal:
        return number_of(plan, inputs, calc, fid) or Decimal(0)

    for ident in plan.edition.rubric.identities:
        if any(not isinstance(inputs.get(f), Decimal) for f in ident.when_filled):
            continue
        if any(deps[r] & unknown for r in [*expr.refs(ident.left), *expr.refs(ident.right)]):
            continue
        left, right = expr.evaluate(ident.left, value), expr.evaluate(ident.right, value)
        if abs(left - right) > tol:
            first = plan.cells[ident.when_filled[0]]
            yield finding(
                f"identity.{ident.id}",
                f"{first.where} {ident.label}：左边 {fmt(left)} 万元，右边 {fmt(right)} 万元"
                f"（相差 {fmt(left - right)}）",
                sheet=first.sheet,
                cell=first.ref,
                reported=right,
                expected=left,
                difference=right - left,
            )


def check_blank_tables(plan: Plan, ret: Return, inputs: dict[str, Scalar]) -> Iterator[Finding]:
    for table, cells in _org_rows(plan):
        located = [c for c in cells if c.id in ret.cells]
        if located and len(located) == len(cells) and all(ret.cells[c.id].value is None for c in cells):
            yield finding(
                "input.table_blank",
                f"{cells[0].where} {table.title}：局机关一行全部未填写",
                sheet=cells[0].sheet,
                cell=cells[0].ref,
            )


@lru_cache(maxsize=64)
def _org_rows(plan: Plan) -> tuple[tuple[Table, list[Cell]], ...]:
    """Each finance table with the input cells of its 局机关 row, once per plan."""
    return tuple(
        (table, [c for c in plan.inputs() if c.id.startswith(f"{table.id}.org.")])
        for table in plan.edition.form.tables
    )
