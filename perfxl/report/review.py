"""The annotated copy of a return: a 审核意见 sheet in front, then 评分项复核, and every flagged cell marked.

``write_review`` loads the return with openpyxl (formulas kept, but nothing from the return live:
see ``sanitize``), adds the review sheet as the first and active sheet and the item table as the
second (a sheet of its own, so each prints under its own header), gives each flagged cell a fill by
severity and a comment with its findings, and writes the copy (always .xlsx) atomically. The input
file is only read, never written.

Fix or explain: beside each finding the review sheet has an unlocked 单位说明 cell (prefilled with
the unit's explanation from an earlier round, if any) and a hidden key naming the finding, so a
unit may send the copy back with its explanations typed in (``check.explanations`` reads them).
A returned copy is reviewed like any return: its old review sheets and marks are replaced.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from perfxl import __version__
from perfxl.atomic import atomic_target
from perfxl.check.explanations import EXPLANATION_HEADER, KEY_HEADER, REVIEW_SHEET, review_key
from perfxl.check.limits import LIMITS, Budget, LimitExceeded, Limits
from perfxl.check.package import XlsxReadError, read_source
from perfxl.check.result import CheckResult, ItemResult
from perfxl.engine.findings import ERROR, INFO, SEVERITIES, WARNING, Finding
from perfxl.form.styles import (
    BODY_FONT,
    FORMULA_FILL,
    HEADER_FILL,
    INPUT_FILL,
    LINE_HEIGHT,
    SEVERITY_FILLS,
    TITLE_FONT,
    wrapped_lines,
)
from perfxl.oserror import shown
from perfxl.report.sanitize import open_for_review

SHEET = REVIEW_SHEET
ITEMS_SHEET = "评分项复核"
AUTHOR = "perfxl 审核"
FILLS = {s: colour.lstrip("#") for s, colour in SEVERITY_FILLS.items()}  # openpyxl takes RRGGBB
# A flagged cell's frame: INFO's fill is the template's own formula-cell colour, and fills fade
# on a black-and-white printer, so the mark must also show in the cell's outline.
FRAMES = {ERROR: "C00000", WARNING: "BF8F00", INFO: "2F75B5"}
# Column widths of the review sheet (序号 级别 位置 规则 填报值 复核值 说明 单位说明, and the hidden
# 核对键); 规则 is widened to the longest rule id shown, so no id breaks mid-word; and of the item sheet.
WIDTHS = (7, 22, 16, 19, 13, 13, 48, 34)
ITEM_WIDTHS = (8, 30, 8, 8, 8, 14, 56)
FINDING_HEADER = ("序号", "级别", "位置", "规则", "填报值", "复核值", "说明", EXPLANATION_HEADER)
ITEM_HEADER = ("评分项", "名称", "分值", "自评", "复核", "可接受得分", "说明")
KEY_COL = len(FINDING_HEADER) + 1  # the hidden 核对键, right of 单位说明
LAST = len(WIDTHS)  # the sheet's last column: the header and section titles span up to it
_FORMULA_START = ("=", "+", "-", "@")
_THIN = Side(style="thin", color="808080")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def write_review(
    source: Path,
    result: CheckResult,
    output: Path,
    checked_at: datetime | None = None,
    limits: Limits = LIMITS,
) -> Path:
    """Write ``source`` annotated with ``result`` to ``output`` (atomically); return ``output``.

    Raises ``ValueError`` (Chinese message) when the copy cannot be made, ``OSError`` when it
    cannot be written."""
    source, output = Path(source), Path(output)
    if result.status == "unusable":
        raise ValueError(f"{source.name}：无法读取的文件不生成审核意见（{result.reason or '不可用'}）")
    if output.exists() and output.resolve() == source.resolve():
        raise ValueError(f"审核意见不能覆盖被审核的文件本身：{source}")
    budget = Budget(limits)
    try:
        data = read_source(source, limits)  # read once: the bytes hashed are the bytes annotated
    except (XlsxReadError, LimitExceeded) as e:
        raise ValueError(str(e)) from None
    sha256 = hashlib.sha256(data).hexdigest()
    if result.sha256 and result.sha256.lower() != sha256:
        raise ValueError(f"{source.name} 在审核之后已被改动（SHA-256 不符），请重新审核")
    wb = open_for_review(data, limits, budget)
    try:
        if SHEET in wb.sheetnames:  # a review copy sent back: its old review gives way to this one
            wb.remove(wb[SHEET])
            if ITEMS_SHEET in wb.sheetnames:
                wb.remove(wb[ITEMS_SHEET])
            _unmark_cells(wb)
        _mark_cells(wb, result.findings)
        ws = wb.create_sheet(SHEET, 0)
        _draw(ws, result, shown(source.name), sha256, checked_at or datetime.now())
        _draw_items(wb.create_sheet(ITEMS_SHEET, 1), result)
        for other in wb.worksheets:
            other.sheet_view.tabSelected = other is ws
        wb.active = 0
        with atomic_target(output) as tmp:
            wb.save(tmp)
    finally:
        wb.close()
    return output


# ------------------------------------------------------------------ marking the return's cells


def _mark_cells(wb: Any, findings: Iterable[Finding]) -> None:
    """Fill each flagged cell by its most severe finding and comment it with all its messages."""
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if not f.sheet or not f.cell or f.sheet not in wb.sheetnames:
            continue
        cell = _target(wb[f.sheet], f.cell)
        if cell is not None:
            by_cell.setdefault((f.sheet, cell.coordinate), []).append(f)
    for (sheet, coord), found in by_cell.items():
        cell = wb[sheet][coord]
        open_ = [f for f in found if not f.explained]  # an explained 警告 or 提示 needs no eye-catcher
        worst = min(open_, key=lambda f: _rank(f.severity)) if open_ else None
        if worst is not None and worst.severity in FILLS:
            cell.fill = _fill(FILLS[worst.severity])
            side = Side(style="medium", color=FRAMES[worst.severity])
            cell.border = Border(left=side, right=side, top=side, bottom=side)
        text = "\n".join(f"【{_level(f)}】{_clean(f.message)}" for f in found)
        if cell.comment is not None and cell.comment.text:  # keep the unit's own note
            text = f"{cell.comment.text}\n——\n{text}"
        lines = wrapped_lines(text, 44)
        cell.comment = Comment(text[:32000], AUTHOR, width=320, height=min(600, 18 + 15 * lines))


def _unmark_cells(wb: Any) -> None:
    """Take an earlier review's marks off a returned review copy: its comments (keeping the unit's
    own note) and its fills and frames (back to the template's input or formula look)."""
    thin = Side(style="thin")
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                comment = cell.comment
                if comment is None or comment.author != AUTHOR:
                    continue
                own = comment.text.split("\n——\n")[0] if "\n——\n" in comment.text else None
                cell.comment = Comment(own, "") if own else None
                look = INPUT_FILL if cell.protection.locked is False else FORMULA_FILL
                cell.fill = _fill(look.lstrip("#"))
                cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)


def _target(ws: Worksheet, ref: str) -> Cell | None:
    """The writable cell a finding's reference points to (a range's or a merge's top-left)."""
    try:
        min_col, min_row, _, _ = range_boundaries(ref.replace("$", ""))
    except (ValueError, TypeError):
        return None
    if min_col is None or min_row is None:
        return None
    for merged in ws.merged_cells.ranges:
        if merged.min_row <= min_row <= merged.max_row and merged.min_col <= min_col <= merged.max_col:
            min_row, min_col = merged.min_row, merged.min_col
            break
    return ws.cell(row=min_row, column=min_col)


# ------------------------------------------------------------------ the review sheet


def _draw(ws: Worksheet, result: CheckResult, file_name: str, sha256: str, checked_at: datetime) -> None:
    widths = _widths(result)
    for i, width in enumerate(widths):
        ws.column_dimensions[get_column_letter(i + 1)].width = width
    ws.sheet_view.showGridLines = False
    ws.sheet_view.zoomScale = 100

    _put(ws, 1, 1, SHEET, font=_font(TITLE_FONT, 16, bold=True), align="center", span=LAST)
    ws.row_dimensions[1].height = 30
    stamp = checked_at.astimezone() if checked_at.tzinfo else checked_at
    pairs = [
        ("单位", result.unit, "预算编码", result.code),
        ("年度", result.year, "版本", result.edition),
        ("审核时间", stamp.isoformat(sep=" ", timespec="minutes"), "审核工具", f"perfxl {__version__}"),
        ("报送轮次", _round_text(result), "已说明", f"{result.explained} 项"),
    ]
    row = 2
    for label1, value1, label2, value2 in pairs:
        _label(ws, row, 1, label1, span=2)
        _put(ws, row, 3, value1, span=3, border=True)
        _label(ws, row, 6, label2)
        _put(ws, row, 7, value2, border=True)
        row += 1
    for label, value in (("文件", file_name), ("SHA-256", sha256)):
        _label(ws, row, 1, label, span=2)
        _put(ws, row, 3, value, span=5, border=True)
        _fit(ws, row, value, sum(widths[2:]))
        row += 1

    # totals: 项目 | 自评 | 复核 | 差异 | 结论 (F:G)
    _header(ws, row, ("项目", None, "自评", "复核", "差异", "结论", None), spans={1: 2, 6: 2})
    diff = (
        result.reported_total - result.recomputed_total
        if result.reported_total is not None and result.recomputed_total is not None
        else None
    )
    _label(ws, row + 1, 1, "总分", span=2)
    for col, total in ((3, result.reported_total), (4, result.recomputed_total), (5, diff)):
        _put(ws, row + 1, col, total, border=True, align="center", number="0.00")
    verdict, severe = _verdict(result)
    _put(
        ws,
        row + 1,
        6,
        verdict,
        span=2,
        border=True,
        align="left",
        font=_font(TITLE_FONT, 11, bold=True, color="C00000" if severe else "000000"),
    )
    _label(ws, row + 2, 1, "评价等次", span=2)
    same = result.reported_grade == result.recomputed_grade
    for col, grade in (
        (3, result.reported_grade),
        (4, result.recomputed_grade),
        (5, "一致" if same else "不一致"),
    ):
        _put(ws, row + 2, col, grade, border=True, align="center")
    red = _font(BODY_FONT, 10, bold=True, color="C00000")
    if diff:
        ws.cell(row=row + 1, column=5).font = red
    if not same:
        ws.cell(row=row + 2, column=5).font = red
    counts = result.counts
    said = "　".join(f"{s} {counts[s]} 项" for s in SEVERITIES)
    if result.explained:
        said += f"　已说明 {result.explained} 项"
    _put(ws, row + 2, 6, said, span=2, border=True)
    row += 4

    # findings, frozen and filtered, their header repeated on every printed page
    section = _font(TITLE_FONT, 12, bold=True)
    _put(ws, row, 1, f"审核发现（共 {len(result.findings)} 条）", font=section, span=LAST)
    row += 1
    _put(ws, row, 1, EXPLAIN_HINT, span=LAST, font=_font(BODY_FONT, 9, color="595959"))
    _fit(ws, row, EXPLAIN_HINT, sum(widths))
    row += 1
    _header(ws, row, FINDING_HEADER)
    _put(ws, row, KEY_COL, KEY_HEADER)
    ws.column_dimensions[get_column_letter(KEY_COL)].hidden = True
    head = row
    sheets = set(ws.parent.sheetnames)
    for n, f in enumerate(result.findings, 1):
        row += 1
        _finding_row(ws, row, n, f, sheets, widths)
    if not result.findings:
        row += 1
        _put(ws, row, 1, "未发现问题", span=LAST, border=True, align="center")
    ws.auto_filter.ref = f"A{head}:{get_column_letter(KEY_COL)}{max(row, head + 1)}"
    ws.freeze_panes = f"A{head + 1}"
    ws.print_title_rows = f"{head}:{head}"
    if result.round is not None and result.round > 1:
        row = _changes(ws, row + 2, result, sheets, widths)

    _page(ws, result.unit, SHEET)
    _protect(ws)


def _draw_items(ws: Worksheet, result: CheckResult) -> None:
    """评分项复核: each item's self-score and ours, on a sheet of its own (its own printed header)."""
    for i, width in enumerate(ITEM_WIDTHS):
        ws.column_dimensions[get_column_letter(i + 1)].width = width
    ws.sheet_view.showGridLines = False
    _put(ws, 1, 1, ITEMS_SHEET, font=_font(TITLE_FONT, 16, bold=True), align="center", span=7)
    ws.row_dimensions[1].height = 30
    _header(ws, 2, ITEM_HEADER)
    labels = _reading_labels(result.edition)
    for row, item in enumerate(result.items, start=3):
        _item_row(ws, row, item, labels)
    ws.freeze_panes = "A3"
    ws.print_title_rows = "2:2"
    _page(ws, result.unit, ITEMS_SHEET)


EXPLAIN_HINT = (
    "单位可在“单位说明”一栏逐条填写说明，并将本文件报回：“警告”“提示”经说明后列为“已说明”，"
    "不再计入未处理的问题；“错误”须修改，说明仅供参考。说明会保留到以后各次报送，所涉数值改变后需重新说明。"
)


def _level(f: Finding) -> str:
    return f"{f.severity}·已说明" if f.explained else f.severity


def _message(f: Finding) -> str:
    """A finding's 说明; a consequence's names its cause's 序号 in the findings table."""
    message = f.message
    if f.cause is not None and message.endswith("）") and "（起因：" in message:
        message = f"{message[:-1]}，见第 {f.cause + 1} 条）"
    return message


def _round_text(result: CheckResult) -> str:
    if result.round is None:
        return "—（未登记数据库）"
    return f"第 {result.round} 次报送"


def _changes(
    ws: Worksheet, row: int, result: CheckResult, sheets: set[str], widths: tuple[float, ...]
) -> int:
    """What this round fixed and what is new, since the previous round; returns the last row used."""
    section = _font(TITLE_FONT, 12, bold=True)
    title = (
        f"与第 {(result.round or 1) - 1} 次报送相比：已修正 {len(result.fixed)} 条，新增 {len(result.new)} 条"
    )
    _put(ws, row, 1, title, font=section, span=LAST)
    row += 1
    _header(ws, row, ("序号", "变化", "位置", "规则", "填报值", "复核值", "说明", None))
    for n, (word, f) in enumerate(
        [*(("已修正", f) for f in result.fixed), *(("新增", f) for f in result.new)], 1
    ):
        row += 1
        _put(ws, row, 1, n, border=True, align="center")
        _put(ws, row, 2, f"{word}（{f.severity}）", border=True, align="center")
        _put(ws, row, 3, f.where or "（全表）", border=True, align="center")
        _rule(ws, row, f.rule)
        _put(ws, row, 5, _short(f.reported), border=True, align="center", number="auto")
        _put(ws, row, 6, _short(f.expected), border=True, align="center", number="auto")
        message = _message(f)
        _put(ws, row, 7, message, border=True)
        _fit(ws, row, message, widths[6], f.where, widths[2])
    if not result.fixed and not result.new:
        row += 1
        _put(ws, row, 1, "与上次报送的问题相同", span=7, border=True, align="center")
    return row


def _protect(ws: Worksheet) -> None:
    """Only 单位说明 can be typed in (no password): filtering and row heights stay free."""
    ws.protection.sheet = True
    ws.protection.autoFilter = False
    ws.protection.formatRows = False
    ws.protection.formatColumns = False


def _widths(result: CheckResult) -> tuple[float, ...]:
    """The review sheet's column widths, 规则 as wide as the longest rule id shown (up to a limit)."""
    longest = max((len(f.rule) for f in result.findings), default=0)
    rule = min(max(WIDTHS[3], longest * 1.1 + 2), 36)
    return (*WIDTHS[:3], rule, *WIDTHS[4:])


def _finding_row(
    ws: Worksheet, row: int, n: int, f: Finding, sheets: set[str], widths: tuple[float, ...]
) -> None:
    _put(ws, row, 1, n, border=True, align="center")
    level = _put(ws, row, 2, _level(f), border=True, align="center")
    if f.severity in FILLS and not f.explained:
        level.fill = _fill(FILLS[f.severity])
    place = _put(ws, row, 3, f.where or "（全表）", border=True, align="center")
    if f.sheet and f.cell and f.sheet in sheets and _target(ws.parent[f.sheet], f.cell) is not None:
        quoted = f.sheet.replace("'", "''")
        place.hyperlink = Hyperlink(
            ref=place.coordinate, location=f"'{quoted}'!{f.cell}", tooltip="转到该单元格", display=f.where
        )
        place.font = _font(BODY_FONT, 10, color="0563C1", underline="single")
    elif f.sheet and f.sheet not in sheets:
        place.value = f"{_clean(f.where)}（工作表不存在）"
        place.data_type = "s"
    _rule(ws, row, f.rule)
    _put(ws, row, 5, _short(f.reported), border=True, align="center", number="auto")
    _put(ws, row, 6, _short(f.expected), border=True, align="center", number="auto")
    message = _message(f)
    _put(ws, row, 7, message, border=True)
    said = _put(ws, row, 8, f.explanation, border=True)
    said.protection = Protection(locked=False)
    said.fill = _fill(INPUT_FILL.lstrip("#"))
    key = _put(ws, row, KEY_COL, review_key(f))
    key.protection = Protection(locked=True, hidden=True)
    _fit(
        ws,
        row,
        message,
        widths[6],
        f.explanation,
        widths[7],
        place.value,
        widths[2],
        _text_or_none(_short(f.reported)),
        widths[4],
        _text_or_none(_short(f.expected)),
        widths[5],
    )


def _item_row(ws: Worksheet, row: int, item: ItemResult, labels: dict[str, str]) -> None:
    own_ok = item.self is not None and (item.self == item.recomputed or item.self in item.defensible)
    values = (
        item.id,
        item.name,
        item.max,
        item.self,
        item.recomputed,
        "、".join(_num_text(d) for d in item.defensible) or None,
    )
    for col, value in enumerate(values, 1):
        _put(ws, row, col, value, border=True, align="left" if col == 2 else "center", number="General")
    notes = [item.note] if item.note else []
    if item.defensible and item.reading:
        notes.append(f"自评符合“{labels.get(item.reading, item.reading)}”的读法")
    text = "；".join(notes) or None
    _put(ws, row, 7, text, border=True)
    _fit(ws, row, text, ITEM_WIDTHS[6], item.name, ITEM_WIDTHS[1])
    if item.self != item.recomputed:
        colour = FILLS[WARNING] if own_ok else FILLS[ERROR]
        for col in range(1, 8):
            ws.cell(row=row, column=col).fill = _fill(colour)


def _rule(ws: Worksheet, row: int, rule: str) -> None:
    """A rule id on one line (its column is as wide as the longest: see ``_widths``), never broken."""
    cell = _put(ws, row, 4, rule, border=True)
    cell.alignment = Alignment(horizontal="left", vertical="center", wrap_text=False, shrink_to_fit=True)


def _verdict(result: CheckResult) -> tuple[str, bool]:
    counts = result.counts
    if counts[ERROR]:
        return f"有 {counts[ERROR]} 项错误，需退回修改", True
    if counts[WARNING]:
        return f"未发现错误，有 {counts[WARNING]} 项警告，请核实", False
    return "未发现错误", False


def _page(ws: Worksheet, unit: str | None, title: str) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top, ws.page_margins.bottom = 0.6, 0.7
    name = _clean(unit or "")[:100].replace("&", "&&")
    ws.oddFooter.left.text, ws.oddFooter.left.size = name, 8
    ws.oddFooter.center.text, ws.oddFooter.center.size = "第 &P 页，共 &N 页", 8
    ws.oddFooter.right.text, ws.oddFooter.right.size = title, 8
    ws.oddFooter.left.font = ws.oddFooter.center.font = ws.oddFooter.right.font = BODY_FONT


# ------------------------------------------------------------------ small helpers


def _put(
    ws: Worksheet,
    row: int,
    col: int,
    value: Any,
    *,
    span: int = 1,
    border: bool = False,
    align: str = "left",
    font: Font | None = None,
    number: str | None = None,
) -> Cell:
    """Write one value safely: numbers as numbers, text always as text (never a formula)."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, bool):
        value = "是" if value else "否"
    if isinstance(value, (Decimal, int, float)) and not isinstance(value, bool):
        cell.value = _number(value)
        if number == "auto":  # 256.7 → 256.70, a count or a whole score as is
            number = "General" if isinstance(cell.value, int) else "0.00"
        cell.number_format = number or "General"
    elif value is not None:
        text = _clean(str(value))
        cell.value = text
        cell.data_type = "s"  # e.g. a unit named "=HYPERLINK(…)" stays text
        if text.startswith(_FORMULA_START):
            cell.quotePrefix = True
    cell.font = font or _font(BODY_FONT, 10)
    cell.alignment = Alignment(horizontal=align, vertical="center", wrap_text=True)
    if span > 1:
        ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=col + span - 1)
    if border:
        for c in range(col, col + span):
            ws.cell(row=row, column=c).border = _BOX
    return cell


def _label(ws: Worksheet, row: int, col: int, text: str, span: int = 1) -> None:
    _put(ws, row, col, text, span=span, border=True, align="center", font=_font(TITLE_FONT, 10, bold=True))
    for c in range(col, col + span):
        ws.cell(row=row, column=c).fill = _fill(HEADER_FILL.lstrip("#"))


def _header(
    ws: Worksheet, row: int, titles: Iterable[str | None], spans: dict[int, int] | None = None
) -> None:
    spans = spans or {}
    for col, title in enumerate(titles, 1):
        if title is not None:
            _label(ws, row, col, title, span=spans.get(col, 1))


def _fit(ws: Worksheet, row: int, *texts_and_widths: Any) -> None:
    """Set a row tall enough for its wrapped texts (Excel does not grow merged or printed rows)."""
    lines = 1
    pairs = zip(texts_and_widths[::2], texts_and_widths[1::2], strict=True)
    for text, width in pairs:
        if text is None:
            continue
        lines = max(lines, wrapped_lines(str(text), width - 1.0))
    ws.row_dimensions[row].height = max(ws.row_dimensions[row].height or 0, 6 + LINE_HEIGHT * lines, 20)


def _short(value: Any, limit: int = 30) -> Any:
    """A long text (a formula, a paragraph) cut for its narrow column; 说明 quotes it in full."""
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: Decimal | int | float) -> int | float | None:
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _num_text(value: Decimal) -> str:
    text = format(value.normalize(), "f") if value.is_finite() else str(value)
    return "0" if text in ("-0", "") else text


def _clean(text: str) -> str:
    """Text openpyxl can store: no XML-illegal control characters, within Excel's cell limit."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:32767]


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _font(
    name: str, size: float, bold: bool = False, color: str = "000000", underline: str | None = None
) -> Font:
    return Font(name=name, size=size, bold=bold, color=color, underline=underline)


def _fill(rgb: str) -> PatternFill:
    return PatternFill(fill_type="solid", start_color=rgb, end_color=rgb)


def _reading_labels(edition: str | None) -> dict[str, str]:
    """The rubric's Chinese names of the readings (“按完整百分点扣分”…), if the edition loads."""
    if not edition:
        return {}
    try:
        from perfxl.spec import load_edition

        return dict(load_edition(edition).rubric.readings)
    except Exception:  # an edition from elsewhere: the reading's id will do
        return {}
