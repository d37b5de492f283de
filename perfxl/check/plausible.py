"""Plausibility: amounts that look like 元, totals at a grade edge, targets without numbers, unit and year."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from functools import lru_cache

from perfxl.check.reader import Return
from perfxl.check.text import fmt, number_of, q, text_of
from perfxl.engine.catalogue import finding
from perfxl.engine.compute import Computation, Scalar
from perfxl.engine.findings import Finding
from perfxl.engine.layout import Cell, Plan
from perfxl.engine.text import squash_spaces

_DIGIT = re.compile(r"[0-9０-９零一二三四五六七八九十百千万亿两半]")


def plausibility(plan: Plan, ret: Return, inputs: dict[str, Scalar], calc: Computation) -> Iterator[Finding]:
    p = plan.edition.rubric.plausibility

    def value(fid: str) -> Decimal | None:
        return number_of(plan, inputs, calc, fid)

    for cell in plan.inputs():
        v = value(cell.id) if cell.type == "amount" else None
        if v is not None and abs(v) > p["max_amount"]:
            yield finding(
                "plausible.yuan",
                f"{cell.where} {cell.label}：{fmt(v)} 万元（即 {fmt(v / 10000)} 亿元）过大，"
                "疑似以元填报，需核实（本表金额单位为万元）；核实更正前，本报表的金额不计入全区收支汇总的合计",
                sheet=cell.sheet,
                cell=cell.ref,
                reported=v,
            )
    spent, staff = value("expense.total.total"), value("unit.staff_actual")
    if spent and staff and spent / staff > p["max_per_capita"]:
        where = plan.cells["expense.total.total"]
        yield finding(
            "plausible.per_capita",
            f"{where.where} 支出合计 {fmt(spent)} 万元，人均 {fmt(q(spent / staff))} 万元，"
            f"超过 {fmt(p['max_per_capita'])} 万元/人，是否按元填写？",
            sheet=where.sheet,
            cell=where.ref,
            reported=spent,
        )
    for a, b in p["pairs"]:
        va, vb = value(a), value(b)
        if va and vb and (abs(va / vb) >= p["pair_ratio"] or abs(vb / va) >= p["pair_ratio"]):
            ca, cb = plan.cells[a], plan.cells[b]
            yield finding(
                "plausible.scale",
                f"{ca.where} {ca.label} {fmt(va)} 万元与 {cb.label} {fmt(vb)} 万元相差上千倍，"
                "是否有一项按元填写？",
                sheet=ca.sheet,
                cell=ca.ref,
                reported=va,
                expected=vb,
            )
    for cell in _quantitative_done(plan):
        target = inputs.get(cell.id.replace(".done", ".target"))
        done = inputs.get(cell.id)
        if target and isinstance(done, str) and not _DIGIT.search(done):
            yield finding(
                "plausible.no_number",
                f"{cell.where} {cell.label}：“{done[:20]}”没有任何数字，定量目标的完成情况宜写明完成数",
                sheet=cell.sheet,
                cell=cell.ref,
                reported=done,
            )


@lru_cache(maxsize=64)
def _quantitative_done(plan: Plan) -> tuple[Cell, ...]:
    """The 完成情况 inputs of the quantitative targets (not the qualitative ones), once per plan."""
    return tuple(
        cell
        for cell in plan.inputs()
        if re.fullmatch(r"perf\.[a-z]+(\.\d+)?\.done", cell.id) and not cell.id.startswith("perf.qual.")
    )


def grade_edge(plan: Plan, total: Decimal) -> Iterator[Finding]:
    margin = plan.edition.rubric.plausibility["grade_margin"]
    for g in plan.edition.rubric.grades:
        if g.min > 0 and abs(total - g.min) < margin:
            cell = plan.cells["total.ref"]
            side = "以上" if total >= g.min else "以下"
            yield finding(
                "plausible.grade_edge",
                f"{cell.where} 复核总分 {fmt(total)} 分，距“{g.label}”分界线 {fmt(g.min)} 分不足 "
                f"{fmt(margin)} 分（在分界线{side}），请重点复核",
                sheet=cell.sheet,
                cell=cell.ref,
                reported=total,
                expected=g.min,
            )


def check_meta(ret: Return, inputs: dict[str, Scalar]) -> Iterator[Finding]:
    """The template's metadata is the return's identity: a name, code or year typed on 基本概况 that
    disagrees is said at its cell, and the return still counts as the unit and year it was issued for."""
    typed = {
        "unit": text_of(inputs.get("unit.name")),
        "code": text_of(inputs.get("unit.code")),
        "year": str(int(y)) if isinstance(y := inputs.get("unit.year"), Decimal) else "",
    }
    for key, fid, what in (
        ("unit", "unit.name", "单位名称"),
        ("code", "unit.code", "预算编码"),
        ("year", "unit.year", "年度"),
    ):
        issued, mine = ret.meta.get(key) or "", typed[key]
        if not issued or not mine or squash_spaces(mine) == squash_spaces(issued):
            continue
        found = ret.cells.get(fid)
        place = f"{found.sheet}!{found.ref} " if found else ""
        yield finding(
            f"meta.{key}",
            f"{place}{what}填的是“{mine}”，而本表是下发给“{issued}”的模板（{what}以模板为准，"
            f"本表仍记为“{issued}”）；请确认是否报错了表或填错了{what}",
            sheet=found.sheet if found else None,
            cell=found.ref if found else None,
            reported=mine,
            expected=issued,
        )
