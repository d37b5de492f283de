"""Draw the 自查 sheet (``engine.selfcheck``) into a template, with its marks on the form's cells.

Plain Excel only — formulas, internal hyperlinks, conditional formats and one defined name — so
it works the same in Excel, WPS and LibreOffice, with no macros.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from perfxl.engine import selfcheck
from perfxl.engine.compute import Scalar
from perfxl.engine.layout import Plan, SheetPlan, col_letter
from perfxl.engine.selfcheck import (
    EXPECTED,
    HEADER,
    HEADER_ROW,
    HELPER,
    NOTE,
    NOTE_ROW,
    REPORTED,
    STATUS,
    SUMMARY_ROW,
    TITLE_ROW,
    WIDTHS,
    SelfCheck,
)
from perfxl.form.styles import (
    BAD_TEXT,
    BODY_FONT,
    HEADER_FILL,
    REQUIRED_FILL,
    SEVERITY_FILLS,
    TITLE_FONT,
    wrapped_lines,
)

NUMBER_FORMATS = {"amount": "#,##0.00", "score": "0.##;-0.##;0", "percent": "0.00"}
ALIGN = {"amount": "right", "percent": "right"}  # scores and texts centred, as on the form
GOOD_TEXT = "#006100"  # Excel's own "good" green


def draw(
    wb: xlsxwriter.Workbook,
    ws: Worksheet,
    sc: SelfCheck,
    f: Formats,
    plan: Plan,
    values: Mapping[tuple[int, int], Scalar],
) -> None:
    """The 自查 sheet: title, the live count line, the explanation, then one row per check;
    ``values`` are the cached values (``selfcheck.cached``)."""
    for c, width in enumerate(WIDTHS):
        ws.set_column(c, c, width)
    helpers = max((len(c.helpers) for c in sc.checks), default=0)
    if helpers:  # the recomputed metrics and the other readings' scores: needed, not for reading
        ws.set_column(HELPER, HELPER + helpers - 1, 10, None, {"hidden": True})
    last = len(WIDTHS) - 1
    ws.merge_range(TITLE_ROW, 0, TITLE_ROW, last, f"{selfcheck.SHEET}（报送前自行核对）", f.title)
    ws.set_row(TITLE_ROW, 30)
    ws.merge_range(SUMMARY_ROW, 0, SUMMARY_ROW, last, "", f.summary)
    ws.write_formula(SUMMARY_ROW, 0, sc.summary, f.summary, values[(SUMMARY_ROW, 0)])
    ws.set_row(SUMMARY_ROW, 26)
    note = selfcheck.EXPLAINED.format(tol=_num(plan.edition.rubric.tolerance))
    ws.merge_range(NOTE_ROW, 0, NOTE_ROW, last, note, f.note)
    ws.set_row(NOTE_ROW, 48)
    for c, title in enumerate(HEADER):
        ws.write_string(HEADER_ROW, c, title, f.header)
    ws.set_row(HEADER_ROW, 22)
    for check in sc.checks:
        r = check.row
        if check.kind == "heading":
            ws.merge_range(r, 0, r, last, check.label, f.heading)
            ws.set_row(r, 22)
            continue
        ws.write_number(r, 0, check.number or 0, f.center)
        ws.write_string(r, 1, check.label, f.text)
        if check.sheet and check.ref:
            where = f"{check.sheet}!{check.ref}"
            ws.write_url(r, 2, f"internal:'{check.sheet}'!{check.ref}", f.link, where, "转到该单元格")
        number = f.number(check.type)
        for col, text in ((REPORTED, check.reported), (EXPECTED, check.expected)):
            if text:
                ws.write_formula(r, col, text, number, _cache(values.get((r, col))))
            else:
                ws.write_blank(r, col, None, number)
        ws.write_formula(r, STATUS, check.status or "", f.status, values.get((r, STATUS), ""))
        if check.note and check.note.startswith("="):
            ws.write_formula(r, NOTE, check.note, f.text, values.get((r, NOTE), ""))
        else:
            ws.write_string(r, NOTE, check.note or "", f.text)
        for k, text in enumerate(check.helpers):
            if text:
                ws.write_formula(r, HELPER + k, text, f.center, _cache(values.get((r, HELPER + k))))
        lines = max(_lines(check.label, WIDTHS[1]), _lines(check.note or "", WIDTHS[NOTE]))
        ws.set_row(r, max(20, 14 * lines + 6))
    status = f"{col_letter(STATUS)}{sc.first + 1}:{col_letter(STATUS)}{sc.last + 1}"
    for word, look in ((selfcheck.FIX, f.fix), (selfcheck.BLANK, f.blank), (selfcheck.OK, f.good)):
        ws.conditional_format(
            status, {"type": "cell", "criteria": "==", "value": f'"{word}"', "format": look}
        )
    ws.conditional_format(
        SUMMARY_ROW,
        0,
        SUMMARY_ROW,
        0,
        {"type": "formula", "criteria": f'=COUNTIF({sc.status_range},"{selfcheck.FIX}")>0', "format": f.fix},
    )
    wb.define_name(selfcheck.STATUS_NAME, f"='{selfcheck.SHEET}'!{sc.status_range}")
    ws.freeze_panes(HEADER_ROW + 1, 0)
    ws.repeat_rows(HEADER_ROW, HEADER_ROW)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
    ws.set_footer(f"&C&8第 &P 页，共 &N 页&R&8{selfcheck.SHEET}")
    ws.hide_gridlines(2)
    ws.protect("", {"format_columns": False, "format_rows": True})


def mark(sheets: Mapping[str, Worksheet], sc: SelfCheck, f: Formats) -> None:
    """Conditional formats on the form: red while a check needs fixing, orange on a required blank."""
    for m in sc.marks:
        ws = sheets[m.sheet]
        look = f.fix if m.style == "fix" else f.blank
        ws.conditional_format(
            m.row,
            m.col,
            m.row + m.rows - 1,
            m.col + m.cols - 1,
            {"type": "formula", "criteria": "=" + m.formula, "format": look},
        )


def instructions(ws: Worksheet, sp: SheetPlan, f: Formats, summary: Scalar) -> None:
    """The live count line on 填报说明, below its notes (``summary``: its cached text), and what the
    colours mean."""
    row = max(s.row + s.rows for s in sp.slots) + 1
    cols = len(sp.widths) - 1
    ws.merge_range(row, 0, row, cols, "", f.summary_left)
    ws.write_formula(row, 0, f"='{selfcheck.SHEET}'!A{SUMMARY_ROW + 1}", f.summary_left, _cache(summary))
    ws.set_row(row, 24)
    legend = "橙色：必填项未填写　　红色：自查发现需修改（详见“自查”表）"
    ws.merge_range(row + 1, 0, row + 1, cols, legend, f.note)


class Formats:
    """The formats of the 自查 sheet and its marks, made once per workbook."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        base: dict[str, Any] = {
            "font_name": BODY_FONT,
            "font_size": 10,
            "valign": "vcenter",
            "text_wrap": True,
        }
        boxed = {**base, "border": 1}
        self.title = wb.add_format(
            {**base, "font_name": TITLE_FONT, "font_size": 16, "bold": True, "align": "center"}
        )
        self.summary = wb.add_format({**base, "font_name": TITLE_FONT, "font_size": 13, "bold": True})
        self.summary_left = wb.add_format({**base, "font_name": TITLE_FONT, "font_size": 12, "bold": True})
        self.note = wb.add_format({**base, "valign": "top"})
        self.header = wb.add_format(
            {**boxed, "font_name": TITLE_FONT, "bold": True, "align": "center", "bg_color": HEADER_FILL}
        )
        self.heading = wb.add_format({**boxed, "font_name": TITLE_FONT, "bold": True, "font_size": 11})
        self.text = wb.add_format({**boxed, "align": "left"})
        self.center = wb.add_format({**boxed, "align": "center"})
        self.link = wb.add_format({**boxed, "align": "center", "font_color": "#0563C1", "underline": 1})
        self.status = wb.add_format({**boxed, "align": "center", "bold": True})
        self._numbers = {
            t: wb.add_format({**boxed, "align": ALIGN.get(t, "center"), "num_format": fmt})
            for t, fmt in NUMBER_FORMATS.items()
        }
        self.fix = wb.add_format({"bg_color": SEVERITY_FILLS["错误"], "font_color": BAD_TEXT})
        self.blank = wb.add_format({"bg_color": REQUIRED_FILL})
        self.good = wb.add_format({"font_color": GOOD_TEXT})

    def number(self, ftype: str | None) -> Format:
        return self._numbers.get(ftype or "", self.center)


def _cache(value: Scalar) -> float | str:
    if isinstance(value, Decimal):
        return float(value)
    return "" if value is None else str(value)


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _lines(text: str, width: float) -> int:
    return wrapped_lines(text, width - 1)
