"""Findings about what a return would run or reach, and about what could not be verified in it.

A formula outside the input cells that reaches outside the workbook (DDE, another file, the
network) is an 错误 (``formula.dangerous``; the input cells' own are reported by ``inputs``);
a VBA project (``file.macros``) and links to other workbooks (``file.external_links``) are said,
since the review copy drops them; a return read from .xls/.ods gets one note that its formulas
could not be verified (``file.values_only``). Nothing here is ever run or followed.
"""

from __future__ import annotations

from collections.abc import Iterator

from perfxl.check.reader import Return
from perfxl.engine.catalogue import finding
from perfxl.engine.findings import Finding

_SHOWN = 60  # characters of a formula quoted in a message


def check_safety(ret: Return) -> Iterator[Finding]:
    inputs = {(c.sheet, c.ref) for fid, c in ret.cells.items() if ret.plan.cells[fid].is_input}
    for sheet, where, formula, why in ret.dangerous:
        if (sheet, where) in inputs:
            continue  # the input's own finding (input.formula_dangerous) says it
        place = f"{sheet}!{where}" if sheet else f"定义名称“{where}”"
        yield finding(
            "formula.dangerous",
            f"{place} 的公式 ={_cut(formula)} 会访问工作簿以外的资源（{why}）；审核没有执行它，"
            "审核副本中已去掉该公式；请报送单位删除该公式后重新报送",
            sheet=sheet,
            cell=where if sheet else None,
            reported="=" + _cut(formula),
        )
    if ret.macros:
        yield finding("file.macros")
    if ret.external_links:
        shown = "、".join(_cut(t, 40) for t in ret.external_links[:3])
        more = f"等 {len(ret.external_links)} 个" if len(ret.external_links) > 3 else ""
        yield finding("file.external_links", targets=shown + more)
    if ret.values_only:
        yield finding("file.values_only", kind="." + ret.kind)


def _cut(text: str, limit: int = _SHOWN) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[:limit] + "…"
