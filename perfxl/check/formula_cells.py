"""Formula cells: overwritten or changed formulas, and cached results that disagree with the recomputation."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from functools import lru_cache
from typing import Any

from perfxl.check import references
from perfxl.check.inputs import Read
from perfxl.check.reader import Located, Return
from perfxl.check.text import UNIT_TEXT, fmt, number, show, text_of, where
from perfxl.engine.catalogue import finding, formula_rule
from perfxl.engine.compute import Computation, input_dependencies
from perfxl.engine.findings import Finding
from perfxl.engine.formulas import formulas_of
from perfxl.engine.layout import Cell, Plan
from perfxl.spec import expr


def check_formulas(plan: Plan, ret: Return, calc: Computation, tol: Decimal, read: Read) -> Iterator[Finding]:
    rubric = plan.edition.rubric
    written = _expected_texts(plan)
    as_written = _raw_texts(plan)  # most formulas come back exactly as we wrote them
    locate: references.Locate | None = None  # made for the first formula that needs resolving
    # Where every field sits where the template put it, a formula written as we wrote it reads
    # what ours reads: only one written otherwise needs resolving (most returns: none).
    in_place = all(
        loc.sheet == plan.cells[fid].sheet and loc.ref == plan.cells[fid].ref
        for fid, loc in ret.cells.items()
    )
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
        elif not (
            in_place and (found.formula == as_written[cell.id] or _plain(found.formula) == written[cell.id])
        ):
            locate = locate or _locator(ret)
            found_parts = references.resolve(found.formula, found.sheet, locate)
            if not references.same(_expected_parts(plan)[cell.id], found_parts):  # resolved once per plan
                yield _changed(plan, ret, cell, found, found.formula, found_parts)
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


@lru_cache(maxsize=64)
def _expected_parts(plan: Plan) -> dict[str, list[references.Part]]:
    """Each formula cell's formula as we wrote it, resolved through the template's layout."""
    at = {(c.sheet, c.ref): c.id for c in plan.cells.values()}

    def locate(sheet: str, ref: str) -> references.Target:
        return at.get((sheet, ref)) or references.Stray(sheet, ref, True)

    return {
        fid: references.resolve(text, plan.cells[fid].sheet, locate)
        for fid, text in formulas_of(plan).items()
    }


_NOISE = str.maketrans("", "", " \t\r\n$'")


def _plain(formula: str) -> str:
    """Formula text without what re-saving tools change: spaces, $, sheet-name quotes, case."""
    return formula.lstrip("=").translate(_NOISE).upper()


@lru_cache(maxsize=64)
def _expected_texts(plan: Plan) -> dict[str, str]:
    return {fid: _plain(text) for fid, text in formulas_of(plan).items()}


@lru_cache(maxsize=64)
def _raw_texts(plan: Plan) -> dict[str, str]:
    """Our formulas as a workbook stores them (no leading =): equal text needs no normalising."""
    return {fid: text.lstrip("=") for fid, text in formulas_of(plan).items()}


def _locator(ret: Return) -> references.Locate:
    """What a cell of the return is: the field located there, or a stray cell (empty or not)."""
    at = {(loc.sheet, loc.ref): fid for fid, loc in ret.cells.items()}

    def locate(sheet: str, ref: str) -> references.Target:
        if (
            sheet not in ret.sheets
        ):  # the template's name of a sheet renamed by a tool that left formulas alone
            sheet = ret.sheet_names.get(sheet, sheet)
        fid = at.get((sheet, ref))
        if fid is not None:
            return fid
        found = ret.sheets[sheet].cells.get(ref) if sheet in ret.sheets else None
        blank = found is None or (found.formula is None and found.value in (None, ""))
        return references.Stray(sheet, ref, blank)

    return locate


def _changed(
    plan: Plan, ret: Return, cell: Cell, found: Located, formula: str, parts: list[references.Part]
) -> Finding:
    """formula.changed, with the formula it should be where the return has its fields."""

    def place(fid: str) -> tuple[str, str] | None:
        loc = ret.cells.get(fid)
        return (loc.sheet, loc.ref) if loc else None

    want = references.render(_expected_parts(plan)[cell.id], found.sheet, place) or formulas_of(plan)[cell.id]
    extra = references.strays(parts)
    why = ""
    if extra:
        cells = "、".join(f"{s.sheet}!{s.ref}" if s.sheet != found.sheet else s.ref for s in extra[:3])
        why = f"；它还计入了模板之外的 {cells}{'等' if len(extra) > 3 else ''}（有内容）"
    return finding(
        "formula.changed",
        f"{where(found)} {_label(plan, cell)}：公式被改动（现为 ={formula}，应为 {want}）{why}",
        sheet=found.sheet,
        cell=found.ref,
        reported="=" + formula,
        expected=want,
    )


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
