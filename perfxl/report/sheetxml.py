"""A new worksheet written as SpreadsheetML, for a sheet the review adds to a return's package.

Cells are put one by one with a cell-format index (``package_edit.Styles``); text is always an
inline string (never a formula, never the return's shared-string table, which stays as it was),
numbers are numbers. ``xml()`` builds the part with lxml, so any text is escaped by construction.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from lxml import etree

from perfxl.check.sharedformula import col_name
from perfxl.report.package_edit import MAIN, R, q, serialize

# Characters XML 1.0 cannot carry (C0 controls but tab, CR, LF), and lone surrogates.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ESCAPED = re.compile(r"_x[0-9a-fA-F]{4}_")
MAX_TEXT = 32767  # Excel's limit on a cell's text


def literal(text: str) -> str:
    """Text as Excel must show it: a literal "_x0041_" would be read as an escaped character, so
    its underscore is escaped itself, as Excel does."""
    return _ESCAPED.sub(lambda m: "_x005F" + m.group(0), text) if "_x" in text else text


def clean(text: str) -> str:
    """Text a cell can hold: no XML-illegal characters, within Excel's limit."""
    return _ILLEGAL.sub("", text)[:MAX_TEXT]


@dataclass
class NewSheet:
    """What goes on a new sheet; ``xml()`` writes it."""

    cells: dict[tuple[int, int], tuple[str | int | float | None, int]] = field(default_factory=dict)
    heights: dict[int, float] = field(default_factory=dict)
    widths: list[tuple[int, float, bool]] = field(default_factory=list)  # column, width, hidden
    merges: list[str] = field(default_factory=list)
    links: list[tuple[str, str, str, str]] = field(default_factory=list)  # ref, location, tooltip, shown
    freeze: int | None = None  # rows above the scrolling part
    filter: str | None = None
    protect: bool = False
    footer: tuple[str, str, str] = ("", "", "")
    selected: bool = False
    plain: bool = False  # a sheet of values only: gridlines shown, no print settings

    def put(self, row: int, col: int, value: str | int | float | None, xf: int) -> None:
        self.cells[(row, col)] = (value, xf)

    def style(self, row: int, col: int, xf: int) -> None:
        value = self.cells.get((row, col), (None, 0))[0]
        self.cells[(row, col)] = (value, xf)

    def value(self, row: int, col: int) -> str | int | float | None:
        return self.cells.get((row, col), (None, 0))[0]

    def height(self, row: int, points: float) -> None:
        self.heights[row] = max(self.heights.get(row, 0.0), points)

    def xml(self) -> bytes:
        """The worksheet part."""
        head, tail = serialize(self._frame()).split(b"<sheetData/>", 1)
        return b"".join((head, b"<sheetData>", self._rows().encode("utf-8"), b"</sheetData>", tail))

    def _rows(self) -> str:
        by_row: dict[int, list[int]] = {}
        for r, c in self.cells:
            by_row.setdefault(r, []).append(c)
        out = []
        for r in sorted(set(by_row) | set(self.heights)):
            height = f' ht="{self.heights[r]:g}" customHeight="1"' if r in self.heights else ""
            out.append(f'<row r="{r}"{height}>')
            for c in sorted(by_row.get(r, ())):
                value, xf = self.cells[(r, c)]
                out.append(_cell(f"{col_name(c)}{r}", value, xf))
            out.append("</row>")
        return "".join(out)

    def _frame(self) -> etree._Element:
        """Everything of the sheet but its rows (an empty ``sheetData`` stands for them)."""
        ws = etree.Element(q("worksheet"), nsmap={None: MAIN, "r": R})
        pr = etree.SubElement(ws, q("sheetPr"))
        etree.SubElement(pr, q("pageSetUpPr"), fitToPage="1")
        last_row = max((r for r, _ in self.cells), default=1)
        last_col = max((c for _, c in self.cells), default=1)
        etree.SubElement(ws, q("dimension"), ref=f"A1:{col_name(last_col)}{last_row}")
        views = etree.SubElement(ws, q("sheetViews"))
        view = etree.SubElement(views, q("sheetView"), workbookViewId="0")
        if not self.plain:
            view.set("showGridLines", "0")
        if self.selected:
            view.set("tabSelected", "1")
        if self.freeze:
            top = f"A{self.freeze + 1}"
            etree.SubElement(
                view,
                q("pane"),
                ySplit=str(self.freeze),
                topLeftCell=top,
                activePane="bottomLeft",
                state="frozen",
            )
            etree.SubElement(view, q("selection"), pane="bottomLeft", activeCell=top, sqref=top)
        etree.SubElement(ws, q("sheetFormatPr"), defaultRowHeight="15")
        if self.widths:
            cols = etree.SubElement(ws, q("cols"))
            for col, width, hidden in self.widths:
                el = etree.SubElement(cols, q("col"), min=str(col), max=str(col), width=f"{width:g}")
                el.set("customWidth", "1")
                if hidden:
                    el.set("hidden", "1")
        etree.SubElement(ws, q("sheetData"))  # filled in below, as text: a tree per cell costs 10 µs
        if self.protect:  # only unlocked cells can be typed in; filtering and row heights stay free
            etree.SubElement(
                ws, q("sheetProtection"), sheet="1", objects="1", scenarios="1", formatColumns="0",
                formatRows="0", autoFilter="0",
            )  # fmt: skip
        if self.filter:
            etree.SubElement(ws, q("autoFilter"), ref=self.filter)
        if self.merges:
            merged = etree.SubElement(ws, q("mergeCells"), count=str(len(self.merges)))
            for ref in self.merges:
                etree.SubElement(merged, q("mergeCell"), ref=ref)
        if self.links:
            links = etree.SubElement(ws, q("hyperlinks"))
            for ref, location, tip, shown in self.links:
                etree.SubElement(
                    links, q("hyperlink"), ref=ref, location=location, tooltip=tip, display=shown
                )
        if self.plain:
            return ws
        etree.SubElement(ws, q("printOptions"), horizontalCentered="1")
        etree.SubElement(
            ws, q("pageMargins"), left="0.5", right="0.5", top="0.6", bottom="0.7", header="0.3", footer="0.3"
        )
        etree.SubElement(
            ws, q("pageSetup"), paperSize="9", orientation="landscape", fitToWidth="1", fitToHeight="0"
        )
        left, centre, right = self.footer  # header/footer codes: a literal "&" is written "&&"
        font = '&"仿宋,常规"&8'
        foot = etree.SubElement(ws, q("headerFooter"))
        etree.SubElement(foot, q("oddFooter")).text = clean(f"&L{font}{left}&C{font}{centre}&R{font}{right}")
        return ws


def _cell(ref: str, value: str | int | float | None, xf: int) -> str:
    style = f' s="{xf}"' if xf else ""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return f'<c r="{ref}"{style}/>'
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<c r="{ref}"{style}><v>{value!r}</v></c>'
    text = escape(literal(clean(str(value))))
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
