"""Render each formula cell of a plan as Excel formula text (the twin of compute.py)."""

from __future__ import annotations

from functools import lru_cache

from perfxl.engine import sentences
from perfxl.engine.compute import grade_bands
from perfxl.engine.layout import Cell, Plan, a1, col_letter
from perfxl.spec import SpecError, expr, kinds
from perfxl.spec.kinds import Cells
from perfxl.spec.kinds.common import grade_formula, metric_formula

EXCEL_FORMULA_LIMIT = 8192  # characters of a formula, with its '='


def cell_ref(plan: Plan, fid: str, from_sheet: str) -> str:
    """A1 reference to a field, sheet-qualified when it lives on another sheet."""
    target = plan.cells[fid]
    return target.ref if target.sheet == from_sheet else f"'{target.sheet}'!{target.ref}"


def absolute_ref(plan: Plan, fid: str) -> str:
    """'Sheet'!$B$13: a draft copied (not pasted as values) into another cell still reads the same cells."""
    target = plan.cells[fid]
    return f"'{target.sheet}'!${col_letter(target.col)}${target.row + 1}"


def _ranges(plan: Plan, ids: tuple[str, ...] | list[str], sheet: str) -> str:
    """Comma-joined references, with runs of consecutive cells in one column as ranges."""
    cells = [plan.cells[i] for i in ids]
    parts: list[str] = []
    k = 0
    while k < len(cells):
        end = k
        while (
            end + 1 < len(cells)
            and cells[end + 1].sheet == cells[k].sheet
            and cells[end + 1].col == cells[k].col
            and cells[end + 1].row == cells[end].row + 1
        ):
            end += 1
        first = cell_ref(plan, cells[k].id, sheet)
        parts.append(first if end == k else f"{first}:{a1(cells[end].row, cells[end].col)}")
        k = end + 1
    return ",".join(parts)


def formula(plan: Plan, cell: Cell) -> str:
    """The formula of a formula cell, with the leading '='."""
    calc = cell.calc
    assert calc is not None
    rubric = plan.edition.rubric

    def ref(fid: str) -> str:
        return cell_ref(plan, fid, cell.sheet)

    if calc.kind == "expr":
        assert calc.expr is not None
        text = expr.to_excel(calc.expr, ref)
    elif calc.kind == "sum":
        text = f"SUM({_ranges(plan, calc.args, cell.sheet)})"
    elif calc.kind == "metric":
        assert calc.item is not None
        text = metric_formula(rubric.item(calc.item).rule, ref, rubric.rate_decimals)
    elif calc.kind == "score":
        assert calc.item is not None
        item = rubric.item(calc.item)
        metric = f"metric.{item.id}"
        cells = Cells(ref, ref(f"score.{item.id}.self"), rubric.rate_decimals, rubric.score_decimals)
        text = kinds.formula(item, ref(metric) if metric in plan.cells else None, cells)
    elif calc.kind == "grade":
        total, *counted = calc.args
        text = grade_formula(ref(total), grade_bands(plan))
        if counted:
            text = f'IF(COUNT({_ranges(plan, counted, cell.sheet)})=0,"",{text})'
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
