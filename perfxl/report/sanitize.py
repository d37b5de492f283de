"""Open a return for its review copy with nothing in it live: the workbook openpyxl edits and saves.

The bureau opens the review copy in Excel, so it must not carry what the return could run or
reach. From an .xlsx/.xlsm the copy is rebuilt from a cleaned package: every member inflated within
the limits (``check.package``), every XML member parsed with the safe parser first (a DTD with
entities refuses the copy), and the VBA project, external-link parts, embedded objects and ActiveX
controls left out; openpyxl then loads it without macros or links, every formula that reaches
outside the workbook is replaced by its cached result (with a comment saying so), dangerous
defined names and links to outside addresses are dropped. A .xls/.ods return (values only) gets a
fresh workbook holding its values.
"""

from __future__ import annotations

import io
import math
import warnings
import zipfile
from typing import Any

from lxml import etree
from openpyxl import Workbook as OpenpyxlWorkbook
from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment

from perfxl.check.formats import read_workbook
from perfxl.check.limits import LIMITS, Budget, LimitExceeded, Limits
from perfxl.check.package import OLE_MAGIC, Package, XlsxReadError
from perfxl.check.xlsxread import Workbook, read_xlsx
from perfxl.check.xmlsafe import Sweeper, events, parse
from perfxl.engine.formula_risk import danger

AUTHOR = "perfxl 审核"
# Members never carried into the review copy: code, links to other files, embedded objects.
_DROPPED = ("vbaproject", "xl/externallinks/", "xl/embeddings/", "xl/activex/", "xl/ctrlprops/", "customui/")
_XML = (".xml", ".rels", ".vml")


class ReviewError(ValueError):
    """The review copy cannot be made safely (message in Chinese)."""


def open_for_review(data: bytes, limits: Limits = LIMITS, budget: Budget | None = None) -> Any:
    """An openpyxl workbook of the return in ``data``, with nothing from it live."""
    budget = budget or Budget(limits)
    try:
        if data[:8] == OLE_MAGIC or _is_ods(data, limits, budget):
            return _values_workbook(read_workbook(data, "", limits, budget))
        clean = _clean_package(data, limits, budget)
        cached = read_xlsx(data, limits, budget)
    except (XlsxReadError, LimitExceeded) as e:
        raise ReviewError(f"审核副本未写出：{e}") from None
    with warnings.catch_warnings():
        # openpyxl warns about extensions it drops (x14 data validations …): not a reason to stop.
        warnings.simplefilter("ignore")
        try:
            wb = load_workbook(io.BytesIO(clean), keep_vba=False, keep_links=False, rich_text=False)
        except Exception as e:  # openpyxl cannot load what the checker could read
            raise ReviewError(f"审核副本未写出：openpyxl 无法载入此文件（{type(e).__name__}）") from None
    budget.check()
    _defuse(wb, cached)
    return wb


def _is_ods(data: bytes, limits: Limits, budget: Budget) -> bool:
    if data[:2] != b"PK":
        return False
    with Package(data, limits, budget) as pkg:
        mime = pkg.read("mimetype") if pkg.find("mimetype") is not None else None
    return mime is not None and mime.startswith(b"application/vnd.oasis.opendocument.spreadsheet")


def _clean_package(data: bytes, limits: Limits, budget: Budget) -> bytes:
    """The members openpyxl may see, inflated and checked within the limits, re-zipped."""
    out = io.BytesIO()
    with Package(data, limits, budget) as pkg, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in pkg.names():
            low = name.lower()
            if name.endswith("/") or any(part in low for part in _DROPPED):
                continue
            chunks = pkg.chunks(name)
            assert chunks is not None
            if low.endswith(_XML):
                parts: list[bytes] = []
                sweep = Sweeper()
                bad_numbers = False
                for _, el in events(_keep(chunks, parts), name, ["{*}*"]):
                    if el.tag.endswith("}v") and not _finite(el.text):
                        bad_numbers = True
                    sweep(el)
                data = b"".join(parts)
                zf.writestr(name, _numbers_as_text(data, name) if bad_numbers else data)
            else:
                zf.writestr(name, b"".join(chunks))
    return out.getvalue()


def _finite(text: str | None) -> bool:
    """Whether a <v> could be read by openpyxl as it stands (text values are fine too: only the
    cells typed as numbers matter, and _numbers_as_text looks at those)."""
    if text is None:
        return True
    try:
        return math.isfinite(float(text))
    except ValueError:
        return True


def _numbers_as_text(data: bytes, part: str) -> bytes:
    """A worksheet whose number cells hold NaN, ∞ or other text, with those cells made text cells
    (openpyxl refuses to load them; Excel would refuse to open them)."""
    root = parse(data, part)
    for c in root.iter("{*}c"):
        if c.get("t") in (None, "n"):
            v = next((x for x in c if isinstance(x.tag, str) and x.tag.endswith("}v")), None)
            if v is not None and v.text is not None and not _is_number(v.text):
                c.set("t", "str")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text)) and "_" not in text
    except ValueError:
        return False


def _keep(chunks: Any, into: list[bytes]) -> Any:
    for chunk in chunks:
        into.append(chunk)
        yield chunk


def _defuse(wb: Any, cached: Workbook) -> None:
    """Replace each formula that reaches outside by its cached result; drop such names and links."""
    for name in list(wb.defined_names):
        if danger(str(wb.defined_names[name].value or "")):
            del wb.defined_names[name]
    for ws in wb.worksheets:
        for name in list(getattr(ws, "defined_names", {})):
            if danger(str(ws.defined_names[name].value or "")):
                del ws.defined_names[name]
        sheet = cached.sheets.get(ws.title)
        # Only the cells the file has (iter_rows() would make every cell of the used range, and
        # one value at XFD1048576 makes that range seventeen billion cells).
        for cell in list(ws._cells.values()):
            link = cell.hyperlink
            if link is not None and link.target:
                cell.hyperlink = None  # an outside address: the text stays, the link goes
            if cell.data_type != "f":
                continue
            text = getattr(cell.value, "text", cell.value)
            why = danger(str(text or ""))
            if not why:
                continue
            found = sheet.cells.get(cell.coordinate) if sheet is not None else None
            value = found.value if found is not None else None
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"
            shown = str(text)[:80]
            note = (
                f"原单元格的公式 {shown} 会访问工作簿以外的资源（{why}），"
                f"审核副本中已改为其保存的计算结果（{'空白' if value is None else value}），不再是公式。"
            )
            cell.comment = Comment(ILLEGAL_CHARACTERS_RE.sub("", note), AUTHOR, width=320, height=120)


def _values_workbook(values: Workbook) -> Any:
    """A fresh workbook holding the values of a .xls/.ods return, sheet by sheet."""
    wb = OpenpyxlWorkbook()
    wb.remove(wb.active)
    for n, sheet in enumerate(values.sheets.values(), 1):
        try:
            ws = wb.create_sheet(sheet.name)
        except ValueError:  # a name Excel does not allow
            ws = wb.create_sheet(f"表{n}")
        if sheet.state in ("hidden", "veryHidden"):
            ws.sheet_state = sheet.state
        for ref, found in sheet.cells.items():
            cell = ws[ref]
            value = found.value
            if isinstance(value, str):
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)[:32767]
                cell.data_type = "s"  # text stays text, even "=…"
            else:
                cell.value = value
                if found.date:
                    cell.number_format = "yyyy-mm-dd"
    if not wb.worksheets:
        wb.create_sheet("Sheet1")
    return wb
