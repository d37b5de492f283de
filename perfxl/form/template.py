"""Write the official form as an .xlsx workbook (xlsxwriter only lives here).

Draws a layout plan: labels, input cells with validation and defined names, live formulas with
correct cached values, protection, print setup and the hidden metadata that identifies a return.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from perfxl.atomic import atomic_target
from perfxl.engine import selfcheck
from perfxl.engine.compute import Scalar, compute, input_dependencies
from perfxl.engine.formulas import cell_ref, formula
from perfxl.engine.layout import MARGINS, META_SHEET, Cell, Plan, SheetPlan, build_plan, col_letter
from perfxl.form import selfcheck as selfcheck_sheet
from perfxl.form.meta import Unit, metadata
from perfxl.form.prefill import coerce
from perfxl.form.styles import BODY_FONT, FORMULA_FILL, HEADER_FILL, INPUT_FILL, TITLE_FONT
from perfxl.spec import Edition, expr, load_edition

NUMBER_FORMATS = {
    "amount": "#,##0.00",
    "percent": "0.00",
    "integer": "0",
    "count": "0",
    "score": "0.##;-0.##;0",
}


class _Styles:
    """The workbook's formats, made once."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        base = {"font_name": BODY_FONT, "font_size": 11, "valign": "vcenter", "text_wrap": True}
        boxed = {**base, "border": 1}
        self.role = {
            "title": wb.add_format(
                {**base, "font_name": TITLE_FONT, "bold": True, "font_size": 16, "align": "center"}
            ),
            "subtitle": wb.add_format({**base, "font_name": TITLE_FONT, "bold": True, "font_size": 12}),
            "header": wb.add_format(
                {**boxed, "font_name": TITLE_FONT, "bold": True, "align": "center", "bg_color": HEADER_FILL}
            ),
            "label": wb.add_format({**boxed, "align": "center"}),
            "label_left": wb.add_format({**boxed, "align": "left"}),
            "text": wb.add_format({**boxed, "font_size": 10, "align": "left", "valign": "top"}),
            "note": wb.add_format({**base, "font_size": 10, "align": "left", "valign": "top"}),
            "blank": wb.add_format(boxed),
        }
        self.hidden = wb.add_format({"num_format": ";;;"})  # shows nothing, whatever the value
        self._wb = wb
        self._boxed = boxed
        self._cache: dict[tuple[str, bool], Format] = {}

    def cell(self, cell: Cell) -> Format:
        key = (cell.type, cell.is_input)
        if key not in self._cache:
            props: dict[str, Any] = dict(self._boxed)
            props["bg_color"] = INPUT_FILL if cell.is_input else FORMULA_FILL
            props["locked"] = not cell.is_input
            if cell.type in NUMBER_FORMATS:
                props["num_format"] = NUMBER_FORMATS[cell.type]
                props["align"] = "center" if cell.type == "score" else "right"
            elif cell.type in ("yesno", "text"):
                props["align"] = "center"
            else:  # long text, typed or (the 评价报告's drafts) computed
                props["align"] = "left"
                props["valign"] = "top"
            self._cache[key] = self._wb.add_format(props)
        return self._cache[key]


def write_template(
    path: str | os.PathLike[str],
    edition: Edition | None = None,
    unit: Unit | None = None,
    values: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
    generated_at: datetime | None = None,
) -> Plan:
    """Write one workbook atomically (a temporary file renamed into place); returns its plan.

    ``values`` prefills inputs by field id (numbers as Decimal/int/float/str, 是/否, text).
    """
    edition = edition or load_edition()
    unit = unit or Unit()
    plan = build_plan(edition, options)
    inputs = _inputs(plan, unit, values or {})
    stamp = generated_at or datetime.now(timezone.utc).astimezone()
    with atomic_target(path) as tmp:
        _write(str(tmp), plan, unit, inputs, stamp)
    return plan


def _inputs(plan: Plan, unit: Unit, values: Mapping[str, Any]) -> dict[str, Scalar]:
    given: dict[str, Any] = {
        "unit.name": unit.name or None,
        "unit.code": unit.code or None,
        "unit.year": unit.year,
    }
    given.update(values)
    out: dict[str, Scalar] = {}
    for fid, raw in given.items():
        if raw is None or raw == "":
            continue
        out[fid] = coerce(plan, fid, raw)
    return out


def _write(path: str, plan: Plan, unit: Unit, inputs: Mapping[str, Scalar], stamp: datetime) -> None:
    calc = compute(plan, inputs)
    wb = xlsxwriter.Workbook(
        path, {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    )
    try:
        meta = metadata(plan, unit, stamp)
        wb.set_properties(
            {
                "title": plan.edition.form.title,
                "subject": unit.name,
                "author": "perfxl",
                "company": unit.name,
                "created": stamp,
                "comments": f"{plan.edition.name} / {plan.fingerprint}",
            }
        )
        for key, value in meta.items():
            wb.set_custom_property(f"perfxl.{key}", value or "-")
        wb.set_calc_mode("auto")
        styles = _Styles(wb)
        check, looks = selfcheck.build(plan), selfcheck_sheet.Formats(wb)
        shown = selfcheck.cached(check, plan, inputs, calc)
        sheets = {}
        for n, sp in enumerate(plan.sheets):
            ws = sheets[sp.name] = wb.add_worksheet(sp.name)
            _draw(ws, sp, plan, styles, unit, inputs, calc.values)
            if n == 0:  # 自查 comes second, after 填报说明, which shows its count too
                selfcheck_sheet.draw(wb, wb.add_worksheet(selfcheck.SHEET), check, looks, plan, shown)
                selfcheck_sheet.instructions(ws, sp, looks, shown[(selfcheck.SUMMARY_ROW, 0)])
        selfcheck_sheet.mark(sheets, check, looks)
        for cell in plan.cells.values():
            col = col_letter(cell.col)
            wb.define_name(cell.name, f"='{cell.sheet}'!${col}${cell.row + 1}")
        hidden = wb.add_worksheet(META_SHEET)
        for r, (key, value) in enumerate(meta.items()):
            hidden.write_string(r, 0, key)
            hidden.write_string(r, 1, value)
        hidden.very_hidden()
        hidden.protect()
        sheets[plan.sheets[1].name].activate()  # open on 基本概况, after 填报说明 and 自查
    finally:
        wb.close()


def _draw(
    ws: Worksheet,
    sp: SheetPlan,
    plan: Plan,
    styles: _Styles,
    unit: Unit,
    inputs: Mapping[str, Scalar],
    values: Mapping[str, Scalar],
) -> None:
    for c, width in enumerate(sp.widths):
        ws.set_column(c, c, width)
    for r, height in sp.heights.items():
        ws.set_row(r, height)
    for s in sp.slots:
        fmt = styles.role[s.role]
        if s.rows > 1 or s.cols > 1:
            ws.merge_range(s.row, s.col, s.row + s.rows - 1, s.col + s.cols - 1, s.text, fmt)
        else:
            ws.write_string(s.row, s.col, s.text, fmt)
    for cell in sp.cells:
        fmt = styles.cell(cell)
        span = sp.merges.get((cell.row, cell.col))
        if span:
            ws.merge_range(cell.row, cell.col, cell.row + span[0] - 1, cell.col + span[1] - 1, "", fmt)
        if cell.is_input:
            _write_value(ws, cell, inputs.get(cell.id), fmt)
            _validate(ws, cell, plan)
        else:
            ws.write_formula(cell.row, cell.col, formula(plan, cell), fmt, _cached(values.get(cell.id)))
    _blank_while_unfilled(ws, sp, plan, styles)
    _fit_text_rows(ws, sp, {**inputs, **values})
    _page(ws, sp, plan, unit)
    ws.protect("", {"format_columns": True, "format_rows": True})


def _blank_while_unfilled(ws: Worksheet, sp: SheetPlan, plan: Plan, styles: _Styles) -> None:
    """A result read straight off inputs shows blank, not 0, until they are filled in: a metric such
    as 满意度, and the 自评 totals (总分, 小计, 绩效自评综合得分) before any self-score is given.

    Only its look (a conditional number format): the formula and its value stay (a blank counts as
    0, as Excel counts it), so the 参考得分 and the checker see what they always saw.
    """
    rubric = plan.edition.rubric
    deps = input_dependencies(plan)
    for cell in sp.cells:
        calc = cell.calc
        if calc is None:
            continue
        refs: list[str] = []
        if calc.kind == "metric" and calc.item is not None:
            metric = rubric.item(calc.item).rule.metric
            refs = list(expr.refs(metric.value)) if metric is not None and metric.value is not None else []
            refs = refs if all(plan.cells[r].is_input for r in refs) else []
        elif calc.kind in ("sum", "copy") and cell.type == "score":
            scores = sorted(deps[cell.id])
            refs = scores if scores and all(plan.cells[r].type == "score" for r in scores) else []
        if not refs:
            continue
        filled = ",".join(_absolute(cell_ref(plan, r, cell.sheet)) for r in refs)
        ws.conditional_format(
            cell.row,
            cell.col,
            cell.row,
            cell.col,
            {"type": "formula", "criteria": f"=COUNTA({filled})=0", "format": styles.hidden},
        )


def _absolute(ref: str) -> str:
    """B16 -> $B$16 (a sheet prefix kept): the same cell wherever the rule is evaluated from."""
    sheet, bang, a1 = ref.rpartition("!")
    col = a1.rstrip("0123456789")
    return f"{sheet}{bang}${col}${a1[len(col) :]}"


def _fit_text_rows(ws: Worksheet, sp: SheetPlan, texts: Mapping[str, Scalar]) -> None:
    """Grow rows whose long text (prefilled, or a draft as computed) would not fit the planned height
    (Excel won't on print)."""
    heights = dict(sp.heights)
    for cell in sp.cells:
        text = texts.get(cell.id)
        if cell.type != "longtext" or not isinstance(text, str):
            continue
        cols = sp.merges.get((cell.row, cell.col), (1, 1))[1]
        width = sum(sp.widths[cell.col : cell.col + cols])
        per_line = max(1, int(width / 2.1))  # a CJK character is about two width units at 11 pt
        lines = sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))
        needed = min(409, 15 * lines + 8)
        if needed > heights.get(cell.row, 15):
            heights[cell.row] = needed
            ws.set_row(cell.row, needed)


def _cached(value: Scalar) -> float | str:
    if isinstance(value, Decimal):
        return float(value)
    return "" if value is None else str(value)


def _write_value(ws: Worksheet, cell: Cell, value: Scalar, fmt: Format) -> None:
    if value is None:
        ws.write_blank(cell.row, cell.col, None, fmt)
    elif isinstance(value, Decimal):
        ws.write_number(cell.row, cell.col, float(value), fmt)
    else:
        ws.write_string(cell.row, cell.col, str(value), fmt)


def input_message(cell: Cell, plan: Plan) -> tuple[str, str]:
    """(title, message) of the cell's input prompt, quoting the rules it feeds (≤ 32 / 255 chars)."""
    rubric = plan.edition.rubric
    unit = "是/否" if cell.type == "yesno" else (cell.unit or "")
    title = cell.label if len(cell.label) <= 30 else cell.label[:29] + "…"
    kinds = {
        "amount": "金额，单位万元，保留两位小数",
        "percent": "百分数，如 95 表示 95%",
        "integer": "整数",
        "count": "个数（整数）",
        "yesno": "请从下拉列表选择“是”或“否”",
        "score": "得分",
        "text": "文字",
        "longtext": "文字，可多行（Alt+Enter 换行）",
    }
    parts = [f"{kinds[cell.type]}{'（' + unit + '）' if unit and cell.type == 'integer' else ''}。"]
    if cell.type == "score" and cell.max is not None:
        parts.append(f"填 0～{format(cell.max.normalize(), 'f')} 分。")
    if cell.type == "amount" and not cell.signed:
        parts.append("不得为负数。")
    items = {i.id: i for i in rubric.items}
    for fid in cell.feeds:
        if fid in items:
            item = items[fid]
            parts.append(f"用于{fid}“{item.name}”：{item.standard or ''}")
        else:
            ident = next((i for i in rubric.identities if i.id == fid), None)
            if ident is not None:
                parts.append(f"须满足：{ident.label}。")
    if cell.required:
        parts.append("必填。")
    text = "".join(parts)
    return title, text if len(text) <= 255 else text[:254] + "…"


def _validate(ws: Worksheet, cell: Cell, plan: Plan) -> None:
    title, message = input_message(cell, plan)
    opts: dict[str, Any] = {
        "input_title": title,
        "input_message": message,
        "error_title": "输入有误",
        "error_type": "stop",
    }
    if cell.type == "yesno":
        opts.update(validate="list", source=["是", "否"], error_message="请选择“是”或“否”。")
    elif cell.type in ("amount", "percent", "score"):
        low = cell.min if cell.min is not None else (Decimal(-1e12) if cell.signed else Decimal(0))
        high = (
            cell.max if cell.max is not None else (Decimal(100) if cell.type == "percent" else Decimal(1e12))
        )
        opts.update(
            validate="decimal",
            criteria="between",
            minimum=float(low),
            maximum=float(high),
            error_message=f"请填数字（{_range_text(cell, low, high)}），不要带单位或文字。",
        )
    elif cell.type in ("integer", "count"):
        low = cell.min if cell.min is not None else Decimal(0)
        high = cell.max if cell.max is not None else Decimal(1000000)
        opts.update(
            validate="integer",
            criteria="between",
            minimum=int(low),
            maximum=int(high),
            error_message=f"请填整数（{_range_text(cell, low, high)}）。",
        )
    else:
        opts.update(validate="any")
        opts.pop("error_title")
        opts.pop("error_type")
    ws.data_validation(cell.row, cell.col, cell.row, cell.col, opts)


def _range_text(cell: Cell, low: Decimal, high: Decimal) -> str:
    if cell.signed:
        return "可为负数"
    if high >= Decimal(1e6):
        return f"不小于 {format(low.normalize(), 'f')}"
    return f"{format(low.normalize(), 'f')}～{format(high.normalize(), 'f')}"


def _page(ws: Worksheet, sp: SheetPlan, plan: Plan, unit: Unit) -> None:
    ws.set_paper(9)  # A4
    if sp.landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_margins(**MARGINS)
    if sp.repeat:
        ws.repeat_rows(*sp.repeat)
    if sp.breaks:
        ws.set_h_pagebreaks(sp.breaks)
    name = (unit.name or plan.edition.form.title).replace("&", "&&")
    ws.set_footer(f"&L&8{name}&C&8第 &P 页，共 &N 页&R&8{sp.name}")
    ws.hide_gridlines(2)


def file_name(unit: Unit) -> str:
    stem = "_".join(p for p in (unit.code, unit.name) if p) or "模板"
    safe = "".join("_" if ch in '\\/:*?"<>|' or ord(ch) < 32 else ch for ch in stem).strip(". ")
    return f"{safe or '模板'}.xlsx"
