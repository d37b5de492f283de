"""The annotated copy of a return: a 审核意见 sheet in front, then 评分项复核, and every flagged cell marked.

``write_review`` edits the return's own package (``sanitize``: nothing from it live; ``marks``: the
cells and the workbook's sheet list): it adds the review sheet as the first and active sheet and the
item table as the second (a sheet of its own, so each prints under its own header), gives each
flagged cell a fill and frame by severity and a note with its findings, and writes the copy (always
.xlsx) atomically. Every other part of the return is copied byte for byte, so every cached formula
result stays as the unit's program saved it. The input file is only read, never written.

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

from perfxl import __version__
from perfxl.atomic import atomic_target
from perfxl.check.explanations import EXPLANATION_HEADER, KEY_HEADER, REVIEW_SHEET, review_key
from perfxl.check.limits import LIMITS, Budget, LimitExceeded, Limits
from perfxl.check.package import XlsxReadError, read_source
from perfxl.check.result import CheckResult, ItemResult
from perfxl.check.sharedformula import col_name
from perfxl.engine.findings import ERROR, SEVERITIES, WARNING, Finding
from perfxl.form.styles import (
    BODY_FONT,
    HEADER_FILL,
    INPUT_FILL,
    LINE_HEIGHT,
    TITLE_FONT,
    wrapped_lines,
)
from perfxl.oserror import shown
from perfxl.report.marks import FILLS, Book, SheetMarks, group, level, selected
from perfxl.report.package_edit import Styles, rel_targets
from perfxl.report.sanitize import ReviewError, defuse, open_package, workbook_part
from perfxl.report.sheetxml import NewSheet, clean

SHEET = REVIEW_SHEET
ITEMS_SHEET = "评分项复核"
# Column widths of the review sheet (序号 级别 位置 规则 填报值 复核值 说明 单位说明, and the hidden
# 核对键); 规则 is widened to the longest rule id shown, so no id breaks mid-word; and of the item sheet.
WIDTHS = (7, 22, 16, 19, 13, 13, 48, 34)
ITEM_WIDTHS = (8, 30, 8, 8, 8, 14, 56)
FINDING_HEADER = ("序号", "级别", "位置", "规则", "填报值", "复核值", "说明", EXPLANATION_HEADER)
ITEM_HEADER = ("评分项", "名称", "分值", "自评", "复核", "可接受得分", "说明")
KEY_COL = len(FINDING_HEADER) + 1  # the hidden 核对键, right of 单位说明
LAST = len(WIDTHS)  # the sheet's last column: the header and section titles span up to it
_FORMULA_START = ("=", "+", "-", "@")
_GREY = "808080"


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
    parts = open_package(data, limits, budget)
    try:
        copy = _annotate(parts, result, shown(source.name), sha256, checked_at or datetime.now())
        budget.check()
    except (XlsxReadError, LimitExceeded) as e:
        raise ReviewError(f"审核副本未写出：{e}") from None
    except Exception as e:  # a package the checker could read but that cannot be edited as it is
        raise ReviewError(f"审核副本未写出：文件的结构无法编辑（{type(e).__name__}）") from None
    with atomic_target(output) as tmp:
        tmp.write_bytes(copy)
    return output


def _annotate(parts: Any, result: CheckResult, file_name: str, sha256: str, checked_at: datetime) -> bytes:
    """The review copy's bytes: the return's package defused, marked, with the review sheets first."""
    book_part = workbook_part(parts)
    defused = defuse(parts, book_part)
    book = Book(parts, book_part)
    returned = book.remove(SHEET)  # a review copy sent back: its old review gives way to this one
    if returned:
        book.remove(ITEMS_SHEET)
    wanted = {f.sheet for f in result.findings if f.sheet and f.cell}
    sheets: dict[str, SheetMarks] = {}
    for number, (_, name, part) in enumerate(book.sheets(), 1):
        if part is None:
            continue
        noted = returned and bool(rel_targets(parts, part, "comments"))  # an earlier review's notes?
        if noted or name in wanted or part in defused or selected(parts, part):
            sheets[name] = SheetMarks(book, part, number)
            if noted:
                sheets[name].unmark()
            for ref, note in defused.get(part, ()):
                sheets[name].note(ref, note)
            sheets[name].unselect()
    for (name, ref), found in group(result.findings, sheets).items():
        sheets[name].mark(ref, found)
    for marks in sheets.values():
        marks.save()
    names = {n for _, n, _ in book.sheets()}
    review, head, last = _draw(book.styles, result, file_name, sha256, checked_at, sheets, names)
    items = _draw_items(book.styles, result)
    quoted = f"'{SHEET}'"
    book.add_first(
        [(SHEET, review), (ITEMS_SHEET, items)],
        [
            ("_xlnm._FilterDatabase", 0, f"{quoted}!$A${head}:${col_name(KEY_COL)}${last}"),
            ("_xlnm.Print_Titles", 0, f"{quoted}!${head}:${head}"),
            ("_xlnm.Print_Titles", 1, f"'{ITEMS_SHEET}'!$2:$2"),
        ],
    )
    return parts.zip()


# ------------------------------------------------------------------ the review sheet


class _Sheet:
    """A new sheet and the stylesheet its cells' formats go into, drawn cell by cell."""

    def __init__(self, styles: Styles) -> None:
        self.ws = NewSheet()
        self.styles = styles
        self.looks: dict[tuple[Any, ...], int] = {}  # a look's cell format, once made

    def put(
        self,
        row: int,
        col: int,
        value: Any,
        *,
        span: int = 1,
        border: bool = False,
        align: str = "left",
        font: tuple[str, float, bool, str, bool] | None = None,
        number: str | None = None,
        fill: str | None = None,
        wrap: bool = True,
        shrink: bool = False,
        unlocked: bool = False,
        hidden: bool = False,
    ) -> None:
        """Write one value safely: numbers as numbers, text always as text (never a formula)."""
        quote = False
        if isinstance(value, bool):
            value = "是" if value else "否"
        if isinstance(value, (Decimal, int, float)):
            value = _number(value)
            if number == "auto":  # 256.7 → 256.70, a count or a whole score as is
                number = "General" if isinstance(value, int) else "0.00"
        elif value is not None:
            value = clean(str(value))
            quote = value.startswith(_FORMULA_START)  # e.g. a unit named "=HYPERLINK(…)" shows as typed
        look = (font, fill, border, number, align, wrap, shrink, unlocked, hidden, quote)
        xf = self.looks.get(look)
        if xf is None:
            st = self.styles
            xf = self.looks[look] = st.xf(
                st.font(*(font or (BODY_FONT, 10, False, "000000", False))),
                st.fill(fill) if fill else 0,
                st.border("thin", _GREY) if border else 0,
                st.number(number or "General"),
                (align, "center", wrap, shrink),
                locked=not unlocked,
                hidden=hidden,
                quote=quote,
            )
        self.ws.put(row, col, value, xf)
        if span > 1:
            self.ws.merges.append(f"{col_name(col)}{row}:{col_name(col + span - 1)}{row}")
            for c in range(col + 1, col + span):
                self.ws.put(row, c, None, xf if border else 0)

    def label(self, row: int, col: int, text: str, span: int = 1) -> None:
        self.put(
            row, col, text, span=span, border=True, align="center",
            font=(TITLE_FONT, 10, True, "000000", False), fill=HEADER_FILL.lstrip("#"),
        )  # fmt: skip
        if span > 1:  # the merged cells behind a label carry its fill too (a printer shows them)
            xf = self.ws.cells[(row, col)][1]
            for c in range(col + 1, col + span):
                self.ws.style(row, c, xf)

    def header(self, row: int, titles: Iterable[str | None], spans: dict[int, int] | None = None) -> None:
        spans = spans or {}
        for col, title in enumerate(titles, 1):
            if title is not None:
                self.label(row, col, title, span=spans.get(col, 1))

    def fit(self, row: int, *texts_and_widths: Any) -> None:
        """Set a row tall enough for its wrapped texts (Excel does not grow merged or printed rows)."""
        lines = 1
        for text, width in zip(texts_and_widths[::2], texts_and_widths[1::2], strict=True):
            if text is not None:
                lines = max(lines, wrapped_lines(str(text), width - 1.0))
        self.ws.height(row, max(6 + LINE_HEIGHT * lines, 20))


def _font(
    name: str, size: float, bold: bool = False, color: str = "000000", underline: bool = False
) -> tuple[str, float, bool, str, bool]:
    return (name, size, bold, color, underline)


def _draw(
    styles: Styles,
    result: CheckResult,
    file_name: str,
    sha256: str,
    checked_at: datetime,
    sheets: dict[str, SheetMarks],
    names: set[str],
) -> tuple[NewSheet, int, int]:
    """The review sheet, and the first and last rows of its findings table (header included)."""
    d = _Sheet(styles)
    ws = d.ws
    widths = _widths(result)
    ws.widths = [(i + 1, w, False) for i, w in enumerate(widths)] + [(KEY_COL, 10, True)]
    ws.selected = True
    d.put(1, 1, SHEET, font=_font(TITLE_FONT, 16, bold=True), align="center", span=LAST)
    ws.height(1, 30)
    stamp = checked_at.astimezone() if checked_at.tzinfo else checked_at
    pairs = [
        ("单位", result.unit, "预算编码", result.code),
        ("年度", result.year, "版本", result.edition),
        ("审核时间", stamp.isoformat(sep=" ", timespec="minutes"), "审核工具", f"perfxl {__version__}"),
        ("报送轮次", _round_text(result), "已说明", f"{result.explained} 项"),
    ]
    row = 2
    for label1, value1, label2, value2 in pairs:
        d.label(row, 1, label1, span=2)
        d.put(row, 3, value1, span=3, border=True)
        d.label(row, 6, label2)
        d.put(row, 7, value2, border=True)
        row += 1
    for label, value in (("文件", file_name), ("SHA-256", sha256)):
        d.label(row, 1, label, span=2)
        d.put(row, 3, value, span=5, border=True)
        d.fit(row, value, sum(widths[2:]))
        row += 1

    # totals: 项目 | 自评 | 复核 | 差异 | 结论 (F:G)
    d.header(row, ("项目", None, "自评", "复核", "差异", "结论", None), spans={1: 2, 6: 2})
    diff = (
        result.reported_total - result.recomputed_total
        if result.reported_total is not None and result.recomputed_total is not None
        else None
    )
    red = _font(BODY_FONT, 10, bold=True, color="C00000")
    d.label(row + 1, 1, "总分", span=2)
    for col, total in ((3, result.reported_total), (4, result.recomputed_total), (5, diff)):
        d.put(
            row + 1,
            col,
            total,
            border=True,
            align="center",
            number="0.00",
            font=red if col == 5 and diff else None,
        )
    verdict, severe = _verdict(result)
    d.put(
        row + 1, 6, verdict, span=2, border=True, align="left",
        font=_font(TITLE_FONT, 11, bold=True, color="C00000" if severe else "000000"),
    )  # fmt: skip
    d.label(row + 2, 1, "评价等次", span=2)
    same = result.reported_grade == result.recomputed_grade
    for col, grade in (
        (3, result.reported_grade),
        (4, result.recomputed_grade),
        (5, "一致" if same else "不一致"),
    ):
        d.put(row + 2, col, grade, border=True, align="center", font=red if col == 5 and not same else None)
    counts = result.counts
    said = "　".join(f"{s} {counts[s]} 项" for s in SEVERITIES)
    if result.explained:
        said += f"　已说明 {result.explained} 项"
    d.put(row + 2, 6, said, span=2, border=True)
    row += 4

    # findings, frozen and filtered, their header repeated on every printed page
    section = _font(TITLE_FONT, 12, bold=True)
    d.put(row, 1, f"审核发现（共 {len(result.findings)} 条）", font=section, span=LAST)
    row += 1
    d.put(row, 1, EXPLAIN_HINT, span=LAST, font=_font(BODY_FONT, 9, color="595959"))
    d.fit(row, EXPLAIN_HINT, sum(widths))
    row += 1
    d.header(row, FINDING_HEADER)
    d.put(row, KEY_COL, KEY_HEADER)
    head = row
    for n, f in enumerate(result.findings, 1):
        row += 1
        _finding_row(d, row, n, f, sheets, names, widths)
    if not result.findings:
        row += 1
        d.put(row, 1, "未发现问题", span=LAST, border=True, align="center")
    last = max(row, head + 1)
    ws.filter = f"A{head}:{col_name(KEY_COL)}{last}"
    ws.freeze = head
    if result.round is not None and result.round > 1:
        _changes(d, row + 2, result, widths)
    ws.footer = (_footer_text(result.unit), "第 &P 页，共 &N 页", SHEET)
    ws.protect = True  # only 单位说明 can be typed in (no password)
    return ws, head, last


def _draw_items(styles: Styles, result: CheckResult) -> NewSheet:
    """评分项复核: each item's self-score and ours, on a sheet of its own (its own printed header)."""
    d = _Sheet(styles)
    d.ws.widths = [(i + 1, w, False) for i, w in enumerate(ITEM_WIDTHS)]
    d.put(1, 1, ITEMS_SHEET, font=_font(TITLE_FONT, 16, bold=True), align="center", span=7)
    d.ws.height(1, 30)
    d.header(2, ITEM_HEADER)
    labels = _reading_labels(result.edition)
    for row, item in enumerate(result.items, start=3):
        _item_row(d, row, item, labels)
    d.ws.freeze = 2
    d.ws.footer = (_footer_text(result.unit), "第 &P 页，共 &N 页", ITEMS_SHEET)
    return d.ws


EXPLAIN_HINT = (
    "单位可在“单位说明”一栏逐条填写说明，并将本文件报回：“警告”“提示”经说明后列为“已说明”，"
    "不再计入未处理的问题；“错误”须修改，说明仅供参考。说明会保留到以后各次报送，所涉数值改变后需重新说明。"
)


def _footer_text(unit: str | None) -> str:
    return clean(unit or "")[:100].replace("&", "&&")


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


def _changes(d: _Sheet, row: int, result: CheckResult, widths: tuple[float, ...]) -> int:
    """What this round fixed and what is new, since the previous round; returns the last row used."""
    section = _font(TITLE_FONT, 12, bold=True)
    title = (
        f"与第 {(result.round or 1) - 1} 次报送相比：已修正 {len(result.fixed)} 条，新增 {len(result.new)} 条"
    )
    d.put(row, 1, title, font=section, span=LAST)
    row += 1
    d.header(row, ("序号", "变化", "位置", "规则", "填报值", "复核值", "说明", None))
    for n, (word, f) in enumerate(
        [*(("已修正", f) for f in result.fixed), *(("新增", f) for f in result.new)], 1
    ):
        row += 1
        d.put(row, 1, n, border=True, align="center")
        d.put(row, 2, f"{word}（{f.severity}）", border=True, align="center")
        d.put(row, 3, f.where or "（全表）", border=True, align="center")
        _rule(d, row, f.rule)
        d.put(row, 5, _short(f.reported), border=True, align="center", number="auto")
        d.put(row, 6, _short(f.expected), border=True, align="center", number="auto")
        message = _message(f)
        d.put(row, 7, message, border=True)
        d.fit(row, message, widths[6], f.where, widths[2])
    if not result.fixed and not result.new:
        row += 1
        d.put(row, 1, "与上次报送的问题相同", span=7, border=True, align="center")
    return row


def _widths(result: CheckResult) -> tuple[float, ...]:
    """The review sheet's column widths, 规则 as wide as the longest rule id shown (up to a limit)."""
    longest = max((len(f.rule) for f in result.findings), default=0)
    rule = min(max(WIDTHS[3], longest * 1.1 + 2), 36)
    return (*WIDTHS[:3], rule, *WIDTHS[4:])


def _finding_row(
    d: _Sheet,
    row: int,
    n: int,
    f: Finding,
    sheets: dict[str, SheetMarks],
    names: set[str],
    widths: tuple[float, ...],
) -> None:
    d.put(row, 1, n, border=True, align="center")
    fill = FILLS[f.severity] if f.severity in FILLS and not f.explained else None
    d.put(row, 2, level(f), border=True, align="center", fill=fill)
    place = f.where or "（全表）"
    marks = sheets.get(f.sheet or "")
    if f.sheet and f.cell and marks is not None and marks.target(f.cell) is not None:
        quoted = f.sheet.replace("'", "''")
        d.ws.links.append((f"C{row}", f"'{quoted}'!{f.cell}", "转到该单元格", clean(f.where or "")))
        d.put(
            row,
            3,
            place,
            border=True,
            align="center",
            font=_font(BODY_FONT, 10, color="0563C1", underline=True),
        )
    else:
        if f.sheet and f.sheet not in names:
            place = f"{clean(f.where or '')}（工作表不存在）"
        d.put(row, 3, place, border=True, align="center")
    _rule(d, row, f.rule)
    d.put(row, 5, _short(f.reported), border=True, align="center", number="auto")
    d.put(row, 6, _short(f.expected), border=True, align="center", number="auto")
    message = _message(f)
    d.put(row, 7, message, border=True)
    d.put(row, 8, f.explanation, border=True, unlocked=True, fill=INPUT_FILL.lstrip("#"))
    d.put(row, KEY_COL, review_key(f), hidden=True)
    d.fit(
        row,
        message,
        widths[6],
        f.explanation,
        widths[7],
        place,
        widths[2],
        _text_or_none(_short(f.reported)),
        widths[4],
        _text_or_none(_short(f.expected)),
        widths[5],
    )


def _item_row(d: _Sheet, row: int, item: ItemResult, labels: dict[str, str]) -> None:
    own_ok = item.self is not None and (item.self == item.recomputed or item.self in item.defensible)
    fill = None
    if item.self != item.recomputed:
        fill = FILLS[WARNING] if own_ok else FILLS[ERROR]
    values = (
        item.id,
        item.name,
        item.max,
        item.self,
        item.recomputed,
        "、".join(_num_text(d) for d in item.defensible) or None,
    )
    for col, value in enumerate(values, 1):
        align = "left" if col == 2 else "center"
        d.put(row, col, value, border=True, align=align, number="General", fill=fill)
    notes = [item.note] if item.note else []
    if item.defensible and item.reading:
        notes.append(f"自评符合“{labels.get(item.reading, item.reading)}”的读法")
    text = "；".join(notes) or None
    d.put(row, 7, text, border=True, fill=fill)
    d.fit(row, text, ITEM_WIDTHS[6], item.name, ITEM_WIDTHS[1])


def _rule(d: _Sheet, row: int, rule: str) -> None:
    """A rule id on one line (its column is as wide as the longest: see ``_widths``), never broken."""
    d.put(row, 4, rule, border=True, wrap=False, shrink=True)


def _verdict(result: CheckResult) -> tuple[str, bool]:
    counts = result.counts
    if counts[ERROR]:
        return f"有 {counts[ERROR]} 项错误，需退回修改", True
    if counts[WARNING]:
        return f"未发现错误，有 {counts[WARNING]} 项警告，请核实", False
    return "未发现错误", False


# ------------------------------------------------------------------ small helpers


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


def _reading_labels(edition: str | None) -> dict[str, str]:
    """The rubric's Chinese names of the readings (“按完整百分点扣分”…), if the edition loads."""
    if not edition:
        return {}
    try:
        from perfxl.spec import load_edition

        return dict(load_edition(edition).rubric.readings)
    except Exception:  # an edition from elsewhere: the reading's id will do
        return {}
