"""The summary's fast row writer (perfxl.report.sheetrows) against xlsxwriter's own cell path: the
same cells, written both ways, give the same sheet XML, row for row; and text that xlsxwriter's
constant-memory path would write as raw XML is escaped."""

from __future__ import annotations

import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from defusedxml import ElementTree

from perfxl.report.sheetrows import RowWriter

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
TEXTS = [
    "岳阳市君山区信访局",
    '=HYPERLINK("http://x","y")',
    " leading and trailing ",
    'a < b & c > d "quoted"',
    "line one\nline two",
    "control \x01 and _x0041_ escape",
    "",
    "x" * 40_000,  # over Excel's limit: cut as xlsxwriter cuts it
    "😀" * 20_000,  # surrogate pairs at the limit
]
NUMBERS = [0, 3, -2.5, 1e-7, 123456789.123, Decimal("4.70"), Decimal("-0.001"), Decimal("100")]


def _cells() -> list[tuple[int, int, str, Any, Any]]:
    """(row, col, kind, value, extra) in row order, one sheet's worth of every kind."""
    out: list[tuple[int, int, str, Any, Any]] = []
    r = 1
    for n, text in enumerate(TEXTS):
        out.append((r, 0, "string", text, None))
        out.append((r, 2, "number", NUMBERS[n % len(NUMBERS)], None))
        out.append((r, 3, "blank", None, None))
        out.append((r, 5, "formula", f"=C{r + 1}*2", Decimal("1.50") if n % 2 else 7))
        if n % 3 == 0:
            out.append((r, 6, "height", 13.5 * (n + 1) + 3, None))
        r += 1 + n % 2  # some rows skipped
    return out


def _write(path: Path, fast: bool) -> None:
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False})
    ws = wb.add_worksheet("表")
    fmt = wb.add_format({"border": 1, "text_wrap": True})
    other = wb.add_format({"num_format": "0.00", "bold": True})
    ws.write_string(0, 0, "表头", fmt)  # xlsxwriter's own header row, then the body
    rw = RowWriter(ws)
    for row, col, kind, value, extra in _cells():
        f = fmt if col % 2 == 0 else other
        if kind == "height":
            rw.set_height(row, value) if fast else ws.set_row(row, value)
        elif fast and kind == "string":
            rw.string(row, col, value, f)
        elif fast and kind == "number":
            rw.number(row, col, value, f)
        elif fast and kind == "blank":
            rw.blank(row, col, f)
        elif fast:
            rw.formula(row, col, value, f, extra)
        elif kind == "string":
            ws.write_string(row, col, value, f)
        elif kind == "number":
            ws.write_number(row, col, value, f)
        elif kind == "blank":
            ws.write_blank(row, col, None, f)
        else:
            ws.write_formula(row, col, value, f, extra)
    rw.flush()
    ws.write_string(60, 1, "合计", fmt)  # and xlsxwriter's own rows after it
    wb.close()


def _rows(path: Path) -> list[tuple[dict[str, str], list[tuple[dict[str, str], str]]]]:
    with zipfile.ZipFile(path) as z:
        root = ElementTree.fromstring(z.read("xl/worksheets/sheet1.xml"))
        dimension = root.find("m:dimension", NS).get("ref")
    rows = []
    for row in root.find("m:sheetData", NS):
        cells = [(dict(c.attrib), "".join(c.itertext())) for c in row]
        rows.append((dict(row.attrib), cells))
    return [({"dimension": dimension}, []), *rows]


def test_rows_written_directly_equal_xlsxwriters_own(tmp_path: Path) -> None:
    _write(tmp_path / "slow.xlsx", fast=False)
    _write(tmp_path / "fast.xlsx", fast=True)
    slow, fast = _rows(tmp_path / "slow.xlsx"), _rows(tmp_path / "fast.xlsx")
    assert len(slow) == len(fast) > len(TEXTS)
    for a, b in zip(slow, fast, strict=True):
        assert a == b


def test_text_that_looks_like_rich_text_xml_stays_text(tmp_path: Path) -> None:
    """xlsxwriter's constant-memory path writes ``<r>…</r>`` unescaped (a unit could name itself
    so and break the workbook); the row writer escapes it like any text."""
    path = tmp_path / "r.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet()
    rw = RowWriter(ws)
    rw.string(0, 0, "<r><t>注入</t></r>", wb.add_format())
    rw.flush()
    wb.close()
    import openpyxl

    assert openpyxl.load_workbook(path).active["A1"].value == "<r><t>注入</t></r>"


def test_rows_must_come_in_order(tmp_path: Path) -> None:
    wb = xlsxwriter.Workbook(str(tmp_path / "o.xlsx"), {"constant_memory": True})
    rw = RowWriter(wb.add_worksheet())
    rw.number(5, 0, 1, wb.add_format())
    with pytest.raises(ValueError, match="in order"):
        rw.number(4, 0, 1, wb.add_format())
    wb.close()
