"""Rows of a constant-memory xlsxwriter worksheet, written as their XML directly.

The summary's long sheets have hundreds of thousands of cells, and xlsxwriter's own cell path
costs about 6 µs a cell (argument conversion, a cell tuple, attribute lists, escaping in several
passes): seconds per 1,000 returns. In ``constant_memory`` mode xlsxwriter writes every finished
row's XML to a temporary file in row order; ``RowWriter`` appends its rows to that same file, in
order, as xlsxwriter would write them, and keeps xlsxwriter's bookkeeping (the sheet's dimensions,
the next row it expects) as its own writes would. Everything else (formats, headers, merges,
charts, page setup) stays xlsxwriter's. Text is always escaped: xlsxwriter's constant-memory path
writes a string that looks like ``<r>…</r>`` as raw rich-text XML, which untrusted text must
never become.

This leans on four attributes of xlsxwriter 3's Worksheet (``row_data_fh``, ``previous_row``,
``table``, ``_check_dimensions``) and on ``Format._get_xf_index``; tests/test_summary_rows.py
compares every kind of cell written here with xlsxwriter's own output, so a change there fails
loudly rather than silently.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from perfxl.report.sheetxml import MAX_TEXT, literal

_COLUMNS = [xl_col_to_name(c) for c in range(16384)]
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_XML = re.compile(r"[&<>]")
_EDGE_SPACE = re.compile(r"^\s|\s$")


class RowWriter:
    """One worksheet's rows, in order: ``string``/``number``/``blank``/``formula`` cells of the
    current row are kept until the row changes (or ``flush``), then written as one ``<row>``.
    Call ``flush`` before writing to the sheet through xlsxwriter again."""

    def __init__(self, ws: Worksheet) -> None:
        if not ws.constant_memory:
            raise ValueError("RowWriter needs a worksheet in constant_memory mode")
        self.ws = ws
        self.row = -1
        self.cells: dict[int, str] = {}
        self.height: float | None = None

    def _at(self, row: int) -> None:
        if row != self.row:
            if row < self.row:
                raise ValueError(f"rows must be written in order ({row + 1} after {self.row + 1})")
            self.flush()
            self.row = row

    def string(self, row: int, col: int, text: str, fmt: Format) -> None:
        self._at(row)
        if len(text) > MAX_TEXT // 2 and len(text.encode("utf-16-le")) // 2 > MAX_TEXT:
            text = _utf16_cut(text)
        self.cells[col] = (
            f'<c r="{_COLUMNS[col]}{row + 1}" s="{fmt._get_xf_index()}" t="inlineStr"><is>{_t(text)}</is></c>'
        )

    def number(self, row: int, col: int, value: int | float | Decimal, fmt: Format) -> None:
        self._at(row)
        self.cells[col] = f'<c r="{_COLUMNS[col]}{row + 1}" s="{fmt._get_xf_index()}"><v>{value:.16G}</v></c>'

    def blank(self, row: int, col: int, fmt: Format) -> None:
        self._at(row)
        self.cells[col] = f'<c r="{_COLUMNS[col]}{row + 1}" s="{fmt._get_xf_index()}"/>'

    def formula(self, row: int, col: int, formula: str, fmt: Format, cached: Any) -> None:
        """A formula (our own, never text from a return) with the number it computes as cache."""
        self._at(row)
        self.cells[col] = (
            f'<c r="{_COLUMNS[col]}{row + 1}" s="{fmt._get_xf_index()}">'
            f"<f>{_escape(formula.removeprefix('='))}</f><v>{cached}</v></c>"
        )

    def set_height(self, row: int, height: float) -> None:
        self._at(row)
        self.height = height

    def flush(self) -> None:
        """Write the current row (if any) to the sheet."""
        if not self.cells and self.height is None:
            return
        ws, row = self.ws, self.row
        if ws.table.get(row):
            raise ValueError(f"row {row + 1} was written through xlsxwriter too")
        if ws.previous_row <= row:
            ws._write_single_row(row)  # xlsxwriter's own pending row goes first
        cols = sorted(self.cells)
        if cols:
            ws._check_dimensions(row, cols[0])
            ws._check_dimensions(row, cols[-1])
        ht = ""
        if self.height is not None:  # as xlsxwriter's set_row: whole pixels
            ht = f' ht="{int(self.height * 4.0 / 3.0 + 0.5) * 0.75:.16g}" customHeight="1"'

        body = "".join(self.cells[c] for c in cols)
        ws.row_data_fh.write(f'<row r="{row + 1}"{ht}>{body}</row>' if cols else f'<row r="{row + 1}"{ht}/>')
        ws.previous_row = row + 1
        self.cells = {}
        self.height = None


def _t(text: str) -> str:
    """A ``<t>`` element as xlsxwriter writes it: control characters as ``_xHHHH_`` (and a literal
    ``_xHHHH_`` protected), XML escaped, edge whitespace preserved."""
    text = literal(text)
    if _CONTROL.search(text):
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    space = ' xml:space="preserve"' if text and _EDGE_SPACE.search(text) else ""
    return f"<t{space}>{_escape(text)}</t>"


def _escape(text: str) -> str:
    if _XML.search(text) is None:
        return text
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _utf16_cut(text: str) -> str:
    """``text`` cut to Excel's limit, never inside a surrogate pair (as xlsxwriter does)."""
    units = 0
    for n, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > MAX_TEXT:
            return text[:n]
    return text
