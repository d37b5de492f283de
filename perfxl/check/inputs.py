"""Read every input cell of a return: parse hand-typed numbers and 是/否, flag unreadable and blank ones.

An input cell holding a formula is noted (its result is used); one whose formula reaches outside
the workbook is an 错误 and its value is not used. A number shown as a date is noted too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from perfxl.check.reader import Located, Return
from perfxl.check.text import fmt, int_text, where
from perfxl.engine.catalogue import finding
from perfxl.engine.compute import Scalar, formula_inputs
from perfxl.engine.findings import Finding
from perfxl.engine.formula_risk import danger
from perfxl.engine.layout import Cell, Plan
from perfxl.engine.numbers import parse_number, parse_yesno
from perfxl.spec import NUMBER_UNITS


@dataclass
class Read:
    """The inputs as read: values, which could not be read at all, which Excel sees as text."""

    values: dict[str, Scalar] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)  # missing sheet/row, or unreadable text
    textual: set[str] = field(default_factory=set)  # numbers stored as text: Excel's sums skip them
    unanswered: set[str] = field(default_factory=set)  # 是/否 left blank: not “否”, just not known


def read_inputs(plan: Plan, ret: Return, out: list[Finding]) -> Read:
    read = Read()
    for cell in plan.inputs():
        found = ret.cells.get(cell.id)
        if found is None:
            # A deleted row reads as blank (its label_missing finding says so); a whole missing sheet
            # leaves its inputs unknown, so nothing is recomputed from them.
            if cell.sheet not in ret.sheet_names:
                read.unknown.add(cell.id)
            continue
        value, status = _parse(cell, found, out, cell.id in formula_inputs(plan))
        read.values[cell.id] = value
        if status == "error":
            read.unknown.add(cell.id)
        elif status == "text":
            read.textual.add(cell.id)
        if value is None and status != "error" and cell.type == "yesno":
            read.unanswered.add(cell.id)
        if value is None and status != "error" and cell.required:
            blank_score = cell.id.startswith("score.") and cell.id.endswith(".self")
            item = cell.id.split(".")[1] if blank_score else None
            if blank_score:
                tail = "，按 0 分计入总分"
            elif cell.type == "yesno":
                tail = "（应填“是”或“否”；空白不等于“否”），依此计分的评分项暂无法复核"
            else:
                tail = "，按 0 计算" if cell.feeds else ""
            out.append(
                finding(
                    f"score.{item}.blank" if item else "input.blank",
                    f"{where(found)} {cell.label}：未填写{tail}",
                    sheet=found.sheet,
                    cell=found.ref,
                    item=item,
                )
            )
    return read


def _parse(cell: Cell, found: Located, out: list[Finding], in_formulas: bool) -> tuple[Scalar, str]:
    """(value, status): status is ok | error (unreadable) | text (a number Excel holds as text)."""
    if found.formula is not None and not _formula_ok(cell, found, out):
        return None, "error"
    raw = found.value
    if cell.type in ("text", "longtext"):
        if raw is None:
            return None, "ok"
        text = int_text(raw) if isinstance(raw, float) else str(raw).strip()
        return text or None, "ok"
    note = None
    if cell.unit == "年" and isinstance(raw, str) and raw.strip().endswith("年"):
        note, raw = f"“{raw.strip()}”按 {raw.strip()[:-1].strip()} 读取", raw.strip()[:-1]
    parsed = parse_yesno(raw) if cell.type == "yesno" else parse_number(raw, NUMBER_UNITS[cell.type])
    if parsed.error:
        out.append(
            finding(
                "input.invalid",
                f"{where(found)} {cell.label}：{parsed.error}",
                sheet=found.sheet,
                cell=found.ref,
                reported=found.value,
            )
        )
        return None, "error"
    value, note = parsed.value, parsed.note or note
    as_text = in_formulas and isinstance(raw, str) and isinstance(value, Decimal)
    if parsed.from_yuan:  # an explicit unit is exact: converted, and said, since 万元 was asked for
        excel = "；Excel 的合计和公式会把文本当作 0" if as_text else ""
        out.append(
            finding(
                "input.yuan",
                f"{where(found)} {cell.label}：{note}{excel}；本表金额单位为万元，请改填 {fmt(value)}",
                sheet=found.sheet,
                cell=found.ref,
                reported=found.value,
                expected=value,
            )
        )
    elif as_text:
        why = note or f"“{str(raw).strip()}”是以文本形式存储的数字"
        out.append(
            finding(
                "input.text_number",
                f"{where(found)} {cell.label}：{why}；Excel 的合计和公式会把文本当作 0，"
                "请改填纯数字（审核已按该数字计算）",
                sheet=found.sheet,
                cell=found.ref,
                reported=found.value,
                expected=value,
            )
        )
    elif note:
        out.append(
            finding(
                "input.normalized",
                f"{where(found)} {cell.label}：{note}",
                sheet=found.sheet,
                cell=found.ref,
                reported=found.value,
                expected=value,
            )
        )
    if found.date and isinstance(value, Decimal) and isinstance(raw, float):
        out.append(
            finding(
                "input.date",
                f"{where(found)} {cell.label}：单元格设置成了日期格式（显示为 {_as_date(raw)}），"
                f"按数值 {fmt(value)} 读取；请核对所填内容，并把单元格格式改为“常规”或“数值”",
                sheet=found.sheet,
                cell=found.ref,
                reported=value,
            )
        )
    if isinstance(value, Decimal):
        bad = _out_of_range(cell, value)
        if bad:
            out.append(
                finding(
                    "input.range",
                    f"{where(found)} {cell.label}：{bad}",
                    sheet=found.sheet,
                    cell=found.ref,
                    reported=value,
                )
            )
    return value, "text" if as_text else "ok"


def _out_of_range(cell: Cell, value: Decimal) -> str | None:
    if value < 0 and not cell.signed and cell.type != "score":
        return f"不应为负数（填报 {fmt(value)}）"
    if cell.type in ("integer", "count") and value != value.to_integral_value():
        return f"应为整数（填报 {fmt(value)}）"
    if cell.type == "percent" and value > 100:
        return f"百分比不应超过 100（填报 {fmt(value)}）"
    return None


def _formula_ok(cell: Cell, found: Located, out: list[Finding]) -> bool:
    """Report a formula typed into an input cell; False if it reaches outside (its value unused)."""
    formula = found.formula or ""
    shown = formula if len(formula) <= 60 else formula[:60] + "…"
    why = danger(formula)
    if why:
        out.append(
            finding(
                "input.formula_dangerous",
                f"{where(found)} {cell.label}：填写格中的公式 ={shown} 会访问工作簿以外的资源（{why}）；"
                "审核没有执行它、未采用其结果，审核副本中已去掉该公式；请直接填写数值后重新报送",
                sheet=found.sheet,
                cell=found.ref,
                reported="=" + shown,
            )
        )
        return False
    out.append(
        finding(
            "input.formula",
            f"{where(found)} {cell.label}：填写格中是公式 ={shown}（已按其计算结果读取）；"
            "填写格应直接填写数值或文字",
            sheet=found.sheet,
            cell=found.ref,
            reported="=" + shown,
        )
    )
    return True


def _as_date(serial: float) -> str:
    """An Excel serial number as the date it shows (1900 date system)."""
    from datetime import datetime, timedelta

    try:
        return (datetime(1899, 12, 30) + timedelta(days=serial)).strftime("%Y-%m-%d")
    except (OverflowError, ValueError):
        return "日期"
