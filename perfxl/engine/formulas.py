"""Render each formula cell of a plan as Excel formula text (the twin of compute.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from perfxl.engine import sentences
from perfxl.engine.compute import grade_bands
from perfxl.engine.layout import Cell, Plan, a1, col_letter
from perfxl.spec import SpecError, expr, kinds
from perfxl.spec.kinds import Cells
from perfxl.spec.kinds.common import grade_formula, metric_formula

Place = tuple[str, int, int]  # (sheet, row, col) a field is read from
Where = Callable[[str], Place]
EXCEL_FORMULA_LIMIT = 8192  # characters of a formula, with its '='


def cell_ref(plan: Plan, fid: str, from_sheet: str) -> str:
    """A1 reference to a field, sheet-qualified when it lives on another sheet."""
    target = plan.cells[fid]
    return _ref((target.sheet, target.row, target.col), from_sheet)


def absolute_ref(plan: Plan, fid: str) -> str:
    """'Sheet'!$B$13: a draft copied (not pasted as values) into another cell still reads the same cells."""
    target = plan.cells[fid]
    return f"'{target.sheet}'!${col_letter(target.col)}${target.row + 1}"


def _ref(place: Place, from_sheet: str) -> str:
    sheet, row, col = place
    return a1(row, col) if sheet == from_sheet else f"'{sheet}'!{a1(row, col)}"


def _ranges(places: list[Place], sheet: str) -> str:
    """Comma-joined references, with runs of consecutive cells in one column as ranges."""
    parts: list[str] = []
    k = 0
    while k < len(places):
        end = k
        while (
            end + 1 < len(places)
            and places[end + 1][0] == places[k][0]
            and places[end + 1][2] == places[k][2]
            and places[end + 1][1] == places[end][1] + 1
        ):
            end += 1
        first = _ref(places[k], sheet)
        parts.append(first if end == k else f"{first}:{a1(places[end][1], places[end][2])}")
        k = end + 1
    return ",".join(parts)


def formula(
    plan: Plan,
    cell: Cell,
    *,
    where: Where | None = None,
    sheet: str | None = None,
    reading: str | None = None,
) -> str:
    """The formula of a formula cell, with the leading '='.

    By default it reads the plan's own cells from the cell's own sheet. The self-check recomputes
    a cell elsewhere: ``where`` then says where each field is read from, ``sheet`` where the formula
    is written, and ``reading`` which reading of a rubric score to render.
    """
    calc = cell.calc
    assert calc is not None
    rubric = plan.edition.rubric
    here = sheet or cell.sheet

    def place(fid: str) -> Place:
        if where is not None:
            return where(fid)
        target = plan.cells[fid]
        return target.sheet, target.row, target.col

    def ref(fid: str) -> str:
        return _ref(place(fid), here)

    if calc.kind == "expr":
        assert calc.expr is not None
        text = expr.to_excel(calc.expr, ref)
    elif calc.kind == "sum":
        text = f"SUM({_ranges([place(a) for a in calc.args], here)})"
    elif calc.kind == "metric":
        assert calc.item is not None
        text = metric_formula(rubric.item(calc.item).rule, ref, rubric.rate_decimals)
    elif calc.kind == "score":
        assert calc.item is not None
        item = rubric.item(calc.item)
        metric = f"metric.{item.id}"
        cells = Cells(ref, ref(f"score.{item.id}.self"), rubric.rate_decimals, rubric.score_decimals, reading)
        text = kinds.formula(item, ref(metric) if metric in plan.cells else None, cells)
    elif calc.kind == "grade":
        total, *counted = calc.args
        text = grade_formula(ref(total), grade_bands(plan))
        if counted:
            text = f'IF(COUNT({_ranges([place(c) for c in counted], here)})=0,"",{text})'
    elif calc.kind == "copy":
        source = ref(calc.args[0])
        text = f'IF({source}="","",{source})'
    elif calc.kind == "draft":

        def filled(fid: str) -> str:
            numeric = plan.cells[fid].type in sentences.NUMERIC
            return f"ISNUMBER({absolute_ref(plan, fid)})" if numeric else f'{absolute_ref(plan, fid)}<>""'

        formats = sentences.formats_of(plan.edition)
        text = sentences.formula(calc.sentences, lambda f: absolute_ref(plan, f), filled, formats)
        if len(text) >= EXCEL_FORMULA_LIMIT:
            raise SpecError(
                f"{plan.edition.form.source}: narrative: 段落 {cell.id.removeprefix('draft.')}："
                f"参考文字的公式有 {len(text) + 1} 个字符，超过 Excel 的上限 {EXCEL_FORMULA_LIMIT}；"
                "请把句子分到几个段落"
            )
    else:
        raise ValueError(f"unknown calc kind {calc.kind}")
    return "=" + text


@lru_cache(maxsize=64)
def formulas_of(plan: Plan) -> dict[str, str]:
    """Every formula cell's formula, computed once per plan."""
    return {c.id: formula(plan, c) for c in plan.formulas()}
