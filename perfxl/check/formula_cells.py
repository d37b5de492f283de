"""Formula cells: overwritten or changed formulas, and cached results that disagree with the recomputation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from functools import lru_cache
from typing import Any

from perfxl.check.inputs import Read
from perfxl.check.reader import Located, Return
from perfxl.check.text import UNIT_TEXT, fmt, number, show, text_of, where
from perfxl.engine.catalogue import finding, formula_rule
from perfxl.engine.compute import Computation, input_dependencies
from perfxl.engine.findings import Finding
from perfxl.engine.formulas import formulas_of
from perfxl.engine.layout import Cell, Plan
from perfxl.spec import expr

_FORMULA_NOISE = re.compile(r"[\s$']")


def check_formulas(plan: Plan, ret: Return, calc: Computation, tol: Decimal, read: Read) -> Iterator[Finding]:
    rubric = plan.edition.rubric
    expected = _expected_formulas(plan)
    deps = input_dependencies(plan)
    # A result built on an unreadable input, or on a number Excel holds as text, is not the
    # return's fault twice: the input's own finding says it; comparing would only cascade.
    doubtful = read.unknown | read.textual
    uncached = 0
    for cell in plan.formulas():
        found = ret.cells.get(cell.id)
        if found is None:
            continue
        if ret.values_only:  # .xls/.ods: no formulas to compare (file.values_only says so)
            pass
        elif found.formula is None and found.value is None:
            yield finding(
                "formula.overwritten",
                f"{where(found)} {_label(plan, cell)}：公式被删除（现为空白）；请恢复公式",
                sheet=found.sheet,
                cell=found.ref,
            )
        elif found.formula is None and cell.calc is not None and cell.calc.kind == "draft":
            yield finding(
                "formula.overwritten",
                f"{where(found)} {_label(plan, cell)}：自动生成的参考文字被改写为固定文字"
                "（已按报告正文核对）；报告正文请写在下面的“报告正文”格",
                sheet=found.sheet,
                cell=found.ref,
            )
        elif found.formula is None:
            yield finding(
                "formula.overwritten",
                f"{where(found)} {_label(plan, cell)}：原为公式，现被改为固定值"
                f"“{show(found.value)}”；请恢复公式",
                sheet=found.sheet,
                cell=found.ref,
                reported=found.value,
            )
        elif (
            found.how == "name"
            and found.ref == cell.ref
            and _norm_formula(found.formula) != expected[cell.id]
        ):
            yield finding(
                "formula.changed",
                f"{where(found)} {_label(plan, cell)}：公式被改动（现为 ={found.formula}，"
                f"应为 {formulas_of(plan)[cell.id]}）",
                sheet=found.sheet,
                cell=found.ref,
                reported="=" + found.formula,
                expected=formulas_of(plan)[cell.id],
            )
        if cell.calc is not None and cell.calc.kind == "draft":
            continue  # a draft is a suggestion, not a figure: its text is the report's to check
        want = calc.values.get(cell.id)
        if not found.cached:  # saved without a result (or with an empty one): nothing was reported
            uncached += want is not None
            continue
        if deps[cell.id] & doubtful:
            continue
        if cell.type == "text":
            reported_text = text_of(found.value) or None
            if reported_text != want:
                yield _mismatch(plan, cell, found, reported_text, want, None)
            continue
        reported = number(found, cell.type)
        if ret.values_only and want is None and reported == 0:
            reported = None  # a formula's empty result reads as 0 from .xls (python-calamine)
        if reported is None and want is None:
            continue
        limit = rubric.score_tolerance if cell.type == "score" else tol
        if reported is None or not isinstance(want, Decimal) or abs(reported - want) > limit:
            diff = reported - want if reported is not None and isinstance(want, Decimal) else None
            yield _mismatch(plan, cell, found, reported, want, diff)
    if uncached:
        yield finding("formula.no_cache", n=uncached)


def _norm_formula(text: str) -> str:
    """Formula text without what re-saving tools change: spaces, $, sheet-name quotes, case."""
    return _FORMULA_NOISE.sub("", text.lstrip("=")).upper()


@lru_cache(maxsize=64)
def _expected_formulas(plan: Plan) -> dict[str, str]:
    return {k: _norm_formula(v) for k, v in formulas_of(plan).items()}


def _mismatch(
    plan: Plan, cell: Cell, found: Located, reported: Any, expected: Any, diff: Decimal | None
) -> Finding:
    kind = cell.calc.kind if cell.calc else ""
    rid, why = _formula_rule(plan, cell)
    unit = UNIT_TEXT.get(cell.type, "")
    if reported is not None:
        shown = f"{fmt(reported)}{unit}"
    else:  # an error value such as #VALUE! is quoted as it shows
        shown = f"“{found.value}”" if isinstance(found.value, str) and found.value.strip() else "空白"
    want = f"{fmt(expected)}{unit}" if expected is not None else "空白"
    gap = f"（相差 {fmt(diff)}）" if diff is not None and kind in ("sum", "expr") else ""
    return finding(
        rid,
        f"{where(found)} {_label(plan, cell)}：填报 {shown}，{why.format(want=want)}{gap}",
        sheet=found.sheet,
        cell=found.ref,
        item=cell.calc.item if cell.calc else None,
        reported=reported,
        expected=expected,
        difference=diff,
    )


def _formula_rule(plan: Plan, cell: Cell) -> tuple[str, str]:
    """(rule id, phrase with {want}) for a formula cell whose reported value is wrong."""
    calc = cell.calc
    assert calc is not None
    rule = formula_rule(plan, cell)
    if rule.startswith("sum."):
        return rule, "按各单位（机构）合计应为 {want}"
    if calc.kind == "expr":
        return rule, f"按“{_identity_text(plan, cell)}”应为 {{want}}"
    if calc.kind == "metric":
        return rule, "按填报数据计算应为 {want}"
    if calc.kind == "score":
        return rule, "按评分标准计算应为 {want}（公式被改动或未重新计算）"
    if cell.id.startswith("perf."):
        return rule, "应与评分表一致，即 {want}"
    if calc.kind == "grade":
        return rule, "按总分及等次标准应为 {want}"
    return rule, "按各项得分合计应为 {want}"


def _identity_text(plan: Plan, cell: Cell) -> str:
    assert cell.calc is not None and cell.calc.expr is not None
    return f"{cell.label} = " + expr.to_excel(cell.calc.expr, lambda f: plan.cells[f].label)


def _label(plan: Plan, cell: Cell) -> str:
    """A formula cell's name as a finance officer says it: 收入合计（1、局机关）."""
    if cell.sheet == plan.sheet("finance").name:
        return f"{cell.label}（{cell.path[2]}）"
    return cell.label
