"""Write a consolidation as the summary workbook: Chinese, print-ready, with native charts.

Sheets: 汇总, 指标得分, 收支汇总, 问题清单, 规则统计, 未报送, 重复报送, 图表. Every total is a live
formula with its cached value computed here with Decimal. Text copied from returns (unit names,
reported values, messages) is always written as a string, never as a formula or link: a unit
named ``=HYPERLINK(...)`` stays text. Written in constant-memory mode (rows in order) so a batch of
thousands of returns does not hold every cell in memory, and atomically (temp file + rename).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from perfxl.atomic import atomic_target
from perfxl.engine.findings import ERROR, WARNING
from perfxl.engine.layout import finance_columns
from perfxl.form.styles import (
    BAD_TEXT,
    BODY_FONT,
    DENSE_LINE_HEIGHT,
    HEADER_FILL,
    MUTED_TEXT,
    SEVERITY_FILLS,
    TITLE_FONT,
    text_width,
    wrapped_lines,
)
from perfxl.report.sheetrows import RowWriter
from perfxl.report.words import STATUS_TEXT, local_time
from perfxl.spec import DEFAULT_EDITION, Edition, SpecError, load_edition


@dataclass(frozen=True)
class _Style:
    fmt: Format
    quoted: Format  # the same with a quote prefix
    wrap: bool


class Consolidation(Protocol):
    """What the summary reads of a consolidation (made one stage up, in ``batch.consolidate``)."""

    returns: pd.DataFrame
    units: pd.DataFrame
    scores: pd.DataFrame
    finance: pd.DataFrame
    findings: pd.DataFrame
    rules: pd.DataFrame
    missing: pd.DataFrame
    duplicates: pd.DataFrame
    fixed: pd.DataFrame

    def summary_line(self) -> str: ...


BAD_FILL, WARN_FILL = SEVERITY_FILLS[ERROR], SEVERITY_FILLS[WARNING]
EXCEL_ROWS = 1_048_576
BIN = 5  # points per bar of the score histogram
RISKY = ("=", "+", "-", "@", "\t", "\r")  # text Excel would turn into a formula when re-entered

# 汇总: the open findings per severity, the explained ones, and the round with what it changed
COUNT_COLUMNS = (
    (11, "errors"),
    (12, "warnings"),
    (13, "infos"),
    (14, "explained"),
    (15, "round"),
    (16, "fixed"),
    (17, "new"),
)
USED_COLUMN = 18  # 计入汇总, which the totals row's formulas filter on
SCORE_FMT = "0.00"
AMOUNT_FMT = "#,##0.00;-#,##0.00;0.00"
# the scores frame's columns the 指标得分 sheet reads
SCORE_SHEET_COLUMNS = (
    "sha256",
    "code",
    "unit",
    "item",
    "name",
    "max",
    "self",
    "recomputed",
    "consistent",
    "reading",
)
MISMATCH = {"bg_color": SEVERITY_FILLS[ERROR], "font_color": BAD_TEXT}
# the findings frame's columns the 问题清单 sheet shows, in the order it reads them
FINDING_SHEET_COLUMNS = (
    "code",
    "unit",
    "name",
    "used",
    "rule",
    "severity",
    "sheet",
    "cell",
    "reported",
    "expected",
    "message",
    "explanation",
    "explained",
    "change",
)


def write_summary(con: Consolidation, path: str | os.PathLike[str], title: str | None = None) -> Path:
    """Write the summary workbook of ``con`` to ``path`` atomically; returns the path."""
    with atomic_target(path) as tmp:
        _Summary(con, str(tmp), title).write()
    return Path(path)


class _Summary:
    def __init__(self, con: Consolidation, path: str, title: str | None) -> None:
        self.con = con
        self.wb = xlsxwriter.Workbook(
            path,
            {
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "constant_memory": True,
            },
        )
        self.edition = _edition(con)
        years = sorted({int(y) for y in con.units["year"].dropna()})
        self.title = title or (
            f"{years[0]} 年度部门整体支出绩效自评汇总" if len(years) == 1 else "部门整体支出绩效自评汇总"
        )
        self._formats: dict[tuple[tuple[str, Any], ...], Format] = {}
        self._quick: dict[tuple[tuple[str, Any], ...], Format] = {}
        self._widths: dict[str, Sequence[float]] = {}
        self._tall: dict[str, tuple[int, int]] = {}  # sheet -> (row, lines) of the row being written
        self._writers: dict[str, RowWriter] = {}
        self._styles: dict[tuple[tuple[str, Any], ...], _Style] = {}
        self.used_rows = 0  # 汇总 rows (from row 1) of used returns: the scatter chart's range
        self.top_rules: list[tuple[str, int]] = []

    # ---------------------------------------------------------------- formats

    def fmt(self, **props: Any) -> Format:
        quick = tuple(props.items())  # a call site passes its properties in the same order every time
        found = self._quick.get(quick)
        if found is None:
            merged = {"font_name": BODY_FONT, "font_size": 10, "valign": "vcenter", "border": 1, **props}
            key = tuple(sorted(merged.items()))
            if key not in self._formats:
                self._formats[key] = self.wb.add_format(merged)
            found = self._quick[quick] = self._formats[key]
        return found

    @property
    def header(self) -> Format:
        return self.fmt(font_name=TITLE_FONT, bold=True, align="center", text_wrap=True, bg_color=HEADER_FILL)

    def rows(self, ws: Worksheet) -> RowWriter:
        rw = self._writers.get(ws.name)
        if rw is None:
            rw = self._writers[ws.name] = RowWriter(ws)
        return rw

    def flush(self, ws: Worksheet) -> None:
        """Before writing to ``ws`` through xlsxwriter: the rows written so far go first."""
        rw = self._writers.get(ws.name)
        if rw is not None:
            rw.flush()

    def style(self, **props: Any) -> _Style:
        """The format of ``props``, with its quote-prefixed twin (for text Excel would take as a formula)."""
        quick = tuple(props.items())
        found = self._styles.get(quick)
        if found is None:
            found = self._styles[quick] = _Style(
                self.fmt(**props), self.fmt(**props, quote_prefix=True), bool(props.get("text_wrap"))
            )
        return found

    def put(self, ws: Worksheet, row: int, col: int, value: Any, **props: Any) -> None:
        """One cell: text always as a string, numbers as numbers, blanks as blanks."""
        self.cell(ws, self.rows(ws), row, col, value, self.style(**props))

    def cell(self, ws: Worksheet, rw: RowWriter, row: int, col: int, value: Any, st: _Style) -> None:
        if type(value) is not str:  # noqa: E721 - the common case first, exactly str
            value = _val(value)
        if value is None:
            rw.blank(row, col, st.fmt)
        elif isinstance(value, str):
            if st.wrap:
                self._fit(ws, row, col, value)
            rw.string(row, col, value, st.quoted if value.startswith(RISKY) else st.fmt)
        elif isinstance(value, bool):
            rw.string(row, col, "是" if value else "否", st.fmt)
        else:
            rw.number(row, col, value, st.fmt)

    def merge(self, ws: Worksheet, *args: Any) -> None:
        self.flush(ws)
        ws.merge_range(*args)

    def formula(self, ws: Worksheet, row: int, col: int, formula: str, fmt: Format, cached: Any) -> None:
        self.rows(ws).formula(row, col, formula, fmt, cached)

    def _fit(self, ws: Worksheet, row: int, col: int, text: str) -> None:
        """Give a row with wrapped text the height it needs: neither Excel nor LibreOffice reliably
        fits row heights of a generated file on opening, and wrapped lines would overlap in print."""
        widths = self._widths.get(ws.name, ())
        if col >= len(widths):
            return
        lines = _lines(text, widths[col])
        last_row, most = self._tall.get(ws.name, (-1, 1))
        if row != last_row:
            most = 1
        if lines > most:
            self.rows(ws).set_height(row, DENSE_LINE_HEIGHT * lines + 3)
            most = lines
        self._tall[ws.name] = (row, most)

    def sheet(
        self,
        name: str,
        widths: Sequence[float],
        header_rows: int = 1,
        landscape: bool = True,
        subtitle: str = "",
    ) -> Worksheet:
        ws = self.wb.add_worksheet(name)
        ws.set_paper(9)  # A4
        if landscape:
            ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.75, bottom=0.6)
        if header_rows:
            ws.repeat_rows(0, header_rows - 1)
        # the space after &12 keeps a title starting with a year from being read as the font size
        heading = f"{_amp(self.title)}——{_amp(name)}{_amp(subtitle)}"
        ws.set_header(f'&C&"{TITLE_FONT},Bold"&12 {heading}', {"margin": 0.3})
        ws.set_footer("&C第 &P 页，共 &N 页", {"margin": 0.3})
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        self._widths[name] = widths
        return ws

    def headers(self, ws: Worksheet, row: int, labels: Sequence[str]) -> None:
        self.flush(ws)
        for c, text in enumerate(labels):
            ws.write_string(row, c, text, self.header)

    # ---------------------------------------------------------------- sheets

    def write(self) -> None:
        try:
            self.wb.set_properties(
                {"title": self.title, "author": "perfxl", "comments": self.con.summary_line()}
            )
            self.summary_sheet()
            self.scores_sheet()
            self.finance_sheet()
            self.findings_sheet()
            self.rules_sheet()
            self.missing_sheet()
            self.duplicates_sheet()
            self.charts_sheet()
        finally:
            for rw in self._writers.values():
                rw.flush()
            self.wb.close()

    def summary_sheet(self) -> None:
        labels = [
            "序号",
            "预算编码",
            "单位名称",
            "年度",
            "文件",
            "状态",
            "自评总分",
            "复核总分",
            "差额",
            "自评等次",
            "复核等次",
            "错误",
            "警告",
            "提示",
            "已说明",
            "报送轮次",
            "已修正",
            "新增",
            "计入汇总",
            "说明",
        ]
        ws = self.sheet("汇总", [5, 11, 22, 6, 24, 8, 8, 8, 7, 8, 8, 6, 6, 6, 6, 6, 6, 6, 8, 40])
        self.headers(ws, 0, labels)
        df = self.con.returns
        r = 0
        for r, rec in enumerate(_rows(df), start=1):
            used, status = bool(rec["used"]), rec["status"]
            muted = {} if used else {"font_color": MUTED_TEXT}
            self.put(ws, r, 0, r, align="center", **muted)
            self.put(ws, r, 1, rec["code"], **muted)
            self.put(ws, r, 2, rec["unit"], text_wrap=True, **muted)
            self.put(ws, r, 3, rec["year"], align="center", **muted)
            self.put(ws, r, 4, rec["name"], text_wrap=True, **muted)
            look = (
                {"bg_color": BAD_FILL, "font_color": BAD_TEXT}
                if status == "unusable"
                else {"bg_color": WARN_FILL}
                if status == "errors"
                else {}
            )
            self.put(ws, r, 5, STATUS_TEXT.get(status, status), align="center", **{**muted, **look})
            self.put(ws, r, 6, rec["reported_total"], num_format=SCORE_FMT, **muted)
            self.put(ws, r, 7, rec["recomputed_total"], num_format=SCORE_FMT, **muted)
            diff = _val(rec["difference"])
            if diff is None:
                self.put(ws, r, 8, None)
            else:
                mark = {"font_color": BAD_TEXT} if diff else muted
                self.formula(
                    ws, r, 8, f"=G{r + 1}-H{r + 1}", self.fmt(num_format=SCORE_FMT, **mark), _cached(diff)
                )
            self.put(ws, r, 9, rec["reported_grade"], align="center", **muted)
            self.put(ws, r, 10, rec["recomputed_grade"], align="center", **muted)
            for c, key in COUNT_COLUMNS:
                self.put(ws, r, c, rec[key], num_format="0", align="center", **muted)
            self.put(ws, r, USED_COLUMN, "是" if used else "否", align="center", **muted)
            note = "；".join(n for n in (_val(rec["reason"]), _val(rec.get("totals_note"))) if n) or None
            self.put(ws, r, USED_COLUMN + 1, note, text_wrap=True, **muted)
            if used:
                self.used_rows = r
        last = r
        ws.freeze_panes(1, 3)
        ws.autofilter(0, 0, max(last, 1), len(labels) - 1)
        self.summary_totals(ws, last + 1, last)

    def summary_totals(self, ws: Worksheet, row: int, last: int) -> None:
        """合计／平均 over the used returns: formulas with the values they compute as cache."""
        used = self.con.units
        usable = used[used["status"] != "unusable"]
        bold = {"bold": True, "top": 6}
        n = len(usable)
        self.put(ws, row, 0, None, **bold)
        self.put(ws, row, 1, None, **bold)
        self.put(ws, row, 2, f"合计／平均（{n} 个单位）", **bold)
        for c in (3, 4, 5, 9, 10, 15, USED_COLUMN + 1):
            self.put(ws, row, c, None, **bold)
        used_col = xl_col_to_name(USED_COLUMN)
        flag = f"${used_col}$2:${used_col}${last + 1}"
        for c, key in ((6, "reported_total"), (7, "recomputed_total"), (8, "difference")):
            values = [v for v in (_val(x) for x in usable[key]) if v is not None]
            if values and last >= 1:
                col = xl_col_to_name(c)
                avg = sum(values, Decimal(0)) / len(values)
                self.formula(
                    ws,
                    row,
                    c,
                    f'=AVERAGEIFS({col}2:{col}{last + 1},{flag},"是")',
                    self.fmt(num_format=SCORE_FMT, **bold),
                    _cached(avg),
                )
            else:
                self.put(ws, row, c, None, **bold)
        for c, key in COUNT_COLUMNS:
            if key == "round":  # a round number does not add up
                continue
            col = xl_col_to_name(c)
            total = int(used[key].fillna(0).sum())
            self.formula(
                ws,
                row,
                c,
                f'=SUMIFS({col}2:{col}{max(last, 1) + 1},{flag},"是")',
                self.fmt(num_format="0", align="center", **bold),
                total,
            )
        self.formula(
            ws,
            row,
            USED_COLUMN,
            f'=COUNTIF({flag},"是")',
            self.fmt(num_format="0", align="center", **bold),
            len(used),
        )

    def scores_sheet(self) -> None:
        """One row per used unit, one column pair (自评, 复核) per rubric item; a pair that does not
        agree (beyond the tolerance, and not a defensible reading of the rule) is red, and the
        说明 column says which items agree only within the tolerance or by another reading."""
        scores = self.con.scores
        scores = scores[scores["used"]]
        cols = {k: scores[k].tolist() for k in SCORE_SHEET_COLUMNS}
        items: dict[str, tuple[Any, Any]] = {}  # item -> (name, max), in rubric order
        for item, name, top in zip(cols["item"], cols["name"], cols["max"], strict=True):
            items.setdefault(item, (name, top))
        lead = ["预算编码", "单位名称", "自评", "复核", "不一致项数"]
        pair, note_width = 6, 60
        widths = [11, 20, 7, 7, 8, *[pair] * (2 * len(items)), note_width]
        note_col = len(widths) - 1
        ws = self.sheet("指标得分", widths, header_rows=2)
        ws.repeat_columns(0, 1)  # each printed page names its units
        # Pages break between item pairs, never inside one (a fit-to-width scale would ignore breaks).
        breaks = _pair_breaks(widths, len(lead), page=PAGE_WIDTH)
        ws.set_v_pagebreaks(breaks)
        ws.set_print_scale(PRINT_SCALE)
        titles = [f"{i} {n}（{_plain(m)} 分）" for i, (n, m) in items.items()]
        ws.set_row(0, DENSE_LINE_HEIGHT * (max([_lines(t, 2 * pair) for t in titles] or [1]) + 1) + 3)
        # row 0 first, left to right (constant-memory mode writes rows in order): groups over row 1
        self.merge(ws, 0, 0, 0, 1, "单位", self.header)
        self.merge(ws, 0, 2, 0, 3, "总分", self.header)
        ws.write_blank(0, 4, None, self.header)
        for j, text in enumerate(titles):
            c = len(lead) + 2 * j
            self.merge(ws, 0, c, 0, c + 1, text, self.header)
        self.merge(ws, 0, note_col, 1, note_col, "说明", self.header)
        self.headers(ws, 1, [*lead, *["自评", "复核"] * len(items)])
        totals = {
            sha: (own, ref)
            for sha, own, ref in zip(
                self.con.units["sha256"],
                self.con.units["reported_total"],
                self.con.units["recomputed_total"],
                strict=True,
            )
        }
        rw = self.rows(ws)
        plain, wrapped = self.style(), self.style(text_wrap=True)
        score, bad = self.style(num_format=SCORE_FMT), self.style(num_format=SCORE_FMT, **MISMATCH)
        count = self.style(num_format="0", align="center")
        place = {item: len(lead) + 2 * j for j, item in enumerate(items)}
        r, n, last = 1, 0, len(cols["sha256"])
        while n < last:  # a unit's items are consecutive rows of the long frame
            sha, start = cols["sha256"][n], n
            while n < last and cols["sha256"][n] == sha:
                n += 1
            r += 1
            own_total, ref_total = totals.get(sha, (None, None))
            self.cell(ws, rw, r, 0, cols["code"][start], plain)
            self.cell(ws, rw, r, 1, cols["unit"][start], wrapped)
            self.cell(ws, rw, r, 2, own_total, score)
            self.cell(ws, rw, r, 3, ref_total, score)
            notes, off = [], 0
            for k in range(start, n):
                item, own, ref, ok = (
                    cols["item"][k],
                    _val(cols["self"][k]),
                    cols["recomputed"][k],
                    cols["consistent"][k],
                )
                st = score if ok else bad
                self.cell(ws, rw, r, place[item], own, st)
                self.cell(ws, rw, r, place[item] + 1, ref, st)
                off += not ok
                if own is None:
                    notes.append(f"{item} 未填自评得分")
                elif ok and own != _val(ref):
                    reading = _val(cols["reading"][k])
                    notes.append(f"{item} 符合另一种读法（{reading}）" if reading else f"{item} 在允许误差内")
            self.cell(ws, rw, r, 4, off, count)
            self.cell(ws, rw, r, note_col, "；".join(notes) or None, wrapped)
        self.flush(ws)
        ws.freeze_panes(2, 2)
        ws.autofilter(1, 0, max(r, 2), note_col)
        ws.write_string(  # one cell, not merged: its text runs on to the right on the first page
            r + 2,
            0,
            "红底：自评得分与复核得分不一致（超出允许误差，也不符合评分标准的另一种读法）。",
            self.fmt(border=0, font_color=MUTED_TEXT),
        )

    def finance_sheet(self) -> None:
        """One row per used unit: each finance table's 汇总 row; a SUM row with exact cached totals.

        All columns of every table are there, but the plain input columns (the breakdowns) are
        grouped and folded, so the sheet prints legibly on A4: what shows and prints are the
        computed columns (收入合计, 支出合计, 结余, 三公经费合计, 固定资产合计 …); "+" unfolds the rest.
        Units whose amounts look like 元 (``in_totals`` false) are listed below the 合计, apart, with
        why: the district totals never include them.
        """
        con, ed = self.con, self.edition
        known = finance_columns(ed) if ed else []
        keys = [c for c in con.finance.columns if "." in str(c)]
        labels = {k: (t, h) for k, t, h in known}
        computed = _computed_columns(ed)
        cols = [(k, *labels.get(k, (k.split(".")[0], k))) for k in keys]
        folded = [k in labels and k not in computed for k, _t, _h in cols]
        lead = 3  # 预算编码, 单位名称, 年度
        note_col = lead + len(cols)
        ws = self.sheet(
            "收支汇总", [11, 22, 6, *[11] * len(cols), 34], header_rows=2, subtitle="（金额单位：万元）"
        )
        for j, fold in enumerate(folded):
            if fold:
                ws.set_column(lead + j, lead + j, 11, None, {"level": 1, "hidden": True})
            elif j and folded[j - 1]:
                ws.set_column(lead + j, lead + j, 11, None, {"collapsed": True})
        if folded and folded[-1]:
            ws.set_column(note_col, note_col, 34, None, {"collapsed": True})
        # row 0: 单位 and each table's title over its columns; row 1: the column headings
        ws.set_row(0, 30)
        ws.set_row(1, 45)
        self.merge(ws, 0, 0, 0, lead - 1, "单位", self.header)
        c = 0
        while c < len(cols):
            end = c
            while end + 1 < len(cols) and cols[end + 1][1] == cols[c][1]:
                end += 1
            if end > c:
                self.merge(ws, 0, lead + c, 0, lead + end, cols[c][1], self.header)
            else:  # a title over one column: two even lines, not a word left alone on the second
                ws.write_string(0, lead + c, _two_lines(cols[c][1], 11), self.header)
            c = end + 1
        self.merge(ws, 0, note_col, 1, note_col, "说明", self.header)
        self.headers(ws, 1, ["预算编码", "单位名称", "年度", *[h for _k, _t, h in cols]])
        finance = con.finance
        counted = finance[finance["in_totals"]] if "in_totals" in finance else finance
        apart = finance[~finance["in_totals"]] if "in_totals" in finance else finance.iloc[0:0]
        r = 1
        sums = [Decimal(0)] * len(cols)
        for r, rec in enumerate(_rows(counted), start=2):
            self._finance_row(ws, r, rec, cols)
            for j, (k, _t, _h) in enumerate(cols):
                v = _val(rec[k])
                if isinstance(v, Decimal):
                    sums[j] += v
        total = r + 1
        bold = {"bold": True, "top": 6}
        self.put(ws, total, 0, None, **bold)
        self.put(ws, total, 1, f"合计（{len(counted)} 个单位）", **bold)
        self.put(ws, total, 2, None, **bold)
        for j in range(len(cols)):
            col = xl_col_to_name(lead + j)
            formula = f"=SUM({col}3:{col}{r + 1})" if r >= 2 else "=0"
            self.formula(
                ws, total, lead + j, formula, self.fmt(num_format=AMOUNT_FMT, **bold), _cached(sums[j])
            )
        left_out = f"另有 {len(apart)} 个单位未计入合计，见下方" if len(apart) else None
        self.put(ws, total, note_col, left_out, text_wrap=True, **bold)
        row = total + 1
        if len(apart):
            row += 1
            self.merge(
                ws,
                row,
                0,
                row,
                note_col,
                f"未计入合计的单位（{len(apart)} 个）：金额疑似以元填报，需核实更正后重新报送",
                self.fmt(bold=True, font_color=BAD_TEXT, bg_color=BAD_FILL),
            )
            for rec in _rows(apart):
                row += 1
                self._finance_row(ws, row, rec, cols, font_color=MUTED_TEXT)
        if any(folded):
            self.merge(
                ws,
                row + 2,
                0,
                row + 2,
                note_col,
                "注：金额单位为万元。各表的明细列（上年结转、人员支出等）已分组折叠，点击列标上方的“+”可展开；"
                "合计行为计入合计的各单位之和。",
                self.fmt(border=0, font_color=MUTED_TEXT),
            )
        ws.freeze_panes(2, 2)
        ws.autofilter(1, 0, max(r, 2), note_col)

    def _finance_row(
        self, ws: Worksheet, r: int, rec: dict[str, Any], cols: list[tuple[str, str, str]], **look: Any
    ) -> None:
        self.put(ws, r, 0, rec["code"], **look)
        self.put(ws, r, 1, rec["unit"], text_wrap=True, **look)
        self.put(ws, r, 2, rec["year"], align="center", **look)
        for j, (k, _t, _h) in enumerate(cols):
            self.put(ws, r, 3 + j, _val(rec[k]), num_format=AMOUNT_FMT, **look)
        self.put(ws, r, 3 + len(cols), rec.get("totals_note"), text_wrap=True, **look)

    def findings_sheet(self) -> None:
        """Every finding of every file; then, with a store, the previous rounds' findings each
        return has fixed (已修正, greyed)."""
        labels = [
            "预算编码",
            "单位名称",
            "文件",
            "计入汇总",
            "规则",
            "严重程度",
            "位置",
            "填报值",
            "应为",
            "说明",
            "单位说明",
            "本轮",
        ]
        ws = self.sheet("问题清单", [11, 18, 16, 6, 17, 9, 14, 13, 13, 50, 30, 7])
        self.headers(ws, 0, labels)
        df, fixed = self.con.findings, self.con.fixed
        room = EXCEL_ROWS - 2
        rw = self.rows(ws)
        # one style per column and look (plain, or grey for the fixed ones); the severity column
        # has its own; text columns wrap and size the row
        wrap = {1, 2, 4, 7, 8, 9, 10}
        center = {3, 5, 11}
        looks = {}
        for muted in (False, True):
            grey = {"font_color": MUTED_TEXT} if muted else {}
            looks[muted] = [
                self.style(
                    **({"text_wrap": True} if c in wrap else {}),
                    **({"align": "center"} if c in center else {}),
                    **grey,
                )
                for c in range(len(labels))
            ]
        bad = self.style(align="center", font_color=BAD_TEXT, bold=True)
        r = 0
        for part, change in _chunks(((df.head(room), None), (fixed.head(max(0, room - len(df))), "已修正"))):
            cols = {k: part[k].tolist() if k in part else [None] * len(part) for k in FINDING_SHEET_COLUMNS}
            styles = looks[change is not None]
            for n in range(len(part)):
                r += 1
                (
                    code,
                    unit,
                    name,
                    used,
                    rule,
                    sev,
                    sheet,
                    cell,
                    reported,
                    expected,
                    message,
                    said,
                    explained,
                    new,
                ) = (cols[k][n] for k in FINDING_SHEET_COLUMNS)
                sheet, cell = _val(sheet), _val(cell)
                explained = bool(_val(explained))
                for c, value in enumerate(
                    (
                        code,
                        unit,
                        name,
                        bool(used),
                        rule,
                        f"{sev}·已说明" if explained else sev,
                        f"{sheet}!{cell}" if sheet and cell else sheet,
                        reported,
                        expected,
                        message,
                        said,
                        change or new,
                    )
                ):
                    st = bad if c == 5 and sev == ERROR and not change else styles[c]
                    self.cell(ws, rw, r, c, value, st)
        if len(df) + len(fixed) > room:
            r += 1
            more = len(df) + len(fixed) - room
            self.put(ws, r, 9, f"另有 {more} 条超出 Excel 行数上限，未列出（见 --json 或数据库）")
        ws.freeze_panes(1, 2)
        ws.autofilter(0, 0, max(r, 1), len(labels) - 1)

    def rules_sheet(self) -> None:
        labels = [
            "规则",
            "规则名称",
            "严重程度",
            "涉及单位数",
            "占可用报表",
            "问题条数",
            "疑为规则或模板问题",
            "示例",
        ]
        ws = self.sheet("规则统计", [17, 26, 6, 7, 7, 6, 36, 50])
        self.headers(ws, 0, labels)
        r = 0
        for r, rec in enumerate(_rows(self.con.rules), start=1):
            flag = {"bg_color": BAD_FILL} if rec["flagged"] else {}
            self.put(ws, r, 0, rec["rule"], text_wrap=True, **flag)
            self.put(ws, r, 1, rec["title"], text_wrap=True, **flag)
            self.put(ws, r, 2, rec["severity"], align="center", **flag)
            self.put(ws, r, 3, rec["units"], num_format="0", align="center", **flag)
            self.put(ws, r, 4, rec["share"], num_format="0.0%", align="center", **flag)
            self.put(ws, r, 5, rec["findings"], num_format="0", align="center", **flag)
            self.put(ws, r, 6, rec["note"], text_wrap=True, **({"font_color": BAD_TEXT} | flag))
            self.put(ws, r, 7, rec["example"], text_wrap=True, **flag)
            if rec["severity"] in (ERROR, WARNING) and len(self.top_rules) < 10:
                self.top_rules.append((str(rec["title"]), int(rec["units"])))
        ws.freeze_panes(1, 2)
        ws.autofilter(0, 0, max(r, 1), len(labels) - 1)
        n = int((self.con.units["status"] != "unusable").sum())
        note = (
            f"涉及单位数按计入汇总的 {n} 份可用报表统计；超过半数且不少于 5 个单位未通过的“错误”“警告”"
            "规则以红底标出——多数单位同时出错，更可能是规则或模板本身的问题，应先核对规则与模板。"
        )
        self.merge(
            ws,
            r + 2,
            0,
            r + 2,
            len(labels) - 1,
            note,
            self.fmt(border=0, text_wrap=True, font_color=MUTED_TEXT, valign="top"),
        )
        ws.set_row(r + 2, 30)

    def missing_sheet(self) -> None:
        ws = self.sheet("未报送", [14, 40, 8], landscape=False)
        self.headers(ws, 0, ["预算编码", "单位名称", "年度"])
        df = self.con.missing
        for r, rec in enumerate(_rows(df), start=1):
            self.put(ws, r, 0, rec["code"])
            self.put(ws, r, 1, rec["unit"], text_wrap=True)
            self.put(ws, r, 2, rec["year"], align="center")
        if len(df):
            ws.autofilter(0, 0, len(df), 2)
        else:
            text = (
                "名册中的单位均已报送"
                if df.attrs.get("roster")
                else "未提供单位名册（--roster），无法列出未报送单位"
            )
            self.merge(ws, 1, 0, 1, 2, text, self.fmt(border=0, font_color=MUTED_TEXT))
        ws.freeze_panes(1, 0)

    def duplicates_sheet(self) -> None:
        labels = [
            "组",
            "预算编码",
            "单位名称",
            "年度",
            "文件",
            "模板生成时间",
            "文件修改时间",
            "是否采用",
            "说明",
        ]
        ws = self.sheet("重复报送", [4, 11, 20, 6, 22, 19, 19, 8, 50])
        self.headers(ws, 0, labels)
        df = self.con.duplicates
        for r, rec in enumerate(_rows(df), start=1):
            used = bool(rec["used"])
            look = {"bold": True} if used else {"font_color": MUTED_TEXT}
            self.put(ws, r, 0, rec["group"], align="center", **look)
            self.put(ws, r, 1, rec["code"], **look)
            self.put(ws, r, 2, rec["unit"], text_wrap=True, **look)
            self.put(ws, r, 3, rec["year"], align="center", **look)
            self.put(ws, r, 4, rec["name"], text_wrap=True, **look)
            self.put(ws, r, 5, _time(rec["generated_at"]), **look)
            self.put(ws, r, 6, _time(rec["mtime"]), **look)
            self.put(ws, r, 7, "采用" if used else "未采用", align="center", **look)
            self.put(ws, r, 8, rec["reason"], text_wrap=True, **look)
        if len(df):
            ws.autofilter(0, 0, len(df), len(labels) - 1)
        else:
            self.merge(
                ws, 1, 0, 1, len(labels) - 1, "没有重复报送的单位", self.fmt(border=0, font_color=MUTED_TEXT)
            )
        ws.freeze_panes(1, 0)

    # ---------------------------------------------------------------- charts

    def charts_sheet(self) -> None:
        # as wide as the two charts side by side; no repeated rows: each page has its own title
        ws = self.sheet("图表", [12, 10, 4, 34, 10, *[9] * 7], header_rows=0)
        units = self.con.units
        usable = units[units["status"] != "unusable"]
        ws.set_row(0, 24)
        self.merge(
            ws,
            0,
            0,
            0,
            11,
            f"复核结果图表（计入汇总的可用报表 {len(usable)} 份；数据见下页）",
            self.fmt(border=0, font_name=TITLE_FONT, bold=True, font_size=13, align="center"),
        )
        grades = self.grade_counts(usable)
        bins = histogram([_val(v) for v in usable["recomputed_total"]])
        top = self.top_rules or [("（没有未通过的“错误”“警告”规则）", 0)]  # a chart needs a series
        width, height, gap = 490, 300, 8
        spots = [(0, 0), (width + gap, 0), (0, height + gap), (width + gap, height + gap)]

        # the charts' data, below them on the next printed page (rows written in order)
        data_row = 2 + math.ceil((2 * height + gap) / 20) + 2
        ws.set_h_pagebreaks([data_row - 1])
        ws.set_row(data_row - 1, 24)
        self.merge(
            ws,
            data_row - 1,
            0,
            data_row - 1,
            11,
            "图表数据",
            self.fmt(border=0, font_name=TITLE_FONT, bold=True, font_size=13, align="center"),
        )
        self.headers(ws, data_row, ["复核等次", "单位数"])
        ws.write_string(data_row, 3, "规则（未通过单位最多的“错误”“警告”）", self.header)
        ws.write_string(data_row, 4, "单位数", self.header)
        for i in range(1, max(len(grades), len(top)) + 1):
            if i <= len(grades):
                self.put(ws, data_row + i, 0, grades[i - 1][0], align="center")
                self.put(ws, data_row + i, 1, grades[i - 1][1], num_format="0", align="center")
            if i <= len(top):
                self.put(ws, data_row + i, 3, top[i - 1][0], text_wrap=True)
                self.put(ws, data_row + i, 4, top[i - 1][1], num_format="0", align="center")
        hist_row = data_row + max(len(grades), len(top)) + 2
        self.headers(ws, hist_row, ["复核总分", "单位数"])
        for i, (label, count) in enumerate(bins, start=1):
            self.put(ws, hist_row + i, 0, label, align="center")
            self.put(ws, hist_row + i, 1, count, num_format="0", align="center")
        diag = hist_row + len(bins) + 2
        self.headers(ws, diag, ["参考线 自评", "复核"])
        for i, v in enumerate((0, 100), start=1):
            self.put(ws, diag + i, 0, v, num_format="0", align="center")
            self.put(ws, diag + i, 1, v, num_format="0", align="center")

        font = {"name": TITLE_FONT}
        grid = {"visible": True, "line": {"color": "#E0E0E0"}}
        col = self.wb.add_chart({"type": "column"})
        col.add_series(
            {
                "name": "单位数",
                "categories": ["图表", data_row + 1, 0, data_row + len(grades), 0],
                "values": ["图表", data_row + 1, 1, data_row + len(grades), 1],
                "data_labels": {"value": True, "font": font},
                "fill": {"color": "#4472C4"},
            }
        )
        self._style(col, "复核等次分布", "复核等次", "单位数", font, max((c for _g, c in grades), default=0))

        hist = self.wb.add_chart({"type": "column"})
        hist.add_series(
            {
                "name": "单位数",
                "categories": ["图表", hist_row + 1, 0, hist_row + len(bins), 0],
                "values": ["图表", hist_row + 1, 1, hist_row + len(bins), 1],
                "gap": 15,
                "fill": {"color": "#70AD47"},
            }
        )
        self._style(
            hist, f"复核总分分布（每 {BIN} 分一档）", "复核总分", "单位数", font, max(c for _b, c in bins)
        )
        hist.set_x_axis(
            {"name": "复核总分", "name_font": font, "num_font": {**font, "rotation": -45, "size": 8}}
        )

        scatter = self.wb.add_chart({"type": "scatter"})
        if self.used_rows >= 1:
            scatter.add_series(
                {
                    "name": "单位",
                    "categories": ["汇总", 1, 6, self.used_rows, 6],
                    "values": ["汇总", 1, 7, self.used_rows, 7],
                    "marker": {
                        "type": "circle",
                        "size": 5,
                        "fill": {"color": "#4472C4"},
                        "border": {"color": "#4472C4"},
                    },
                }
            )
        scatter.add_series(
            {
                "name": "自评＝复核",
                "categories": ["图表", diag + 1, 0, diag + 2, 0],
                "values": ["图表", diag + 1, 1, diag + 2, 1],
                "marker": {"type": "none"},
                "line": {"color": "#A5A5A5", "dash_type": "dash", "width": 1},
            }
        )
        self._style(scatter, "自评总分与复核总分", "自评总分", "复核总分", font)
        for axis, name in ((scatter.set_x_axis, "自评总分"), (scatter.set_y_axis, "复核总分")):
            axis(
                {
                    "name": name,
                    "min": 0,
                    "max": 100,
                    "major_unit": 10,
                    "name_font": font,
                    "num_font": font,
                    "major_gridlines": grid,
                }
            )
        scatter.set_legend({"position": "bottom", "font": font})

        bar = self.wb.add_chart({"type": "bar"})
        bar.add_series(
            {
                "name": "未通过的单位数",
                "categories": ["图表", data_row + 1, 3, data_row + len(top), 3],
                "values": ["图表", data_row + 1, 4, data_row + len(top), 4],
                "data_labels": {"value": True, "font": font},
                "fill": {"color": "#C00000"},
            }
        )
        self._style(bar, "未通过单位最多的 10 条规则", None, "单位数", font)
        # xlsxwriter's bar chart: x is the horizontal value axis, y the vertical category axis;
        # categories reversed so the most frequent rule is on top, values axis kept at the bottom
        bar.set_x_axis(
            {
                "name": "单位数",
                "name_font": font,
                "num_font": font,
                "min": 0,
                "major_unit": _step(max((c for _t, c in top), default=0)),
                "major_gridlines": grid,
            }
        )
        bar.set_y_axis({"reverse": True, "crossing": "max", "num_font": {**font, "size": 8}})

        for chart, (x, y) in zip((col, hist, scatter, bar), spots, strict=True):
            chart.set_size({"width": width, "height": height})
            ws.insert_chart(1, 0, chart, {"x_offset": x + 5, "y_offset": y + 5, "object_position": 3})

    def _style(
        self, chart: Any, title: str, x: str | None, y: str, font: dict[str, Any], top: int = 0
    ) -> None:
        chart.set_title({"name": title, "name_font": {**font, "size": 12, "bold": True}})
        chart.set_legend({"none": True})
        chart.set_x_axis({"name": x, "name_font": font, "num_font": font} if x else {"num_font": font})
        chart.set_y_axis(
            {
                "name": y,
                "name_font": font,
                "num_font": font,
                "min": 0,
                "major_unit": _step(top),
                "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}},
            }
        )

    def grade_counts(self, usable: pd.DataFrame) -> list[tuple[str, int]]:
        labels = [g.label for g in self.edition.rubric.grades] if self.edition else []
        seen = [str(g) for g in usable["recomputed_grade"].dropna()]
        for g in seen:
            if g not in labels:
                labels.append(g)
        return [(g, seen.count(g)) for g in labels]


# A landscape A4 page holds about this many column-width units at PRINT_SCALE per cent.
PAGE_WIDTH, PRINT_SCALE = 115, 85  # measured on LibreOffice's A4 landscape render


def _pair_breaks(widths: Sequence[float], lead: int, page: float) -> list[int]:
    """Columns before which a page starts, so that no page splits a 自评/复核 pair; pages after
    the first repeat the first two columns (code and name)."""
    breaks: list[int] = []
    used = sum(widths[:lead])
    repeated = sum(widths[:2])
    for c in range(lead, len(widths), 2):
        span = sum(widths[c : c + 2])
        if used + span > page and used > repeated:
            breaks.append(c)
            used = repeated
        used += span
    return breaks


def histogram(scores: Sequence[Decimal | None], width: int = BIN, top: int = 100) -> list[tuple[str, int]]:
    """Counts per score band [0,5), [5,10) … [95,100] (the last band includes 100)."""
    edges = list(range(0, top, width))
    counts = [0] * len(edges)
    for s in scores:
        if s is None:
            continue
        k = min(int(Decimal(s) // width), len(edges) - 1)
        counts[max(k, 0)] += 1
    return [(f"{lo}–{lo + width}", c) for lo, c in zip(edges, counts, strict=True)]


# ---------------------------------------------------------------- helpers


def _edition(con: Consolidation) -> Edition | None:
    names = [e for e in con.units["edition"].dropna()] or [DEFAULT_EDITION]
    try:
        return load_edition(str(names[0]))
    except SpecError:
        return None


CHUNK = 10_000  # rows of a long frame turned into Python lists at a time (320,000 findings at 10,000 returns)


def _chunks(parts: Sequence[tuple[pd.DataFrame, Any]]) -> Any:
    """Each (frame, tag) as consecutive slices of at most ``CHUNK`` rows, with its tag."""
    for df, tag in parts:
        for start in range(0, len(df), CHUNK):
            yield df.iloc[start : start + CHUNK], tag


def _rows(df: pd.DataFrame) -> Any:
    cols = list(df.columns)
    for values in df.itertuples(index=False, name=None):
        yield dict(zip(cols, values, strict=True))


def _val(value: Any) -> Any:
    """pandas' missing markers as None, numpy scalars as Python ones."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (Decimal, str)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # ±∞ from a hostile cell: shown as text, never passed to write_number
    if isinstance(value, Decimal) and not value.is_finite():
        return str(value)
    return value


def _cached(value: Decimal | int | None) -> Any:
    """A formula's cached value; xlsxwriter writes str(value) verbatim into <v>.

    A Decimal with 0 to 6 decimals prints as plain digits (sums of amounts: exact); anything else
    (an average) goes as the nearest float, which is what Excel would compute anyway.
    """
    if isinstance(value, Decimal):
        exp = value.as_tuple().exponent
        return value if isinstance(exp, int) and -6 <= exp <= 0 else float(value)
    return value


def _computed_columns(edition: Edition | None) -> set[str]:
    """The 汇总-row keys of the finance columns the form computes (totals, subtotals, balances)."""
    if edition is None:
        return set()
    return {f"{t.id}.total.{c.id}" for t in edition.form.tables for c in t.columns if c.formula}


def _step(top: int) -> int:
    """A whole-number axis step giving at most about eight gridlines (counts are never fractional)."""
    return max(1, math.ceil(top / 8))


@lru_cache(maxsize=1 << 16)
def _lines(text: str, width: float) -> int:
    """Lines a wrapped cell needs (at most 30); the common one-line case without measuring each character."""
    room = max(width - 1, 1)
    if len(text) * 1.9 <= room and "\n" not in text:
        return 1
    return min(wrapped_lines(text, room), 30)


def _two_lines(text: str, width: float) -> str:
    """``text`` broken near the middle when it clearly does not fit one line of a column ``width`` wide
    (a wrap at the column's edge would leave a word alone on the second line)."""
    if text_width(text) <= 1.3 * (width - 1):
        return text
    half = (len(text) + 2) // 2
    return f"{text[:half]}\n{text[half:]}"


def _plain(value: Any) -> str:
    """A score's maximum as written: 5, 2.5 (no trailing zeros)."""
    value = _val(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _time(text: Any) -> str | None:
    return local_time(_val(text))


def _amp(text: str) -> str:
    return text.replace("&", "&&")


__all__ = ["histogram", "write_summary"]
