"""A return's package for its review copy with nothing in it live, every other byte as it was.

The bureau opens the review copy in Excel, so it must not carry what the return could run or
reach. Every member is inflated within the limits (``check.package``) and every XML member vetted
(a DTD refuses the copy, as in the reader). Left out: the VBA project, Excel 4 macro sheets,
external-link parts, embedded objects, ActiveX controls and custom ribbons, with every relationship
to them and every relationship to an outside address (a hyperlink's text stays, its link goes).
Every formula that reaches outside the workbook (``engine.formula_risk``) is replaced by its cached
result, with a note saying so; such defined names are dropped. A number cell holding NaN or ∞
(which Excel refuses to open) becomes a text cell. A .xls/.ods return (values only) becomes a
fresh package holding its values (``values_book``).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterator
from functools import lru_cache

from lxml import etree

from perfxl.check.formats import read_workbook
from perfxl.check.limits import LIMITS, Budget, LimitExceeded, Limits
from perfxl.check.package import OLE_MAGIC, XlsxReadError
from perfxl.engine.formula_risk import danger
from perfxl.report.package_edit import (
    CONTENT_TYPES,
    WORKSHEET_TYPE,
    Parts,
    R,
    ascii_xml,
    drop_overrides,
    local,
    q,
    rel_targets,
    relationships,
    rels_name,
    target_part,
)
from perfxl.report.sheetxml import clean
from perfxl.report.values_book import MAIN_TYPE, values_package

AUTHOR = "perfxl 审核"
# Members never carried into the review copy: code, links to other files, embedded objects.
_DROPPED = (
    "vbaproject",
    "vbadata",
    "xl/macrosheets/",
    "xl/dialogsheets/",
    "xl/externallinks/",
    "xl/embeddings/",
    "xl/activex/",
    "xl/ctrlprops/",
    "customui/",
)
_MACRO_MAIN = (
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
)
_WORKSHEET_CONTAINERS = ("hyperlinks", "oleObjects", "controls", "AlternateContent", "Choice", "Fallback")


class ReviewError(ValueError):
    """The review copy cannot be made safely (message in Chinese)."""


def open_package(data: bytes, limits: Limits = LIMITS, budget: Budget | None = None) -> Parts:
    """The return in ``data`` as a package to edit (``defuse`` takes out what could run or reach)."""
    budget = budget or Budget(limits)
    try:
        if data[:8] == OLE_MAGIC:
            return Parts(values_package(read_workbook(data, "", limits, budget)), limits, budget)
        parts = Parts(data, limits, budget)
        mime = parts.data.get(parts.name("mimetype") or "", b"")
        if mime.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
            return Parts(values_package(read_workbook(data, "", limits, budget)), limits, budget)
        return parts
    except (XlsxReadError, LimitExceeded) as e:
        raise ReviewError(f"审核副本未写出：{e}") from None


def workbook_part(parts: Parts) -> str:
    found = [t for _, t in rel_targets(parts, "", "officeDocument") if parts.has(t)]
    name = found[0] if found else "xl/workbook.xml"
    if not parts.has(name):
        raise ReviewError("审核副本未写出：文件缺少 xl/workbook.xml")
    return name


def defuse(parts: Parts, book: str) -> dict[str, list[tuple[str, str]]]:
    """Take out of ``parts`` all that could run or reach outside (see the module's text); return
    the notes to put on the cells whose formulas were replaced, by worksheet part."""
    dropped = [n for n in parts.order if any(d in n.lower() for d in _DROPPED)]
    for name in dropped:
        parts.drop(name)
    if dropped:
        drop_overrides(parts, dropped)
    _main_type(parts, book)
    gone = set(dropped)
    for rels in [n for n in parts.order if n.lower().endswith(".rels")]:
        if not gone and b"External" not in parts.data[rels] and rels not in parts.trees:
            continue  # nothing it names is gone, and nothing it names is outside
        source = _source_of(rels)
        cut = _cut_rels(parts, source, gone)
        if cut:
            _cut_references(parts, source, cut, book)
    root = parts.tree(book)
    for name in list(root.iter(q("definedName"))):
        if danger(name.text or ""):
            _remove_name(name)
    notes: dict[str, list[tuple[str, str]]] = {}
    for _, sheet in rel_targets(parts, book, "worksheet"):
        if parts.has(sheet):
            found = list(_defuse_sheet(parts, sheet))
            if found:
                notes[sheet] = found
    if notes:  # Excel's list of formula cells would name cells that are no formulas any more
        for rid, chain in rel_targets(parts, book, "calcChain"):
            rels = parts.tree(rels_name(book))
            for rel in [r for r in rels if r.get("Id") == rid]:
                rels.remove(rel)
            parts.drop(chain)
            drop_overrides(parts, [chain])
    return notes


def _main_type(parts: Parts, book: str) -> None:
    """An .xlsm/.xltx main part declared as an .xlsx one (the copy is .xlsx, without macros)."""
    root = parts.tree(CONTENT_TYPES)
    for el in root:
        if local(el) == "Override" and (el.get("PartName") or "").lower() == "/" + book.lower():
            if el.get("ContentType") in _MACRO_MAIN:
                el.set("ContentType", MAIN_TYPE)


def _source_of(rels: str) -> str:
    folder, leaf = rels.rsplit("/", 1) if "/" in rels else ("", rels)
    base = folder[: -len("_rels")].rstrip("/") if folder.endswith("_rels") else folder
    name = leaf[: -len(".rels")]
    return f"{base}/{name}" if base else name


def _cut_rels(parts: Parts, source: str, gone: set[str]) -> set[str]:
    """Remove ``source``'s relationships to dropped parts or outside addresses; their ids."""
    lowered = {g.lower() for g in gone}
    doomed = [
        rel
        for rel in relationships(parts, source)
        if rel.get("TargetMode") == "External"
        or target_part(source, rel.get("Target") or "").lower() in lowered
    ]
    if doomed:
        root = parts.tree(rels_name(source))  # the same elements, now to be written out edited
        for rel in doomed:
            root.remove(rel)
    return {rel.get("Id") or "" for rel in doomed}


def _cut_references(parts: Parts, source: str, cut: set[str], book: str) -> None:
    """Take out what pointed to the relationships ``cut`` from ``source``: a worksheet's
    hyperlink, object or control, the workbook's sheet or external reference, or (elsewhere)
    the attribute naming it."""
    if not parts.has(source) or not source.lower().endswith(".xml"):
        return
    root = parts.look(source)
    whole = source == book or _is_worksheet(parts, source)
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        named = [k for k, v in el.attrib.items() if k.startswith(f"{{{R}}}") and v in cut]
        if not named:
            continue
        parts.tree(source)
        if not whole:
            for k in named:
                del el.attrib[k]
        elif local(el) == "sheet":
            remove_sheet(root, el)
        else:
            _remove_up(el)


def _is_worksheet(parts: Parts, name: str) -> bool:
    root = parts.look(CONTENT_TYPES)
    return any(
        (el.get("PartName") or "").lower() == "/" + name.lower() and el.get("ContentType") == WORKSHEET_TYPE
        for el in root
    )


def _remove_up(el: etree._Element) -> None:
    """Remove ``el``, and its container too when nothing is left in it."""
    parent = el.getparent()
    if parent is None:
        return
    parent.remove(el)
    if local(parent) in (*_WORKSHEET_CONTAINERS, "externalReferences") and not len(parent):
        _remove_up(parent)


def remove_sheet(workbook: etree._Element, sheet: etree._Element) -> None:
    """Take a sheet out of workbook.xml: its names scoped to it go, later sheets' scopes move up."""
    sheets = sheet.getparent()
    assert sheets is not None
    index = list(sheets).index(sheet)
    sheets.remove(sheet)
    for name in list(workbook.iter(q("definedName"))):
        scope = name.get("localSheetId")
        if scope is None or not scope.isdigit():
            continue
        if int(scope) == index:
            _remove_name(name)
        elif int(scope) > index:
            name.set("localSheetId", str(int(scope) - 1))
    for view in workbook.iter(q("workbookView")):
        for attr in ("activeTab", "firstSheet"):
            at = view.get(attr)
            if at is not None and at.isdigit() and int(at) >= index and int(at) > 0:
                view.set(attr, str(int(at) - 1))


def _remove_name(name: etree._Element) -> None:
    parent = name.getparent()
    assert parent is not None
    parent.remove(name)
    if not len(parent):
        grand = parent.getparent()
        assert grand is not None
        grand.remove(parent)


# ------------------------------------------------------------------ worksheets


def _defuse_sheet(parts: Parts, part: str) -> Iterator[tuple[str, str]]:
    """Replace the sheet's dangerous formulas by their cached results (yielding (cell, note)), and
    make its non-finite numbers text."""
    if _plain(parts.data[part]):
        return
    root = parts.look(part)
    masters: dict[str, str] = {}
    for f in root.iter("{*}f"):
        if f.get("t") == "shared" and f.text and f.get("si") is not None:
            masters.setdefault(f.get("si") or "", f.text)
    for c in root.iter("{*}c"):
        f = v = None
        for child in c:
            name = local(child)
            if name == "f":
                f = child
            elif name == "v":
                v = child
        if f is not None:
            text = f.text or (masters.get(f.get("si") or "") if f.get("t") == "shared" else None) or ""
            why = danger(text)
            if why:
                parts.tree(part)
                yield c.get("r") or "", _replace_formula(c, f, v, text, why)
                continue
        if c.get("t") in (None, "n") and v is not None and v.text is not None and not _is_number(v.text):
            parts.tree(part)
            if f is not None:
                c.set("t", "str")
            else:
                inline(c, v.text)


_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"
_ATTRS = rb"""((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*"""
_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_F_START = re.compile(rb"<" + _PREFIX + rb"f[\s>/]")
_F = re.compile(rb"<" + _PREFIX + rb"f" + _ATTRS + rb"(/?)>(?:([^<]*)</" + _PREFIX + rb"f\s*>)?")
# A value that is not a plain number, or one whose exponent may take it past a float's range.
_ODD_V = re.compile(rb"<v>([^<]*[^0-9eE+.\s<-][^<]*|[^<]*[eE]\+?[0-9]{3,}[^<]*)</")
_C_START = re.compile(rb"<c[\s>]")
_PREFIXED = re.compile(rb":[cfv][\s>/]")  # a cell, formula or value written with a namespace prefix
_V_ATTRS = re.compile(rb"<v\s")
_F_TEXT = re.compile(rb"<f[\s>/][^<]*")  # a formula element's start tag and text
_SAFE: dict[bytes, bool] = {}  # the formula elements of a sheet -> none of them reaches outside
_SAFE_KEPT = 64  # a form has a dozen sheets; a batch of returns of one form hits every time


def _formulas_plain(xml: bytes) -> bool:
    """Whether no formula of the sheet reaches outside. Decided once per distinct set of formula
    elements (every return of a form carries the same formulas; only the values typed differ)."""
    if b"<!--" in xml:
        return False  # a formula's text could hide behind a comment: the sheet is parsed
    key = b"\n".join(_F_TEXT.findall(xml))
    safe = _SAFE.get(key)
    if safe is None:
        safe = _formulas_safe(xml)
        if len(_SAFE) >= _SAFE_KEPT:
            _SAFE.clear()
        _SAFE[key] = safe
    return safe


def _plain(xml: bytes) -> bool:
    """Whether a worksheet's bytes show that none of its formulas reaches outside and none of its
    number cells holds NaN or ∞ — read from the markup without building the tree (most sheets);
    anything unusual (another encoding, a namespace prefix on cells, CDATA, a formula element the
    pattern does not take apart) answers no, and the sheet is parsed."""
    if not ascii_xml(xml) or b"CDATA" in xml:
        return False
    if _PREFIXED.search(xml) or _V_ATTRS.search(xml):
        return False  # cells or values written with a prefix, or a value with attributes
    if not _formulas_plain(xml):
        return False
    for m in _ODD_V.finditer(xml):  # a text <v>: fine in a text, error or formula-string cell only
        start = _last_cell_start(xml, m.start())
        if start < 0:
            return False
        attrs = {a: b or c for a, b, c in _ATTR.findall(xml[start : xml.find(b">", start)])}
        if attrs.get(b"t") in (None, b"n"):
            return False
    return True


def _formulas_safe(xml: bytes) -> bool:
    """Each formula element taken apart and its text judged by ``formula_risk.danger`` (anything
    the pattern cannot take apart answers no)."""
    formulas = 0
    for m in _F.finditer(xml):
        formulas += 1
        if m.group(2):
            continue  # <f .../>: a shared formula's child, as dangerous as its master (read here)
        if m.group(3) is None or _dangerous(m.group(3)):
            return False
    return formulas == len(_F_START.findall(xml))


@lru_cache(maxsize=4096)
def _dangerous(text: bytes) -> bool:
    """Whether a formula as written in the XML reaches outside (cached: returns repeat formulas)."""
    return danger(html.unescape(text.decode("utf-8", "replace"))) is not None


def _last_cell_start(xml: bytes, before: int) -> int:
    at = before
    while True:
        at = xml.rfind(b"<c", 0, at)
        if at < 0 or _C_START.match(xml, at):
            return at


def _replace_formula(
    c: etree._Element, f: etree._Element, v: etree._Element | None, text: str, why: str
) -> str:
    c.remove(f)
    value = v.text if v is not None else None
    kind = c.get("t")
    if value is None:
        if v is not None:
            c.remove(v)
        c.attrib.pop("t", None)
    elif kind in ("str", "inlineStr") or (kind in (None, "n") and not _is_number(value)):
        inline(c, value)
    shown = text[:80]
    return clean(
        f"原单元格的公式 {shown} 会访问工作簿以外的资源（{why}），"
        f"审核副本中已改为其保存的计算结果（{'空白' if value is None else value}），不再是公式。"
    )


def inline(c: etree._Element, text: str) -> None:
    """Make ``c`` a text cell holding ``text`` (an inline string: the shared strings stay as they are)."""
    for child in list(c):
        if local(child) in ("v", "is", "f"):
            c.remove(child)
    c.set("t", "inlineStr")
    ns = etree.QName(c).namespace
    t = etree.SubElement(etree.SubElement(c, f"{{{ns}}}is"), f"{{{ns}}}t")
    t.text = clean(text)
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text)) and "_" not in text
    except ValueError:
        return False
