"""Read the values and formulas of an .xlsx workbook, safely and within limits.

Only the parts that are needed are read: the package and workbook relationships, workbook.xml
(sheets, defined names), the shared strings, the number formats of styles.xml (to know which
cells show as dates), each worksheet up to the end of its merged-cell list, and
``docProps/custom.xml``. Every part goes through :mod:`package` (inflated in chunks within the
limits) and :mod:`xmlsafe` (lxml, configured for untrusted input) as a stream of events; rows and
strings are freed as soon as they are read, so memory stays bounded by the cells kept.

Semantics worth knowing:

* Cells that carry neither a value nor a formula (style-only cells) are omitted from
  :attr:`Sheet.cells` (they still count against ``max_cells``).
* :attr:`Cell.raw` is the ``<v>`` text exactly as stored: for shared-string cells that is the
  string-table index, for inline strings it is ``None``.
* A number that is not finite (``NaN``, ``INF``; Excel never writes one) is kept as its text, so
  it is reported as unreadable rather than computed with.
* :attr:`Cell.date` is true for a number whose cell format shows it as a date or time.
* Text from shared strings, inline strings and ``t="str"`` results is un-escaped the way Excel
  does it (``_x000D_`` -> ``"\\r"``); phonetic runs (``<rPh>``) are not part of the text.
* Shared-formula children get their own formula text, shifted from the master's (see
  :mod:`sharedformula`); a child whose master cannot be found has ``formula=None``. Only the
  top-left cell of an array formula carries its text; ``dataTable`` formulas have ``formula=None``.
* ``t="d"`` (ISO 8601 date) cells keep the stored text as their value.
* :attr:`Workbook.defined_names` holds workbook-scoped names only; names with a ``localSheetId``
  and the ``_xlnm.*`` built-ins are dropped.
* Chart sheets are listed in :attr:`Workbook.sheets` with no cells.
* What follows a worksheet's merged-cell list (conditional formats, data validations, page
  setup…) is neither needed nor parsed.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import unquote

from lxml import etree

from perfxl.check.limits import LIMITS, Budget, LimitExceeded, Limits
from perfxl.check.package import BAD, Package, Source, XlsxReadError, read_source
from perfxl.check.sharedformula import MAX_COL, MAX_ROW, col_index, col_name, ref_rc, shift_formula
from perfxl.check.xmlsafe import Sweeper, events

__all__ = [
    "Cell",
    "LimitExceeded",
    "Sheet",
    "Workbook",
    "XlsxReadError",
    "read_package",
    "read_xlsx",
    "resolve_name",
]

MAX_FORMULA = 8192  # Excel's own limit on a formula's length; longer ones only come from crafted files


class Cell(NamedTuple):
    """One non-empty cell (immutable).

    ``value``: float for numbers, str for text and errors (``"#DIV/0!"``), bool for booleans,
    ``None`` when a formula has no cached result. ``formula``: formula text without the leading
    ``=`` (shared formulas expanded to this cell), or ``None``. ``raw``: the ``<v>`` text as
    stored. ``date``: the cell's number format shows the number as a date or time.
    """

    value: str | float | bool | None
    formula: str | None
    raw: str | None
    date: bool = False


@dataclass(frozen=True, slots=True)
class Sheet:
    """A worksheet: name, visibility state, cells keyed by ``"C7"``, merged ranges."""

    name: str
    state: str
    cells: dict[str, Cell]
    merged: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Workbook:
    """Sheets in workbook order, workbook-scoped defined names, custom properties.

    ``external_links``: the files the workbook links to (external-link parts), as recorded.
    ``macros``: the package carries a VBA project. ``values_only``: read from a format without
    formulas or defined names (.xls/.ods through python-calamine); ``kind`` names that format.
    """

    sheets: dict[str, Sheet]
    defined_names: dict[str, str]
    custom_properties: dict[str, str]
    external_links: tuple[str, ...] = ()
    macros: bool = False
    values_only: bool = False
    kind: str = "xlsx"


# ----------------------------------------------------------------------- public


def read_xlsx(source: Source, limits: Limits = LIMITS, budget: Budget | None = None) -> Workbook:
    """Read an .xlsx workbook from a path, its bytes, or a binary file object.

    Raises :class:`XlsxReadError` (Chinese message, no file name) for anything that is not a
    readable workbook, and :class:`LimitExceeded` for one that exceeds ``limits``.
    """
    budget = budget or Budget(limits)
    with Package(read_source(source, limits), limits, budget) as pkg:
        return read_package(pkg)


def read_package(pkg: Package) -> Workbook:
    """The workbook in an opened package (its limits and budget apply); see :func:`read_xlsx`."""
    try:
        return _Reader(pkg).workbook()
    except (XlsxReadError, LimitExceeded):
        raise
    except (ValueError, IndexError, KeyError, TypeError) as exc:  # a part that makes no sense
        raise XlsxReadError(f"{BAD}内容无法解析（{type(exc).__name__}）") from None


_NAME_REF_RE = re.compile(
    r"""=?(?:'(?P<q>(?:[^']|'')+)'|(?P<u>[^\s'!\[\]:*?/\\]+))!
        \$?(?P<c1>[A-Za-z]{1,3})\$?(?P<r1>[0-9]{1,7})
        (?::\$?(?P<c2>[A-Za-z]{1,3})\$?(?P<r2>[0-9]{1,7}))?""",
    re.VERBOSE,
)


def resolve_name(wb: Workbook, name: str) -> tuple[str, str] | None:
    """Resolve a workbook-scoped defined name to ``(sheet name, "C7")``.

    Returns ``None`` unless the name exists (looked up exactly, then case-insensitively as Excel
    does) and refers to a single cell on a sheet of ``wb`` (``$C$7:$C$7`` counts as one cell).
    """
    text = wb.defined_names.get(name)
    if text is None:
        folded = name.casefold()
        text = next((t for n, t in wb.defined_names.items() if n.casefold() == folded), None)
        if text is None:
            return None
    m = _NAME_REF_RE.fullmatch(text.strip())
    if m is None:
        return None
    sheet = m.group("q").replace("''", "'") if m.group("q") is not None else m.group("u")
    col, row = m.group("c1").upper(), int(m.group("r1"))
    if m.group("c2") is not None and (m.group("c2").upper(), int(m.group("r2"))) != (col, row):
        return None
    if sheet not in wb.sheets or not 1 <= row <= MAX_ROW or col_index(col) > MAX_COL:
        return None
    return sheet, f"{col}{row}"


# ----------------------------------------------------------------------- reading

_REL = "{*}Relationship"
# Worksheet elements that come after <mergeCells> in the schema (the first small element of each
# part that may follow it): once one ends, nothing needed follows.
_AFTER_MERGES = frozenset(
    {
        "phoneticPr",
        "cfRule",
        "dataValidation",
        "hyperlink",
        "printOptions",
        "pageMargins",
        "pageSetup",
        "headerFooter",
        "drawing",
        "legacyDrawing",
        "tablePart",
        "extLst",
    }
)
_SHEET_TAGS = [
    "{*}row",
    "{*}sheetData",
    "{*}mergeCell",
    "{*}mergeCells",
    *(f"{{*}}{t}" for t in _AFTER_MERGES),
]


class _Reader:
    def __init__(self, pkg: Package) -> None:
        self.pkg = pkg
        self.limits = pkg.limits
        self.budget = pkg.budget
        self.cells_read = 0

    def _events(self, part: str, tags: list[str], kinds: tuple[str, ...] = ("end",)) -> Iterator[Any]:
        chunks = self.pkg.chunks(part)
        return iter(()) if chunks is None else events(chunks, part, tags, kinds)

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationships of ``part`` (``""`` = package): Id -> (Type, target part name);
        external targets are kept as given, with the type prefixed by ``"external:"``."""
        base, leaf = posixpath.split(part)
        out: dict[str, tuple[str, str]] = {}
        sweep = Sweeper()
        for _, rel in self._events(posixpath.join(base, "_rels", leaf + ".rels"), [_REL]):
            rid, target = rel.get("Id"), rel.get("Target")
            if rid is not None and target is not None:
                if rel.get("TargetMode") == "External":
                    out[rid] = ("external:" + rel.get("Type", ""), target)
                else:
                    out[rid] = (rel.get("Type", ""), _resolve_target(base, target))
            sweep(rel)
        return out

    def workbook(self) -> Workbook:
        root_rels = self.rels("")
        wb_part = _first_of_type(root_rels, "/officeDocument")
        if wb_part is None or self.pkg.find(wb_part) is None:
            wb_part = "xl/workbook.xml"
        if self.pkg.find(wb_part) is None:
            raise XlsxReadError(f"{BAD}缺少 xl/workbook.xml")
        sheet_list, names = self._workbook_part(wb_part)
        wb_rels = self.rels(wb_part)
        sst = self._shared_strings(_first_of_type(wb_rels, "/sharedStrings") or "xl/sharedStrings.xml")
        dates = self._date_styles(_first_of_type(wb_rels, "/styles") or "xl/styles.xml")

        sheets: dict[str, Sheet] = {}
        for name, state, rid in sheet_list:
            if name in sheets:
                raise XlsxReadError(f"{BAD}工作表名称重复：{name}")
            rel = wb_rels.get(rid or "")
            if rel is None or rel[0].startswith("external:"):
                raise XlsxReadError(f"{BAD}工作表“{name}”在 workbook.xml.rels 中没有对应关系")
            if self.pkg.find(rel[1]) is None:
                raise XlsxReadError(f"{BAD}工作表“{name}”的部件 {rel[1]} 不存在")
            if rel[0].endswith("/worksheet"):
                cells, merged = self._worksheet(rel[1], name, sst, dates)
            else:  # chart sheet, dialog sheet, macro sheet: no cells we read
                cells, merged = {}, ()
            sheets[name] = Sheet(name, state, cells, merged)

        custom = self._custom(_first_of_type(root_rels, "/custom-properties") or "docProps/custom.xml")
        links = tuple(self._link_target(t) for rt, t in wb_rels.values() if rt.endswith("/externalLink"))
        macros = any(n.lower().endswith("vbaproject.bin") for n in self.pkg.names())
        return Workbook(sheets, names, custom, links, macros)

    def _workbook_part(self, part: str) -> tuple[list[tuple[str, str, str | None]], dict[str, str]]:
        sheets: list[tuple[str, str, str | None]] = []
        names: dict[str, str] = {}
        sweep = Sweeper()
        for _, el in self._events(part, ["{*}sheet", "{*}definedName"]):
            tag = el.tag  # built anew on every access: read once
            if tag.endswith("}sheet") or tag == "sheet":
                name = el.get("name")
                if not name:
                    raise XlsxReadError(f"{BAD}workbook.xml 中有工作表缺少名称")
                if len(sheets) >= self.limits.max_sheets:
                    raise LimitExceeded("max_sheets", self.limits.max_sheets)
                rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
                sheets.append((name, el.get("state") or "visible", rid))
            else:
                name = el.get("name")
                if name and el.get("localSheetId") is None and not name.lower().startswith("_xlnm."):
                    names[name] = el.text or ""
            sweep(el)
        return sheets, names

    def _shared_strings(self, part: str) -> list[str]:
        sst: list[str] = []
        limit = self.limits.max_shared_strings
        sweep = Sweeper()
        tags: tuple[str, str, str] | None = None
        for _, si in self._events(part, ["{*}si"]):
            if tags is None:
                tags = _text_tags(si)
            if si.tag != tags[0]:  # a string in another namespace is not one of this table's
                sweep(si)
                continue
            if len(sst) >= limit:
                raise LimitExceeded("max_shared_strings", limit)
            first = si[0] if len(si) == 1 else None
            if first is not None and first.tag == tags[1]:  # the usual <si><t>text</t></si>
                text = first.text or ""
                sst.append(_unescape(text) if "_x" in text else text)
            else:
                sst.append(_rich_text(si, tags))
            sweep(si)
        return sst

    def _date_styles(self, part: str) -> frozenset[int]:
        """Indices of the cell formats (``cellXfs``) whose number format shows a date or time."""
        custom: dict[int, bool] = {}
        xfs: list[int] = []
        sweep = Sweeper()
        for _, el in self._events(part, ["{*}numFmt", "{*}xf"]):
            if el.tag.endswith("numFmt"):
                try:
                    custom[int(el.get("numFmtId", "-1"))] = _is_date_format(el.get("formatCode", ""))
                except ValueError:
                    pass
            else:
                parent = el.getparent()
                if parent is not None and parent.tag.endswith("cellXfs"):
                    try:
                        xfs.append(int(el.get("numFmtId", "0")))
                    except ValueError:
                        xfs.append(0)
            sweep(el)
        return frozenset(i for i, fmt in enumerate(xfs) if custom.get(fmt, fmt in _BUILTIN_DATES))

    def _custom(self, part: str) -> dict[str, str]:
        props: dict[str, str] = {}
        sweep = Sweeper()
        for _, prop in self._events(part, ["{*}property"]):
            name = prop.get("name")
            if name is not None:
                props[name] = (prop[0].text or "") if len(prop) else ""
            sweep(prop)
        return props

    def _link_target(self, part: str) -> str:
        """The file an external-link part points to (its own relationship), else the part's name."""
        targets = [t for rt, t in self.rels(part).values() if rt.startswith("external:")]
        return targets[0] if targets else part

    def _worksheet(
        self, part: str, name: str, sst: list[str], dates: frozenset[int]
    ) -> tuple[dict[str, Cell], tuple[str, ...]]:
        cells: dict[str, Cell] = {}
        merged: list[str] = []
        masters: dict[str, tuple[str, str]] = {}  # shared-formula si -> (master ref, master text)
        pending: list[tuple[str, str]] = []  # shared-formula children: (ref, si)
        limits, budget = self.limits, self.budget
        rows = row_num = 0
        past_data = False
        ref = "?"
        sweep = Sweeper()
        tags: _Tags | None = None
        chunks = self.pkg.chunks(part)
        assert chunks is not None  # the caller has checked the part is there
        try:
            for _, el in events(chunks, part, _SHEET_TAGS):
                tag = el.tag
                if tags is None:
                    tags = _Tags(el)
                if tag == tags.row:
                    rows += 1
                    if rows > limits.max_rows:
                        raise LimitExceeded("max_rows", limits.max_rows, name)
                    if rows % 256 == 0:
                        budget.check()
                    r = el.get("r")
                    row_num = int(r) if r else row_num + 1
                    self._row(el, row_num, cells, sst, dates, masters, pending, name, tags)
                    sweep(el)
                    continue
                local = tag.rpartition("}")[2]
                if local == "sheetData":
                    if past_data:  # readers differ on which one counts (and Excel repairs the file)
                        raise XlsxReadError(
                            f"{BAD}工作表“{name}”有两处单元格数据（sheetData），无法确定以哪一处为准"
                        )
                    past_data = True
                elif local == "mergeCell":
                    if merge := el.get("ref"):
                        merged.append(merge.replace("$", ""))
                elif past_data and (local == "mergeCells" or local in _AFTER_MERGES):
                    break  # nothing needed follows
                sweep(el)  # whatever else was met (a row in another namespace) is freed too
            for _ in chunks:  # the rest is inflated, unparsed: its size and CRC-32 are still checked
                pass
            for ref, si in pending:
                master = masters.get(si)
                if master is None:
                    continue
                (m_row, m_col), (c_row, c_col) = ref_rc(master[0]), ref_rc(ref)
                text = shift_formula(master[1], c_row - m_row, c_col - m_col)
                self.pkg.charge(len(text), part)  # expanded text counts like inflated text
                cell = cells[ref]
                cells[ref] = Cell(cell.value, text, cell.raw, cell.date)
        except (ValueError, IndexError) as exc:
            raise XlsxReadError(f"{BAD}工作表“{name}”的单元格 {ref} 无法解析（{_why(exc)}）") from None
        return cells, tuple(merged)

    def _row(
        self,
        row: etree._Element,
        row_num: int,
        cells: dict[str, Cell],
        sst: list[str],
        dates: frozenset[int],
        masters: dict[str, tuple[str, str]],
        pending: list[tuple[str, str]],
        sheet: str,
        tags: _Tags,
    ) -> None:
        """Read the cells of one row into ``cells``.

        This is the reader's hot loop (every cell of every sheet): each lxml access builds a new
        Python object, so every one is made at most once per cell.
        """
        c_tag, v_tag, f_tag, is_tag = tags.c, tags.v, tags.f, tags.is_
        n_sst = len(sst)
        valid = _CELL_REF.fullmatch
        room = self.limits.max_cells - self.cells_read
        anchor, anchor_at = "", -1  # reference and position in the row of the last cell that gave one
        ref = f"（第 {row_num} 行）"
        i = -1
        try:
            for i, c in enumerate(row):
                if i >= room:
                    raise LimitExceeded("max_cells", self.limits.max_cells, sheet)
                n = len(c)
                if not n:
                    continue  # empty (style-only) cell: nothing to read
                if c.tag != c_tag:
                    continue  # <extLst>, a comment
                r = c.get("r")
                if r is None:  # the column follows the previous cell's (Excel always writes r)
                    col = ref_rc(anchor)[1] if anchor else 0
                    ref = col_name(col + i - anchor_at) + str(row_num)
                elif valid(r):
                    ref = anchor = r
                    anchor_at = i
                else:  # everything downstream keys cells by their A1 address
                    raise ValueError(f"单元格地址“{r[:20]}”不是有效的 A1 地址")
                v: str | None = None
                f: etree._Element | None = None
                is_el: etree._Element | None = None
                last = c[n - 1]
                last_tag = last.tag
                if last_tag == v_tag:  # the usual: [<f>] <v>
                    v = last.text or ""
                    if n > 1:
                        first = c[0]
                        f = first if first.tag == f_tag else None
                elif n == 1 and last_tag == f_tag:
                    f = last
                else:
                    for child in c:
                        ctag = child.tag
                        if ctag == v_tag:
                            v = child.text or ""
                        elif ctag == f_tag:
                            f = child
                        elif ctag == is_tag:
                            is_el = child
                t = c.get("t")
                value: str | float | bool | None
                date = False
                if t is None:
                    if v:
                        value = _number(v)
                        if dates and value.__class__ is float:
                            style = c.get("s")
                            date = style is not None and style.isdigit() and int(style) in dates
                    elif f is None:
                        continue  # empty (style-only) cell
                    else:
                        value = None
                elif t == "s":
                    if v:
                        idx = int(v)
                        if not 0 <= idx < n_sst:
                            raise IndexError(f"共享字符串索引 {idx} 越界")
                        value = sst[idx]
                    elif f is None:
                        continue
                    else:
                        value = None
                elif v is None and f is None and is_el is None:
                    continue
                elif t == "n":
                    value = _number(v) if v else None
                    if dates and value.__class__ is float:
                        style = c.get("s")
                        date = style is not None and style.isdigit() and int(style) in dates
                elif t == "str":
                    value = _unescape(v) if v is not None else None
                elif t == "b":
                    value = v.strip() in ("1", "true") if v else None
                elif t == "inlineStr":
                    value = _rich_text(is_el, tags.text) if is_el is not None else v
                else:  # "e" (error), "d" (ISO date) and anything unknown: stored text
                    value = v
                formula = None
                if f is not None:
                    formula = f.text or None
                    if formula is not None and len(formula) > MAX_FORMULA:
                        raise ValueError(f"公式超过 Excel 允许的 {MAX_FORMULA} 个字符")
                    if f.get("t") == "shared" and (si := f.get("si")) is not None:
                        if formula is None:
                            pending.append((ref, si))  # child: filled in once the sheet is read
                        elif si not in masters or f.get("ref"):
                            masters[si] = (ref, formula)
                cells[ref] = _make_cell(Cell, (value, formula, v, date))
        except (ValueError, IndexError) as exc:
            raise XlsxReadError(f"{BAD}工作表“{sheet}”的单元格 {ref} 无法解析（{_why(exc)}）") from None
        self.cells_read += i + 1


class _Tags:
    """The worksheet tags the reader compares with, in the namespace of the part's root element
    (as a whole-document reader sees them; transitional and strict files differ)."""

    __slots__ = ("row", "c", "v", "f", "is_", "text")

    def __init__(self, el: etree._Element) -> None:
        self.text = _text_tags(el)
        ns = self.text[0][:-2]  # the namespace prefix of "…si"
        self.row, self.c, self.v, self.f, self.is_ = (ns + t for t in ("row", "c", "v", "f", "is"))


_CELL_REF = re.compile(r"[A-Za-z]{1,3}[1-9][0-9]{0,6}")
# Building a Cell through NamedTuple's __new__ with keyword handling costs more than tuple.__new__;
# the cell loop is the hot one.
_make_cell = tuple.__new__


# ----------------------------------------------------------------------- helpers


def _number(text: str) -> float | str:
    """A stored number; one that is not finite (or not a number at all) stays text."""
    try:
        x = float(text)
    except ValueError:
        return text
    return x if math.isfinite(x) and "_" not in text else text


def _why(exc: Exception) -> str:
    text = str(exc)
    return text if re.search(r"[\u4e00-\u9fff]", text) else "内容不是有效的数字或引用"


_ESCAPE_RE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(text: str) -> str:
    """Decode the ``_xHHHH_`` escapes OOXML uses for control characters."""
    return _ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _text_tags(el: etree._Element) -> tuple[str, str, str]:
    """The ``si``, ``t`` and ``r`` tags in the namespace of the part's root element."""
    root = el.getroottree().getroot().tag
    ns = root[: root.index("}") + 1] if root.startswith("{") else ""
    return ns + "si", ns + "t", ns + "r"


def _rich_text(el: etree._Element, tags: tuple[str, str, str]) -> str:
    """Text of a ``<si>``/``<is>``: plain ``<t>`` plus ``<r><t>`` runs, phonetics excluded."""
    _, t_tag, r_tag = tags
    parts: list[str] = []
    for child in el:
        tag = child.tag
        if tag == t_tag:
            parts.append(child.text or "")
        elif tag == r_tag:
            parts.extend(sub.text or "" for sub in child if sub.tag == t_tag)
    return _unescape("".join(parts))


def _resolve_target(base: str, target: str) -> str:
    if "%" in target:
        target = unquote(target)
    target = target.replace("\\", "/")
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    return posixpath.normpath(posixpath.join(base, target))


def _first_of_type(rels: dict[str, tuple[str, str]], suffix: str) -> str | None:
    for rel_type, target in rels.values():
        if rel_type.endswith(suffix) and not rel_type.startswith("external:"):
            return target
    return None


# Built-in number formats that show dates or times (including the East Asian ones, 27–36 and 50–58).
_BUILTIN_DATES = frozenset({*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)})
_FORMAT_NOISE = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')


def _is_date_format(code: str) -> bool:
    """Whether a number format shows a date or time: a d, m, y, h or s outside quotes and brackets
    in its first section (``[$-F800]`` and ``[h]`` count)."""
    section = code.split(";", 1)[0]
    if re.search(r"\[(?:h+|m+|s+)\]|\[\$-F[48]00\]", section, re.IGNORECASE):
        return True
    return bool(re.search(r"[dmyhsDMYHS年月日时秒]", _FORMAT_NOISE.sub("", section)))
