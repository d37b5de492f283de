"""A workbook package edited part by part: what is not edited is written back byte for byte.

``Parts`` holds every member of the return, inflated and CRC-checked within the limits
(``check.package``; every XML member is vetted for a DTD); an XML member is parsed
(``check.xmlsafe``: no entities, no network) only when it is read or edited, and serialized again
only when edited. The zip is written here, members in their original order, new ones after them:
a member not edited keeps its compressed bytes as they came (checked while inflating), which
:mod:`zipfile` cannot do — deflating the unchanged 90 % of a return again would cost a third of
the copy's time. The helpers here know the package's plumbing —
relationships, content types, the stylesheet, a worksheet's cells and the order of its elements —
and nothing about what a review says.
"""

from __future__ import annotations

import copy
import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator

from lxml import etree

from perfxl.check.limits import Budget, Limits
from perfxl.check.package import BAD, Package, XlsxReadError
from perfxl.check.sharedformula import col_name, ref_rc
from perfxl.check.xmlsafe import parse

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_TYPE = R + "/"  # relationship types are this plus e.g. "worksheet"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CONTENT_TYPES = "[Content_Types].xml"

# A worksheet's children in the order the schema requires (CT_Worksheet).
SHEET_ORDER = (
    "sheetPr dimension sheetViews sheetFormatPr cols sheetData sheetCalcPr sheetProtection "
    "protectedRanges scenarios autoFilter sortState dataConsolidate customSheetViews mergeCells "
    "phoneticPr conditionalFormatting dataValidations hyperlinks printOptions pageMargins pageSetup "
    "headerFooter rowBreaks colBreaks customProperties cellWatches ignoredErrors smartTags drawing "
    "legacyDrawing legacyDrawingHF drawingHF picture oleObjects controls webPublishItems tableParts "
    "extLst"
).split()
_RANK = {name: n for n, name in enumerate(SHEET_ORDER)}
_ENCODING_RE = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_DOCTYPE_RE = re.compile(rb"<!\s*doctype", re.IGNORECASE)


def q(tag: str) -> str:
    """A SpreadsheetML element name in Clark notation."""
    return f"{{{MAIN}}}{tag}"


def local(el: etree._Element) -> str:
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def ascii_xml(data: bytes) -> bool:
    """Whether a part is in an ASCII-compatible encoding (UTF-8, as every workbook writer uses), so
    its markup can be found in its bytes; anything else is parsed instead of scanned."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:64]:
        return False
    m = _ENCODING_RE.match(data)
    return m is None or m.group(1).lower() in (b"utf-8", b"utf8", b"us-ascii", b"ascii")


class Parts:
    """The members of a package, by name; parsed and edited on demand, written as a zip."""

    def __init__(self, data: bytes, limits: Limits, budget: Budget) -> None:
        with Package(data, limits, budget) as pkg:
            names = [n for n in pkg.names() if not n.endswith("/")]
            self.data: dict[str, bytes] = {n: pkg.read(n) or b"" for n in names}
        self.order = names
        self.raw = _raw_members(data, names)  # a member not edited is written as it came
        self.trees: dict[str, etree._Element] = {}  # parts being edited: written serialized
        self.seen: dict[str, etree._Element] = {}  # parts only read
        self._lower = {n.lower(): n for n in names}
        for name, part in self.data.items():
            if name.lower().endswith((".xml", ".rels", ".vml")):
                _vet(part, name)

    def name(self, name: str) -> str | None:
        """The member's name as stored (part names are case-insensitive)."""
        if name in self.data:
            return name
        return self._lower.get(name.lower())

    def has(self, name: str) -> bool:
        return self.name(name) is not None

    def tree(self, name: str) -> etree._Element:
        """The part parsed (once), to be edited: it is written out serialized."""
        root = self.look(name)
        stored = self.name(name)
        assert stored is not None
        self.trees[stored] = root
        self.raw.pop(stored, None)
        return root

    def look(self, name: str) -> etree._Element:
        """The part parsed (once), to be read: unless ``tree`` is asked for it too, the part is
        written out byte for byte as it came."""
        stored = self.name(name)
        if stored is None:
            raise XlsxReadError(f"{BAD}缺少部件 {name}")
        if stored in self.trees:
            return self.trees[stored]
        if stored not in self.seen:
            self.seen[stored] = parse(self.data[stored], stored)
        return self.seen[stored]

    def put(self, name: str, data: bytes | etree._Element) -> None:
        stored = self.name(name) or name
        if stored not in self.data:
            self.order.append(stored)
            self._lower[stored.lower()] = stored
        self.raw.pop(stored, None)
        self.seen.pop(stored, None)
        if isinstance(data, bytes):
            self.data[stored] = data
            self.trees.pop(stored, None)
        else:
            self.data.setdefault(stored, b"")
            self.trees[stored] = data

    def drop(self, name: str) -> None:
        stored = self.name(name)
        if stored is not None:
            del self.data[stored]
            self.trees.pop(stored, None)
            self.seen.pop(stored, None)
            self.raw.pop(stored, None)
            self.order.remove(stored)
            del self._lower[stored.lower()]

    def free(self, pattern: str) -> str:
        """The first unused part name of ``pattern`` (e.g. ``"xl/worksheets/sheet{}.xml"``)."""
        n = 1
        while self.has(pattern.format(n)):
            n += 1
        return pattern.format(n)

    def bytes_of(self, name: str) -> bytes:
        stored = self.name(name)
        assert stored is not None
        if stored in self.trees:
            return serialize(self.trees[stored])
        return self.data[stored]

    def zip(self) -> bytes:
        """The package as a zip: members in their order, an unedited one as its compressed bytes
        came (checked while inflating: its CRC-32 and size), an edited or new one deflated."""
        out, directory = bytearray(), bytearray()
        for name in self.order:
            member = self.raw.get(name)
            if member is None:
                data = self.bytes_of(name)
                deflate = zlib.compressobj(1, zlib.DEFLATED, -15)
                member = (
                    zipfile.ZIP_DEFLATED,
                    zlib.crc32(data),
                    len(data),
                    deflate.compress(data) + deflate.flush(),
                )
            method, crc, size, body = member
            encoded = name.encode("utf-8")
            flags = 0 if encoded.isascii() else 0x800  # names in UTF-8
            head = (20, flags, method, 0, _DOS_DATE, crc, len(body), size, len(encoded))
            directory += _CENTRAL.pack(b"PK\x01\x02", 20, *head, 0, 0, 0, 0, 0, len(out)) + encoded
            out += _LOCAL.pack(b"PK\x03\x04", *head, 0) + encoded + body
        count = len(self.order)
        out += directory + _END.pack(b"PK\x05\x06", 0, 0, count, count, len(directory), len(out), 0)
        return bytes(out)


_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_DOS_DATE = (1 << 5) | 1  # 1980-01-01, as every workbook writer stamps its members


def _raw_members(data: bytes, names: list[str]) -> dict[str, tuple[int, int, int, bytes]]:
    """Each member's (method, CRC-32, size, compressed bytes), as stored; ``Package`` has checked
    them all (inflated within the limits, size and CRC-32 as the directory says)."""
    out = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in names:
            info = zf.getinfo(name)
            start = info.header_offset
            skip = int.from_bytes(data[start + 26 : start + 28], "little") + int.from_bytes(
                data[start + 28 : start + 30], "little"
            )
            body = data[start + 30 + skip : start + 30 + skip + info.compress_size]
            out[name] = (info.compress_type, info.CRC, info.file_size, body)
    return out


def serialize(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def _vet(data: bytes, name: str) -> None:
    """Refuse a part declaring a DTD, as the reader does (scanned; parsed when not plain UTF-8)."""
    if not ascii_xml(data):
        parse(data, name)
    elif _DOCTYPE_RE.search(data):
        parse(data, name)  # raises for entities or an external DTD
        raise XlsxReadError(f"{BAD}部件 {name} 含有 DTD 声明（正常的工作簿从不包含），已拒绝读取")


# ------------------------------------------------------------------ relationships


def rels_name(part: str) -> str:
    base, leaf = posixpath.split(part)
    return posixpath.join(base, "_rels", leaf + ".rels")


def target_part(source: str, target: str) -> str:
    """The part a relationship of ``source`` names (targets are relative to the source's folder)."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def rels(parts: Parts, source: str, create: bool = False) -> etree._Element | None:
    """``source``'s relationships part, parsed to be edited if ``create`` (made if absent), else read."""
    name = rels_name(source)
    if parts.has(name):
        return parts.tree(name) if create else parts.look(name)
    if not create:
        return None
    root = etree.Element(f"{{{PKG_REL}}}Relationships", nsmap={None: PKG_REL})
    parts.put(name, root)
    return root


def relationships(parts: Parts, source: str) -> Iterator[etree._Element]:
    root = rels(parts, source)
    if root is not None:
        yield from (el for el in root if local(el) == "Relationship")


def add_rel(parts: Parts, source: str, kind: str, target: str) -> str:
    """Add a relationship from ``source`` to the part ``target``; return its new id."""
    root = rels(parts, source, create=True)
    assert root is not None
    taken = {el.get("Id") for el in root}
    n = len(taken) + 1
    while f"rId{n}" in taken:
        n += 1
    rel = etree.SubElement(root, f"{{{PKG_REL}}}Relationship")
    rel.set("Id", f"rId{n}")
    rel.set("Type", REL_TYPE + kind)
    rel.set("Target", posixpath.relpath(target, posixpath.dirname(source) or "."))
    return f"rId{n}"


def rel_targets(parts: Parts, source: str, kind: str) -> list[tuple[str, str]]:
    """(id, part) of ``source``'s internal relationships of type ``kind`` (e.g. ``"comments"``)."""
    out = []
    for el in relationships(parts, source):
        if el.get("TargetMode") != "External" and (el.get("Type") or "").endswith("/" + kind):
            out.append((el.get("Id") or "", target_part(source, el.get("Target") or "")))
    return out


# ------------------------------------------------------------------ content types


def add_override(parts: Parts, part: str, content_type: str) -> None:
    root = parts.tree(CONTENT_TYPES)
    name = "/" + part
    for el in root:
        if local(el) == "Override" and (el.get("PartName") or "").lower() == name.lower():
            el.set("ContentType", content_type)
            return
    etree.SubElement(root, f"{{{CT}}}Override", PartName=name, ContentType=content_type)


def add_default(parts: Parts, extension: str, content_type: str) -> None:
    root = parts.tree(CONTENT_TYPES)
    if not any(local(el) == "Default" and (el.get("Extension") or "").lower() == extension for el in root):
        el = etree.Element(f"{{{CT}}}Default", Extension=extension, ContentType=content_type)
        root.insert(0, el)


def drop_overrides(parts: Parts, dropped: Iterable[str]) -> None:
    gone = {"/" + p.lower() for p in dropped}
    root = parts.tree(CONTENT_TYPES)
    for el in list(root):
        if local(el) == "Override" and (el.get("PartName") or "").lower() in gone:
            root.remove(el)


# ------------------------------------------------------------------ worksheets


def place(root: etree._Element, child: etree._Element) -> etree._Element:
    """Insert ``child`` into a worksheet where the schema wants it (replacing one of its kind)."""
    name = local(child)
    rank = _RANK[name]
    for n, el in enumerate(root):
        other = _RANK.get(local(el), -1)
        if other == rank:
            root.replace(el, child)
            return child
        if other > rank:
            root.insert(n, child)
            return child
    root.append(child)
    return child


def first(root: etree._Element, name: str) -> etree._Element | None:
    return next((el for el in root if local(el) == name), None)


def cell(sheet: etree._Element, ref: str) -> etree._Element:
    """The ``<c>`` of ``ref`` on a worksheet, made (with its row) where the schema order wants it
    when the file has none."""
    row_no, col_no = ref_rc(ref)
    ref = f"{col_name(col_no)}{row_no}"
    data = first(sheet, "sheetData")
    if data is None:
        data = place(sheet, etree.Element(q("sheetData")))
    ns = etree.QName(data).namespace or MAIN
    rows = list(data.iterchildren("{*}row"))
    if any(el.get("r") is None for el in rows):
        last = 0
        for el in rows:  # rows may leave out their number: each follows the one before
            r = _int(el.get("r"))
            last = r if r is not None else last + 1
            el.set("r", str(last))
    row = next((el for el in rows if el.get("r") == str(row_no)), None)
    if row is None:
        later = next((el for el in rows if (_int(el.get("r")) or 0) > row_no), None)
        row = etree.Element(f"{{{ns}}}row", r=str(row_no))
        if later is None:
            data.append(row)
        else:
            later.addprevious(row)
    cells = list(row.iterchildren("{*}c"))
    found = next((el for el in cells if el.get("r") == ref), None)  # the usual case
    if found is not None:
        return found
    col = 0
    for el in cells:  # a cell may leave out its reference too: it follows the one before
        there = el.get("r")
        try:
            col = ref_rc(there)[1] if there else col + 1
        except ValueError:
            col += 1
        if there is None:
            el.set("r", f"{col_name(col)}{row_no}")
        if col == col_no:
            return el
    c = etree.Element(f"{{{ns}}}c", r=ref)
    later_cell = next((el for el in cells if _col(el) > col_no), None)
    if later_cell is None:
        if cells:
            cells[-1].addnext(c)
        else:
            row.insert(0, c)
    else:
        later_cell.addprevious(c)
    return c


def _col(c: etree._Element) -> int:
    try:
        return ref_rc(c.get("r") or "")[1]
    except ValueError:
        return 0


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


# ------------------------------------------------------------------ the stylesheet


class Styles:
    """``xl/styles.xml``, with fonts, fills, borders, number formats and cell formats appended
    (never inserted: an index a cell already has keeps its meaning)."""

    def __init__(self, parts: Parts, part: str) -> None:
        self.root = parts.tree(part) if parts.has(part) else _empty_styles(parts, part)
        self.lists = {}
        for name in ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs"):
            el = first(self.root, name)
            if el is None:
                el = self._make(name)
            self.lists[name] = el
        self.made: dict[tuple[object, ...], int] = {}

    def _make(self, name: str) -> etree._Element:
        order = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs")
        el = etree.Element(q(name))
        after = [first(self.root, n) for n in order[: order.index(name)]]
        prev = next((a for a in reversed(after) if a is not None), None)
        if prev is None:
            self.root.insert(0, el)
        else:
            prev.addnext(el)
        if name == "fonts":
            etree.SubElement(etree.SubElement(el, q("font")), q("sz"), val="11")
        if name == "fills":
            for kind in ("none", "gray125"):
                etree.SubElement(etree.SubElement(el, q("fill")), q("patternFill"), patternType=kind)
        if name == "borders":
            etree.SubElement(el, q("border"))
        if name == "cellStyleXfs":
            etree.SubElement(el, q("xf"), numFmtId="0", fontId="0", fillId="0", borderId="0")
        if name == "cellXfs":
            etree.SubElement(el, q("xf"), numFmtId="0", fontId="0", fillId="0", borderId="0", xfId="0")
        return el

    def _append(self, key: tuple[object, ...], listed: str, el: etree._Element) -> int:
        if key not in self.made:
            container = self.lists[listed]
            container.append(el)
            container.set("count", str(len(container)))
            self.made[key] = len(container) - 1
        return self.made[key]

    def font(
        self, name: str, size: float, bold: bool = False, color: str = "000000", underline: bool = False
    ) -> int:
        key = ("font", name, size, bold, color, underline)
        if key in self.made:
            return self.made[key]
        el = etree.Element(q("font"))
        if bold:
            etree.SubElement(el, q("b"))
        if underline:
            etree.SubElement(el, q("u"))
        etree.SubElement(el, q("sz"), val=f"{size:g}")
        etree.SubElement(el, q("color"), rgb="FF" + color)
        etree.SubElement(el, q("name"), val=name)
        etree.SubElement(el, q("charset"), val="134")  # GB2312: the fonts are Chinese
        return self._append(key, "fonts", el)

    def fill(self, rgb: str) -> int:
        if ("fill", rgb) in self.made:
            return self.made[("fill", rgb)]
        el = etree.Element(q("fill"))
        pattern = etree.SubElement(el, q("patternFill"), patternType="solid")
        etree.SubElement(pattern, q("fgColor"), rgb="FF" + rgb)
        etree.SubElement(pattern, q("bgColor"), rgb="FF" + rgb)
        return self._append(("fill", rgb), "fills", el)

    def border(self, style: str, rgb: str | None) -> int:
        if ("border", style, rgb) in self.made:
            return self.made[("border", style, rgb)]
        el = etree.Element(q("border"))
        for side in ("left", "right", "top", "bottom"):
            s = etree.SubElement(el, q(side), style=style)
            if rgb:
                etree.SubElement(s, q("color"), rgb="FF" + rgb)
            else:
                etree.SubElement(s, q("color"), auto="1")
        etree.SubElement(el, q("diagonal"))
        return self._append(("border", style, rgb), "borders", el)

    def number(self, code: str) -> int:
        builtin = {"General": 0, "0": 1, "0.00": 2}
        if code in builtin:
            return builtin[code]
        container = self.lists["numFmts"]
        for el in container:
            if el.get("formatCode") == code:
                return int(el.get("numFmtId") or 0)
        taken = [int(el.get("numFmtId") or 0) for el in container]
        n = max([163, *taken]) + 1
        el = etree.Element(q("numFmt"), numFmtId=str(n), formatCode=code)
        return self._append(("numFmt", code), "numFmts", el)

    def xf(
        self,
        font: int,
        fill: int = 0,
        border: int = 0,
        number: int = 0,
        align: tuple[str | None, str | None, bool, bool] | None = None,
        locked: bool = True,
        hidden: bool = False,
        quote: bool = False,
    ) -> int:
        """A cell format of these parts; ``align`` is (horizontal, vertical, wrap, shrink)."""
        key = ("xf", font, fill, border, number, align, locked, hidden, quote)
        if key in self.made:
            return self.made[key]
        el = etree.Element(q("xf"), numFmtId=str(number), fontId=str(font), fillId=str(fill))
        el.set("borderId", str(border))
        el.set("xfId", "0")
        for attr, used in (
            ("applyNumberFormat", number),
            ("applyFont", 1),
            ("applyFill", fill),
            ("applyBorder", border),
        ):
            if used:
                el.set(attr, "1")
        if quote:
            el.set("quotePrefix", "1")
        if align is not None:
            el.set("applyAlignment", "1")
            horizontal, vertical, wrap, shrink = align
            a = etree.SubElement(el, q("alignment"))
            for attr, value in (("horizontal", horizontal), ("vertical", vertical)):
                if value:
                    a.set(attr, value)
            if wrap:
                a.set("wrapText", "1")
            if shrink:
                a.set("shrinkToFit", "1")
        if not locked or hidden:
            el.set("applyProtection", "1")
            etree.SubElement(
                el, q("protection"), locked="1" if locked else "0", hidden="1" if hidden else "0"
            )
        return self._append(key, "cellXfs", el)

    def locked(self, index: int) -> bool:
        """Whether a cell of format ``index`` is locked (the default) or an input cell."""
        xfs = self.lists["cellXfs"]
        if not 0 <= index < len(xfs):
            return True
        prot = first(xfs[index], "protection")
        return prot is None or prot.get("locked") not in ("0", "false")

    def recolour(self, index: int, fill: int, border: int) -> int:
        """A copy of cell format ``index`` with another fill and border (its number format, font,
        alignment and protection kept, so the cell reads and behaves as before)."""
        key = ("recolour", index, fill, border)
        if key in self.made:
            return self.made[key]
        xfs = self.lists["cellXfs"]
        base = xfs[index] if 0 <= index < len(xfs) else xfs[0]
        el = copy.deepcopy(base)
        el.set("fillId", str(fill))
        el.set("borderId", str(border))
        el.set("applyFill", "1")
        el.set("applyBorder", "1")
        return self._append(key, "cellXfs", el)


def _empty_styles(parts: Parts, part: str) -> etree._Element:
    root = etree.Element(q("styleSheet"), nsmap={None: MAIN})
    parts.put(part, root)
    return root
