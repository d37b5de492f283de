"""A reference .xlsx reader for the tests: whole parts through defusedxml's ElementTree.

This was perfxl's own reader before the streaming one (``perfxl.check.xlsxread``); it reads every
part whole and simply, so the tests hold the streaming reader to the same results on hand-made and
mutated workbooks. It is not hardened against hostile input: test data only.
"""

from __future__ import annotations

import io
import math
import os
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable
from functools import cache
from typing import Any, BinaryIO
from urllib.parse import unquote
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _defused_fromstring

from perfxl.check.xlsxread import Cell, Sheet, Workbook, XlsxReadError

__all__ = ["read_reference"]

XlsxSource = str | os.PathLike[str] | bytes | BinaryIO

_MAX_PART_SIZE = 256 * 1024 * 1024  # refuse zip-bomb parts larger than this (uncompressed)
_MAX_COL = 16384
_MAX_ROW = 1048576
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BAD = "不是有效的 xlsx 文件："


# --------------------------------------------------------------------------- XML


_ENCODING_RE = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_ASCII_COMPATIBLE = frozenset(
    {b"utf-8", b"utf8", b"us-ascii", b"ascii", b"iso-8859-1", b"latin-1", b"latin1"}
)


def _is_plain(data: bytes) -> bool:
    """True if ``data`` is ASCII-compatible XML, so ``<!DOCTYPE`` would show as those bytes."""
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    if data.startswith(b"<?xml", start):
        end = data.find(b"?>", start, start + 512)
        if end < 0:
            return False
        m = _ENCODING_RE.search(data, start, end)
        return m is None or m.group(1).lower() in _ASCII_COMPATIBLE
    return data[start : start + 1] == b"<" and data[start + 1 : start + 2] != b"\x00"


def _parse_xml(data: bytes, part: str) -> Element:
    try:
        return _defused_fromstring(data)
    except DefusedXmlException as exc:
        raise XlsxReadError(f"{_BAD}部件 {part} 含有被禁止的 DTD 实体或外部引用") from exc
    except ParseError as exc:
        raise XlsxReadError(f"{_BAD}部件 {part} 的 XML 已损坏（{exc}）") from exc
    except LookupError as exc:  # an encoding Python does not know
        raise XlsxReadError(f"{_BAD}部件 {part} 的 XML 已损坏（{exc}）") from exc


def _ns(root: Element) -> str:
    """The ``{namespace}`` prefix of the root tag (works for transitional and strict)."""
    tag = root.tag
    return tag[: tag.index("}") + 1] if tag.startswith("{") else ""


def _rel_id(el: Element) -> str | None:
    for key, val in el.attrib.items():
        if key.endswith("}id"):
            return val
    return None


# ----------------------------------------------------------------------- package


class _Package:
    """Random access to the parts of an OPC zip, tolerant of name case."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self._zf = zf
        self._infos = {info.filename: info for info in zf.infolist()}
        self._lower: dict[str, zipfile.ZipInfo] | None = None
        self._data: dict[str, bytes] = {}

    def find(self, name: str) -> zipfile.ZipInfo | None:
        info = self._infos.get(name)
        if info is None:
            if self._lower is None:
                self._lower = {k.lower(): v for k, v in self._infos.items()}
            info = self._lower.get(name.lower())
        return info

    def read(self, name: str) -> bytes | None:
        """The bytes of part ``name`` (``None`` if absent); kept, so a fallback does not unzip twice."""
        info = self.find(name)
        if info is None:
            return None
        data = self._data.get(info.filename)
        if data is None:
            if info.file_size > _MAX_PART_SIZE:
                raise XlsxReadError(f"{_BAD}部件 {name} 解压后过大（{info.file_size} 字节）")
            data = self._zf.read(info)
            self._data[info.filename] = data
        return data

    def xml(self, name: str) -> Element | None:
        data = self.read(name)
        return None if data is None else _parse_xml(data, name)

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationships of ``part`` (``""`` = package): Id -> (Type, target part name)."""
        base, leaf = posixpath.split(part)
        root = self.xml(posixpath.join(base, "_rels", leaf + ".rels"))
        out: dict[str, tuple[str, str]] = {}
        if root is None:
            return out
        for rel in root:
            rid, target = rel.get("Id"), rel.get("Target")
            if rid is None or target is None or rel.get("TargetMode") == "External":
                continue
            out[rid] = (rel.get("Type", ""), _resolve_target(base, target))
        return out


def _resolve_target(base: str, target: str) -> str:
    if "%" in target:
        target = unquote(target)
    target = target.replace("\\", "/")
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    return posixpath.normpath(posixpath.join(base, target))


def _first_of_type(rels: dict[str, tuple[str, str]], suffix: str) -> str | None:
    for rel_type, target in rels.values():
        if rel_type.endswith(suffix):
            return target
    return None


def _open_zip(source: XlsxSource) -> zipfile.ZipFile:
    if isinstance(source, (bytes, bytearray, memoryview)):
        fileobj: str | BinaryIO = io.BytesIO(bytes(source))
    elif isinstance(source, (str, os.PathLike)):
        fileobj = os.fspath(source)
    elif hasattr(source, "read"):
        fileobj = source
        if not (hasattr(source, "seekable") and source.seekable()):
            fileobj = io.BytesIO(source.read())
    else:
        raise TypeError(f"read_xlsx() 不支持的参数类型：{type(source).__name__}")
    try:
        return zipfile.ZipFile(fileobj)
    except zipfile.BadZipFile as exc:
        if _sniff(fileobj) == _OLE_MAGIC:
            reason = "这是 OLE 复合文档（加密的工作簿或旧版 .xls 格式），不是 zip 压缩包"
        else:
            reason = "不是 zip 压缩包"
        raise XlsxReadError(_BAD + reason) from exc
    except (OSError, EOFError, ValueError) as exc:
        raise XlsxReadError(f"无法读取文件：{exc}") from exc


def _sniff(fileobj: str | BinaryIO) -> bytes:
    try:
        if isinstance(fileobj, str):
            with open(fileobj, "rb") as fh:
                return fh.read(8)
        fileobj.seek(0)
        return fileobj.read(8)
    except (OSError, ValueError):
        return b""


# ----------------------------------------------------------------- cell helpers


_ESCAPE_RE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape_repl(m: re.Match[str]) -> str:
    return chr(int(m.group(1), 16))


def _unescape(text: str) -> str:
    """Decode the ``_xHHHH_`` escapes OOXML uses for control characters."""
    return _ESCAPE_RE.sub(_unescape_repl, text) if "_x" in text else text


def _rich_text(el: Element, t_tag: str, r_tag: str) -> str:
    """Text of a ``<si>``/``<is>``: plain ``<t>`` plus ``<r><t>`` runs, phonetics excluded."""
    if len(el) == 1 and el[0].tag == t_tag:
        return _unescape(el[0].text or "")
    parts: list[str] = []
    for child in el:
        if child.tag == t_tag:
            parts.append(child.text or "")
        elif child.tag == r_tag:
            for sub in child:
                if sub.tag == t_tag:
                    parts.append(sub.text or "")
    return _unescape("".join(parts))


@cache
def _col_name(col: int) -> str:
    name = ""
    while col:
        col, rem = divmod(col - 1, 26)
        name = chr(65 + rem) + name
    return name


@cache
def _col_index(letters: str) -> int:
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return col


_CELL_REF_RE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


def _ref_rc(ref: str) -> tuple[int, int]:
    m = _CELL_REF_RE.fullmatch(ref)
    if m is None:
        raise ValueError(f"无效的单元格引用 {ref!r}")
    return int(m.group(2)), _col_index(m.group(1))


# -------------------------------------------------------------- shared formulas

# Tokens of a formula that matter for shifting.  String literals, quoted sheet
# names and [bracketed] parts are matched so that their contents are skipped.
_FORMULA_TOKEN_RE = re.compile(
    r"""
      "(?:[^"]|"")*"
    | '(?:[^']|'')*'
    | \[[^\]]*\]
    | (?<![\w.$])
      (?:
          (?P<ca>\$?)(?P<col>[A-Z]{1,3})(?P<ra>\$?)(?P<row>[0-9]{1,7})
        | (?P<c1a>\$?)(?P<c1>[A-Z]{1,3}):(?P<c2a>\$?)(?P<c2>[A-Z]{1,3})
        | (?P<r1a>\$?)(?P<r1>[0-9]{1,7}):(?P<r2a>\$?)(?P<r2>[0-9]{1,7})
      )
      (?![\w.(!\[])
    """,
    re.VERBOSE,
)

# A compiled formula: literal text pieces and reference tuples
#   (0, col_abs, col, row_abs, row)   cell          e.g. $C5
#   (1, abs1, col1, abs2, col2)       column range  e.g. A:$C
#   (2, abs1, row1, abs2, row2)       row range     e.g. 1:$3
_Piece = str | tuple[int, bool, int, bool, int]


def _compile_formula(text: str) -> list[_Piece]:
    pieces: list[_Piece] = []
    pos = 0
    for m in _FORMULA_TOKEN_RE.finditer(text):
        if m.group("col") is not None:
            col, row = _col_index(m.group("col")), int(m.group("row"))
            if col > _MAX_COL or not 1 <= row <= _MAX_ROW:
                continue  # e.g. a name like "XYZ1" - not a reference
            token: _Piece = (0, m.group("ca") == "$", col, m.group("ra") == "$", row)
        elif m.group("c1") is not None:
            c1, c2 = _col_index(m.group("c1")), _col_index(m.group("c2"))
            if c1 > _MAX_COL or c2 > _MAX_COL:
                continue
            token = (1, m.group("c1a") == "$", c1, m.group("c2a") == "$", c2)
        elif m.group("r1") is not None:
            r1, r2 = int(m.group("r1")), int(m.group("r2"))
            if not (1 <= r1 <= _MAX_ROW and 1 <= r2 <= _MAX_ROW):
                continue
            token = (2, m.group("r1a") == "$", r1, m.group("r2a") == "$", r2)
        else:
            continue  # string literal, quoted name, bracket: copied verbatim
        if m.start() > pos:
            pieces.append(text[pos : m.start()])
        pieces.append(token)
        pos = m.end()
    if pos < len(text):
        pieces.append(text[pos:])
    return pieces


def _render_formula(pieces: list[_Piece], drow: int, dcol: int) -> str:
    out: list[str] = []
    for p in pieces:
        if isinstance(p, str):
            out.append(p)
            continue
        kind, abs1, v1, abs2, v2 = p
        if kind == 0:
            col = v1 if abs1 else v1 + dcol
            row = v2 if abs2 else v2 + drow
            if not (1 <= col <= _MAX_COL and 1 <= row <= _MAX_ROW):
                out.append("#REF!")
            else:
                out.append(f"{'$' if abs1 else ''}{_col_name(col)}{'$' if abs2 else ''}{row}")
        else:
            delta, limit = (dcol, _MAX_COL) if kind == 1 else (drow, _MAX_ROW)
            a = v1 if abs1 else v1 + delta
            b = v2 if abs2 else v2 + delta
            if not (1 <= a <= limit and 1 <= b <= limit):
                out.append("#REF!")
            elif kind == 1:
                out.append(f"{'$' if abs1 else ''}{_col_name(a)}:{'$' if abs2 else ''}{_col_name(b)}")
            else:
                out.append(f"{'$' if abs1 else ''}{a}:{'$' if abs2 else ''}{b}")
    return "".join(out)


def _shift_formula(text: str, drow: int, dcol: int) -> str:
    """Shift the relative references in ``text`` by ``drow`` rows and ``dcol`` columns."""
    return _render_formula(_compile_formula(text), drow, dcol)


# ------------------------------------------------------------------- worksheets


def _read_worksheet(root: Element, sst: list[str], name: str) -> tuple[dict[str, Cell], tuple[str, ...]]:
    ns = _ns(root)
    row_tag, c_tag, v_tag, f_tag, is_tag = ns + "row", ns + "c", ns + "v", ns + "f", ns + "is"
    t_tag, r_tag = ns + "t", ns + "r"
    cells: dict[str, Cell] = {}
    # si -> [master ref, master text, compiled pieces or None]
    masters: dict[str, list[Any]] = {}
    pending: list[tuple[str, str]] = []  # shared-formula children: (ref, si)
    n_sst = len(sst)
    ref = "?"
    sheet_data = root.find(ns + "sheetData")
    try:
        row_num = 0
        for row in sheet_data if sheet_data is not None else ():
            if row.tag != row_tag:
                continue
            r = row.get("r")
            row_num = int(r) if r else row_num + 1
            prev: str | None = None
            for c in row:
                ref = c.get("r")  # type: ignore[assignment]
                if ref is None:
                    if c.tag != c_tag:
                        continue  # <extLst>
                    ref = _col_name(_ref_rc(prev)[1] + 1 if prev else 1) + str(row_num)
                prev = ref
                v: str | None = None
                f: Element | None = None
                is_el: Element | None = None
                for child in c:
                    tag = child.tag
                    if tag == v_tag:
                        v = child.text or ""
                    elif tag == f_tag:
                        f = child
                    elif tag == is_tag:
                        is_el = child
                t = c.get("t")
                value: str | float | bool | None
                if t is None:
                    if v:
                        value = _number(v)
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
                elif t == "str":
                    value = _unescape(v) if v is not None else None
                elif t == "b":
                    value = v.strip() in ("1", "true") if v else None
                elif t == "inlineStr":
                    value = _rich_text(is_el, t_tag, r_tag) if is_el is not None else v
                else:  # "e" (error), "d" (ISO date) and anything unknown: stored text
                    value = v
                formula = None
                if f is not None:
                    formula = f.text or None
                    if f.get("t") == "shared" and (si := f.get("si")) is not None:
                        if formula is None:
                            pending.append((ref, si))  # child: filled in below
                        elif si not in masters or f.get("ref"):
                            masters[si] = [ref, formula, None]
                cells[ref] = Cell(value, formula, v)
        for ref, si in pending:
            master = masters.get(si)
            if master is None:
                continue
            m_ref, m_text, pieces = master
            if pieces is None:
                pieces = master[2] = _compile_formula(m_text)
            (m_row, m_col), (c_row, c_col) = _ref_rc(m_ref), _ref_rc(ref)
            cell = cells[ref]
            formula = _render_formula(pieces, c_row - m_row, c_col - m_col)
            cells[ref] = Cell(cell.value, formula, cell.raw)
    except (ValueError, IndexError) as exc:
        raise XlsxReadError(f"{_BAD}工作表“{name}”的单元格 {ref} 无法解析（{exc}）") from exc

    return cells, _merged(root, ns)


def _merged(root: Element, ns: str) -> tuple[str, ...]:
    merge_el = root.find(ns + "mergeCells")
    if merge_el is None:
        return ()
    return tuple(mc.get("ref", "").replace("$", "") for mc in merge_el if mc.get("ref"))


def _read_shared_strings(root: Element) -> list[str]:
    ns = _ns(root)
    si_tag, t_tag, r_tag = ns + "si", ns + "t", ns + "r"
    return [_rich_text(si, t_tag, r_tag) for si in root if si.tag == si_tag]


def _read_custom_properties(root: Element) -> dict[str, str]:
    props: dict[str, str] = {}
    for prop in root:
        name = prop.get("name")
        if name is not None:
            props[name] = (prop[0].text or "") if len(prop) else ""
    return props


# What a damaged archive or part raises while being read (the ET path reports them as corrupt).
_CORRUPT_ERRORS = (
    KeyError,
    IndexError,
    ValueError,  # includes UnicodeDecodeError
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    OSError,
)
# ---------------------------------------------------------------------- public


def read_reference(path: XlsxSource) -> Workbook:
    """The workbook as the reference reads it (whole parts, ElementTree through defusedxml)."""
    return _read(path, _read_package)


def _read(path: XlsxSource, read_package: Callable[[_Package], Workbook]) -> Workbook:
    zf = _open_zip(path)
    try:
        with zf:
            return read_package(_Package(zf))
    except XlsxReadError:
        raise
    except _CORRUPT_ERRORS as exc:
        raise XlsxReadError(f"{_BAD}压缩包内容损坏（{type(exc).__name__}: {exc}）") from exc


def _read_package(pkg: _Package) -> Workbook:
    root_rels = pkg.rels("")
    wb_part = _first_of_type(root_rels, "/officeDocument")
    if wb_part is None or pkg.find(wb_part) is None:
        wb_part = "xl/workbook.xml"
    wb_root = pkg.xml(wb_part)
    if wb_root is None:
        raise XlsxReadError(f"{_BAD}缺少 xl/workbook.xml")
    ns = _ns(wb_root)
    wb_rels = pkg.rels(wb_part)

    sst: list[str] = []
    sst_part = _first_of_type(wb_rels, "/sharedStrings") or "xl/sharedStrings.xml"
    sst_root = pkg.xml(sst_part)
    if sst_root is not None:
        sst = _read_shared_strings(sst_root)

    sheets: dict[str, Sheet] = {}
    sheets_el = wb_root.find(ns + "sheets")
    for el in sheets_el if sheets_el is not None else ():
        name = el.get("name")
        if not name:
            raise XlsxReadError(f"{_BAD}workbook.xml 中有工作表缺少名称")
        if name in sheets:
            raise XlsxReadError(f"{_BAD}工作表名称重复：{name}")
        rel = wb_rels.get(_rel_id(el) or "")
        if rel is None:
            raise XlsxReadError(f"{_BAD}工作表“{name}”在 workbook.xml.rels 中没有对应关系")
        sheet_root = pkg.xml(rel[1])
        if sheet_root is None:
            raise XlsxReadError(f"{_BAD}工作表“{name}”的部件 {rel[1]} 不存在")
        cells, merged = _read_worksheet(sheet_root, sst, name)
        sheets[name] = Sheet(name, el.get("state") or "visible", cells, merged)

    defined_names: dict[str, str] = {}
    names_el = wb_root.find(ns + "definedNames")
    for dn in names_el if names_el is not None else ():
        dn_name = dn.get("name")
        if dn_name and dn.get("localSheetId") is None and not dn_name.lower().startswith("_xlnm."):
            defined_names[dn_name] = dn.text or ""

    custom: dict[str, str] = {}
    custom_part = _first_of_type(root_rels, "/custom-properties") or "docProps/custom.xml"
    custom_root = pkg.xml(custom_part)
    if custom_root is not None:
        custom = _read_custom_properties(custom_root)

    return Workbook(sheets, defined_names, custom)


_NAME_REF_RE = re.compile(
    r"""=?(?:'(?P<q>(?:[^']|'')+)'|(?P<u>[^\s'!\[\]:*?/\\]+))!
        \$?(?P<c1>[A-Za-z]{1,3})\$?(?P<r1>[0-9]{1,7})
        (?::\$?(?P<c2>[A-Za-z]{1,3})\$?(?P<r2>[0-9]{1,7}))?""",
    re.VERBOSE,
)


def resolve_name(wb: Workbook, name: str) -> tuple[str, str] | None:
    """Resolve a workbook-scoped defined name to ``(sheet name, "C7")``.

    Returns ``None`` unless the name exists (looked up exactly, then
    case-insensitively as Excel does) and refers to a single cell on a sheet
    of ``wb`` (``$C$7:$C$7`` counts as a single cell).
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
    if sheet not in wb.sheets or not 1 <= row <= _MAX_ROW or _col_index(col) > _MAX_COL:
        return None
    return sheet, f"{col}{row}"


def _number(text: str) -> float | str:
    try:
        x = float(text)
    except ValueError:
        return text
    return x if math.isfinite(x) and "_" not in text else text
