"""Minimal, fast and safe reader for .xlsx workbooks.

Only the standard library :mod:`zipfile` and an ElementTree parser are used;
only the parts that are needed are read (workbook, its relationships, shared
strings, worksheets and ``docProps/custom.xml``).  Styles are never read, so
dates come back as the stored serial numbers.

XML safety: a DTD is the only way an XML document can declare entities (the
"billion laughs" bomb) or pull in external resources.  A part that is plainly
ASCII-compatible (UTF-8, US-ASCII or ISO-8859-1) and does not contain the
bytes ``<!DOCTYPE`` therefore cannot carry either, and is parsed with the
C-accelerated :func:`xml.etree.ElementTree.fromstring`.  Every other part
(a DTD is present, or the encoding is UTF-16 / something exotic) goes through
:func:`defusedxml.ElementTree.fromstring`, which refuses entity declarations
and external references.  defusedxml's parser is pure Python and about three
times slower, hence this split.

Speed: most workbooks (ours, and most of what Excel, WPS and LibreOffice
write) are first read through a fast path that takes the worksheets, shared
strings and workbook.xml apart with compiled regular expressions instead of
building element trees; whatever it is not sure of sends the whole workbook
through the ElementTree path, which gives the same result.  See "fast path"
below.

Semantics worth knowing:

* Cells that carry neither a value nor a formula (style-only cells) are
  omitted from :attr:`Sheet.cells`.
* :attr:`Cell.raw` is the ``<v>`` text exactly as stored: for shared-string
  cells that is the string-table index, for inline strings it is ``None``.
* Text from shared strings, inline strings and ``t="str"`` results is
  un-escaped the way Excel does it (``_x000D_`` -> ``"\\r"``); phonetic runs
  (``<rPh>``) are not part of the text.
* Shared-formula children get their own formula text, obtained by shifting
  the relative references of the master formula (as Excel does); a
  reference shifted off the sheet becomes ``#REF!``.  A child whose master
  cannot be found has ``formula=None``.  Only the top-left cell of an array
  formula carries its text; ``dataTable`` formulas have ``formula=None``.
* ``t="d"`` (ISO 8601 date) cells keep the stored text as their value.
* :attr:`Workbook.defined_names` holds workbook-scoped names only; names with
  a ``localSheetId`` (sheet-scoped) and the ``_xlnm.*`` built-ins (print
  area, print titles, filter database ...) are dropped.
* Chart sheets are listed in :attr:`Workbook.sheets` with no cells.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, BinaryIO
from urllib.parse import unquote
from xml.etree.ElementTree import Element, ParseError
from xml.etree.ElementTree import fromstring as _fast_fromstring
from xml.parsers.expat import ExpatError, ParserCreate

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _defused_fromstring

__all__ = ["Cell", "Sheet", "Workbook", "XlsxReadError", "read_xlsx", "resolve_name"]

XlsxSource = str | os.PathLike[str] | bytes | BinaryIO

_MAX_PART_SIZE = 256 * 1024 * 1024  # refuse zip-bomb parts larger than this (uncompressed)
_MAX_COL = 16384
_MAX_ROW = 1048576
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BAD = "不是有效的 xlsx 文件："


class XlsxReadError(Exception):
    """The input cannot be read as an .xlsx workbook (message in Chinese)."""


@dataclass(frozen=True, slots=True)
class Cell:
    """One non-empty cell.

    ``value``: float for numbers, str for text and errors (``"#DIV/0!"``),
    bool for booleans, ``None`` when a formula has no cached result.
    ``formula``: formula text without the leading ``=`` (shared formulas
    expanded to this cell), or ``None``.  ``raw``: the ``<v>`` text as stored.
    """

    value: str | float | bool | None
    formula: str | None
    raw: str | None


@dataclass(frozen=True, slots=True)
class Sheet:
    """A worksheet: name, visibility state, cells keyed by ``"C7"``, merged ranges."""

    name: str
    state: str
    cells: dict[str, Cell]
    merged: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Workbook:
    """Sheets in workbook order, workbook-scoped defined names, custom properties."""

    sheets: dict[str, Sheet]
    defined_names: dict[str, str]
    custom_properties: dict[str, str]


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
        if b"<!DOCTYPE" not in data and _is_plain(data):
            return _fast_fromstring(data)
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
        # The whole archive, when it is in memory anyway: members are then inflated directly.
        self._buf = zf.fp.getvalue() if isinstance(zf.fp, io.BytesIO) else None

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
            data = _inflate(self._buf, info) if self._buf is not None else None
            if data is None:
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


def _inflate(buf: bytes, info: zipfile.ZipInfo) -> bytes | None:
    """A member read straight from the archive's bytes, skipping ZipFile.read()'s overhead.

    ``None`` unless this is the plain case (stored or deflated, not encrypted,
    local header as in the directory) and the size and CRC-32 come out right;
    ZipFile.read() then reads it, and reports whatever is wrong.
    """
    method = info.compress_type
    if info.flag_bits & 0x61 or method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return None
    head = info.header_offset
    if buf[head : head + 4] != b"PK\x03\x04":
        return None
    flags, n_name, n_extra = _LOCAL_HEADER.unpack_from(buf, head)
    start = head + 30 + n_name
    try:
        name = buf[head + 30 : start].decode("utf-8" if flags & 0x800 else "cp437")
    except UnicodeDecodeError:
        return None
    if name != info.orig_filename:
        return None
    start += n_extra
    raw = buf[start : start + info.compress_size]
    if method == zipfile.ZIP_STORED:
        data = raw
    else:
        inflater = zlib.decompressobj(-15)
        try:
            data = inflater.decompress(raw, info.file_size + 1)
        except zlib.error:
            return None
        if not inflater.eof:
            return None
    if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
        return None
    return data


_LOCAL_HEADER = struct.Struct("<6xH18xHH")  # flags, file name length, extra field length


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

# Building a Cell through its frozen-dataclass __init__ costs about twice as much
# as filling the slots directly; the worksheet loop is hot, so it does the latter.
_new_cell = object.__new__
_set_value = vars(Cell)["value"].__set__
_set_formula = vars(Cell)["formula"].__set__
_set_raw = vars(Cell)["raw"].__set__


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
                        value = float(v)
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
                    value = float(v) if v else None
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
                cell = _new_cell(Cell)
                _set_value(cell, value)
                _set_formula(cell, formula)
                _set_raw(cell, v)
                cells[ref] = cell
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


# -------------------------------------------------------------------- fast path
#
# The ElementTree path above is the reference.  Most of its time goes into
# building trees for the three big parts - worksheets, sharedStrings.xml,
# workbook.xml - of which few elements matter.  The fast path reads those parts
# with a few compiled regular expressions instead (relationships and
# custom.xml, which are small, still go through ElementTree), and returns None
# - read_xlsx() then reads the workbook through the ElementTree path - on
# anything it does not know to read the same way.  It knows:
#
# * UTF-8 parts (declared or not, with or without BOM), no DTD, no comment or
#   processing instruction or CDATA where it parses, unprefixed elements;
# * cells with attributes r, s, t in that order, t one of s n b e str d (no
#   inlineStr); an optional <f>, plain or with aca/ca/t="normal" (no shared,
#   array or dataTable formula), then an optional <v>, no white space inside;
# * rows with their usual attributes in schema order (x14ac:dyDescent if the
#   root declares x14ac), empty rows, white space between rows and cells;
# * shared strings of plain text, rich-text runs and phonetic runs;
# * <sheet> and <definedName> elements with any attributes;
# * the five XML entities and character references; line ends are normalised.
#
# Where it parses, it checks what the XML parser would.  What it cuts out and
# parses itself is the content of <sheetData>, <sst>, <sheets> and
# <definedNames>; the rest of a part, up to the end of the worksheet's
# <mergeCells>, goes through expat as a small skeleton, which checks its
# well-formedness and namespaces as ElementTree would.  Only what follows a
# worksheet's merge list (or its <sheetData>, if it has none): data
# validations, page setup ..., which neither path reads, is not parsed (just
# looked at for "<!DOCTYPE" and for the closing </worksheet>): a worksheet
# malformed only there is read by the fast path where ElementTree refuses it.
# The tests check that both paths agree, on our workbooks, on copies saved by
# LibreOffice and openpyxl, on hand-made cases and on thousands of mutations.


class _NotSure(Exception):
    """The fast path cannot vouch for this input: read it through the ElementTree path."""


#: Workbooks read by each path in this process (the tests check ours take the fast one).
_path_counts = {"fast": 0, "fallback": 0}

_WS = "[ \t\r\n]"
_NAME = r"[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?"
_REF = "&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);"
_PROLOG_RE = re.compile(
    (
        r"(?:\xef\xbb\xbf)?"
        rf"(?:<\?xml{_WS}+version{_WS}*={_WS}*(?:\"1\.0\"|'1\.0')"
        rf"(?:{_WS}+encoding{_WS}*={_WS}*(?:\"[Uu][Tt][Ff]-8\"|'[Uu][Tt][Ff]-8'))?"
        rf"(?:{_WS}+standalone{_WS}*={_WS}*(?:\"(?:yes|no)\"|'(?:yes|no)'))?"
        rf"{_WS}*\?>)?{_WS}*"
    ).encode("latin-1")
)
_ANY_VALUE = rf"\"[^\"<&]*(?:{_REF}[^\"<&]*)*\"|'[^'<&]*(?:{_REF}[^'<&]*)*'"
_ANY_ATTRS = rf"(?:{_WS}+{_NAME}{_WS}*={_WS}*(?:{_ANY_VALUE}))*"
_ROOT_RE = re.compile(rf"<(worksheet|workbook|sst)({_ANY_ATTRS}){_WS}*>".encode(), re.ASCII)
# Any start, end or empty-element tag (of a part the XML parser has found well formed).
_TAG_RE = re.compile(rb"""<(/?)[^>"'/]*(?:(?:"[^"]*"|'[^']*')[^>"'/]*)*(/?)>""")
_XMLNS_RE = re.compile(rb'[ \t\r\n]xmlns:([A-Za-z_][\w.-]*)="([^"<&]*)"', re.ASCII)
_XML_NS = "http://www.w3.org/XML/1998/namespace"

# Character data as the fast path accepts it: no markup, no "]]>", no control
# character XML forbids (_decode() has normalised carriage returns away and
# looked for U+FFFE and U+FFFF).
_TEXT_CHAR = "[^<\\]\r\x00-\x08\x0b\x0c\x0e-\x1f]"
_TEXT = rf"{_TEXT_CHAR}*(?:\](?!\]>){_TEXT_CHAR}*)*"
_ATTR_VALUE = '"[^"<\x00-\x1f]*"'  # \t \n \r would be normalised to spaces by the parser
_BOOL = '"(?:1|0|true|false)"'

# (Optional parts are written "(?:...|)": Python's re module matches that faster than "(?:...)?".)

# A cell: attributes r, s, t in schema order; optional <f>, optional <v>.  Groups:
# ref, t, "<f" if there is a formula, its text, the <v> text, "" for <v/>.
_CELL_RE = re.compile(
    r'<c r="([A-Z]{1,3}[0-9]{1,7})"(?: s="[0-9]{1,9}"|)(?: t="(str|s|n|b|e|d)"|) ?'
    r"(?:/>|>"
    rf"(?:(<f)(?: t=\"normal\"|)(?: aca={_BOOL}|)(?: ca={_BOOL}|)(?:>({_TEXT})</f>| ?/>)|)"
    rf"(?:<v>({_TEXT})</v>|<v ?/>()|)"
    r"</c>)"
)
# A row start tag, attributes in schema order.
_ROW = (
    r'<row(?: r="[0-9]{1,7}"|)(?: spans="[0-9: ]*"|)(?: s="[0-9]{1,9}"|)'
    rf'(?: customFormat={_BOOL}|)(?: ht="[0-9.eE+-]*"|)(?: hidden={_BOOL}|)(?: customHeight={_BOOL}|)'
    rf'(?: outlineLevel="[0-7]"|)(?: collapsed={_BOOL}|)(?: thickTop={_BOOL}|)(?: thickBot={_BOOL}|)'
    rf'(?: ph={_BOOL}|)(?: x14ac:dyDescent="[0-9.eE+-]*"|) ?'
)
_NEXT_ROW_RE = re.compile(rf"</row>{_ROW}>")  # what usually comes between two cells, if anything
# One row tag: groups "</row>"; or how a start tag ends: ">" (open), else an empty row.
_ROW_TAG_RE = re.compile(rf"[ \t\n]*(?:(</row>)|{_ROW}(/>|>[ \t\n]*</row>|>))")
_MERGE_CELLS_RE = re.compile(
    rb'<mergeCells(?: count="[0-9]*"|)>'
    rb'((?:[ \t\n]*<mergeCell ref="[^"<&\x00-\x1f]*" ?/>)*)[ \t\n]*</mergeCells>'
)
_MERGE_REF_RE = re.compile('ref="([^"]*)"')

# Groups: the text of the usual <si><t>text</t></si>; or the content of a <si>
# with rich-text runs, phonetic runs or properties (see _rich_text_res()).
_SI_RE = re.compile(
    rf'<si><t(?: xml:space="preserve"|)>({_TEXT})</t></si>|<si ?/>|<si></si>|<si>(<[^/].*?)</si>', re.DOTALL
)

_ATTRS = rf"(?: {_NAME}={_ATTR_VALUE})*"
_ATTR_RE = re.compile(r' ([^=]+)="([^"]*)"')
_SHEET_RE = re.compile(rf"<sheet({_ATTRS}) ?/>", re.ASCII)
# Groups: name and text of the usual workbook-scoped name; else attributes and text.
_DEFINED_NAME_RE = re.compile(
    rf'<definedName name="([^"<&\x00-\x1f]*)">({_TEXT})</definedName>'
    rf"|<definedName({_ATTRS})(?:>({_TEXT})</definedName>| ?/>)",
    re.ASCII,
)


@cache
def _rich_text_res() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """For rich shared strings (rare in our workbooks, so compiled on first use):
    the content grammar, a text run, a phonetic run."""
    t = rf'<t(?: xml:space="preserve")?>{_TEXT}</t>|<t(?: xml:space="preserve")? ?/>'
    attrs = '(?: [A-Za-z]+="[^"<&\x00-\x1f]*")*'
    content = re.compile(
        rf"(?:{t}|<r>(?:<rPr>(?:<[A-Za-z]+{attrs} ?/>)*</rPr>|<rPr ?/>)?(?:{t})</r>"
        rf"|<rPh{attrs}>(?:{t})</rPh>|<phoneticPr{attrs} ?/>)+"
    )
    run = re.compile(rf'<t(?: xml:space="preserve")?>({_TEXT})</t>')
    return content, run, re.compile("<rPh[ >].*?</rPh>")


_XML_REF_RE = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));|&")
_XML_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _xml_ref(m: re.Match[str]) -> str:
    name, dec, hexa = m.groups()
    if name is not None:
        return _XML_ENTITIES[name]
    if dec is not None:
        code = int(dec)
    elif hexa is not None:
        code = int(hexa, 16)
    else:
        raise _NotSure  # a bare "&", or an entity only a DTD could define
    if (code < 0x20 and code not in (9, 10, 13)) or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        raise _NotSure  # not an XML character: the parser would refuse it
    if code in (0xFFFE, 0xFFFF):
        raise _NotSure
    return chr(code)


def _xml_text(text: str) -> str:
    """Character data as the XML parser returns it (references resolved)."""
    return _XML_REF_RE.sub(_xml_ref, text) if "&" in text else text


def _decode(data: bytes) -> str:
    """Markup in UTF-8 as the XML parser sees it: line ends normalised to "\\n" (before any
    reference is resolved, so "&#13;" stays "\\r"), and no U+FFFE or U+FFFF (refused)."""
    text = data.decode()
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\ufffe" in text or "\uffff" in text:
        raise _NotSure
    return text


def _row_tags(gap: str) -> tuple[bool, bool]:
    """Check that ``gap`` is row tags (and white space) that can come between two cells.

    Returns whether it closes a row (first) and whether it opens one (last);
    any rows in between must be empty.
    """
    closes = opens = False
    pos = 0
    while (m := _ROW_TAG_RE.match(gap, pos)) is not None:
        end_tag, start_end = m.groups()
        if opens or (end_tag and pos):
            raise _NotSure
        closes = closes or end_tag is not None
        opens = start_end == ">"
        pos = m.end()
    if gap[pos:].strip(" \t\n"):
        raise _NotSure
    return closes, opens


def _element(data: bytes, name: bytes, start: int) -> tuple[int, int, int, int] | None:
    """Where the first ``<name>...</name>`` (or ``<name/>``) after ``start`` begins, its
    content begins and ends, and it ends; ``None`` if there is none."""
    begin = data.find(b"<" + name, start)
    if begin < 0:
        return None
    pos = begin + len(name) + 1
    if data.startswith(b">", pos):
        end = data.find(b"</" + name + b">", pos)
        if end < 0:
            raise _NotSure
        return begin, pos + 1, end, end + len(name) + 3
    for empty in (b"/>", b" />"):
        if data.startswith(empty, pos):
            return begin, pos, pos, pos + len(empty)
    raise _NotSure  # attributes, or another element whose name starts the same


def _root(data: bytes, name: bytes) -> tuple[int, bytes]:
    """Offset just past the root start tag ``<name ...>``, and that tag's attributes.

    Only an XML declaration (UTF-8, or no encoding) and white space may come
    before the root element: no DTD (so no entity can be defined), comment or
    processing instruction.  The root element must be ``name``, unprefixed.
    """
    m = _PROLOG_RE.match(data)
    m = _ROOT_RE.match(data, m.end() if m else 0)
    if m is None or m.group(1) != name:
        raise _NotSure
    return m.end(), m.group(2)


def _balanced(data: bytes, start: int, end: int, *avoid: bytes) -> None:
    """``data[start:end]`` holds elements that all close again, none named like ``avoid``.

    So what follows is a sibling of what precedes, and ElementTree's find()
    meets no element called ``avoid`` before it.  The stretch must be part of
    a skeleton that _well_formed() accepts: only the nesting is checked here.
    """
    for word in avoid:
        if data.find(word, start, end) >= 0:
            raise _NotSure
    depth = 0
    for end_tag, empty in _TAG_RE.findall(data, start, end):
        if end_tag:
            depth -= 1
            if depth < 0:
                raise _NotSure
        elif not empty:
            depth += 1
    if depth:
        raise _NotSure


def _well_formed(skeleton: bytes) -> None:
    """Let the XML parser judge what is left of a part once its big content is cut out."""
    parser = ParserCreate(None, " ")  # with namespace processing, as ElementTree's
    try:
        parser.Parse(skeleton, True)
    except ExpatError:
        raise _NotSure from None


def _attributes(text: str, prefixes: dict[str, str]) -> dict[str, str]:
    """Attributes as ElementTree keys them (``{uri}local`` for prefixed names)."""
    out: dict[str, str] = {}
    for key, value in _ATTR_RE.findall(text):
        if ":" in key:
            prefix, _, local = key.partition(":")
            uri = prefixes.get(prefix)
            if uri is None:
                raise _NotSure  # undeclared prefix, or a namespace declaration
            key = f"{{{uri}}}{local}"
        elif key == "xmlns":
            raise _NotSure
        if key in out:
            raise _NotSure  # duplicate attribute: the parser would refuse it
        out[key] = _xml_text(value) if "&" in value else value
    return out


def _fast_workbook(data: bytes) -> tuple[list[tuple[str | None, str | None, str | None]], dict[str, str]]:
    """workbook.xml: [(sheet name, state, relationship id)], workbook-scoped defined names."""
    body, root_attrs = _root(data, b"workbook")
    sheets_at = _element(data, b"sheets", body)
    if sheets_at is None:
        raise _NotSure
    start, sheets_start, sheets_end, end = sheets_at
    _balanced(data, body, start, b"sheets", b"definedNames")
    names_at = _element(data, b"definedNames", end)
    if names_at is None:
        if data.find(b"definedNames", end) >= 0:
            raise _NotSure
        names_text = ""
        _well_formed(data[:sheets_start] + data[sheets_end:])
    else:
        _balanced(data, end, names_at[0], b"definedNames")
        names_text = _decode(data[names_at[1] : names_at[2]])
        _well_formed(data[:sheets_start] + data[sheets_end : names_at[1]] + data[names_at[2] :])
    sheets_text = _decode(data[sheets_start:sheets_end])

    prefixes = {"xml": _XML_NS}
    for prefix, uri in _XMLNS_RE.findall(root_attrs):
        prefixes[prefix.decode()] = uri.decode()
    sheets: list[tuple[str | None, str | None, str | None]] = []
    parts = _SHEET_RE.split(sheets_text)
    if parts[-1].strip(" \t\n"):
        raise _NotSure
    it = iter(parts)
    for gap, attrs in zip(it, it, strict=False):
        if gap and gap.strip(" \t\n"):
            raise _NotSure  # not white space: something unexpected
        el = _attributes(attrs, prefixes)
        rid = next((v for k, v in el.items() if k.endswith("}id")), None)
        sheets.append((el.get("name"), el.get("state"), rid))

    names: dict[str, str] = {}
    parts = _DEFINED_NAME_RE.split(names_text)
    if parts[-1].strip(" \t\n"):
        raise _NotSure
    it = iter(parts)
    for gap, name, text, attrs, attrs_text in zip(it, it, it, it, it, strict=False):
        if gap and gap.strip(" \t\n"):
            raise _NotSure
        if attrs is None:  # the usual form
            if "&" in text:
                text = _xml_text(text)  # (checked even where the name is not kept)
            if name and (name[0] != "_" or not name.lower().startswith("_xlnm.")):
                names[name] = text
        else:
            el = _attributes(attrs, prefixes)
            text = _xml_text(attrs_text or "")
            name = el.get("name", "")
            if name and "localSheetId" not in el and not name.lower().startswith("_xlnm."):
                names[name] = text
    return sheets, names


def _fast_shared_strings(data: bytes) -> list[str]:
    body, _ = _root(data, b"sst")
    end = data.rfind(b"</sst>")
    if end < body or data[end + 6 :].strip(b" \t\r\n"):
        raise _NotSure
    _well_formed(data[:body] + data[end:])
    content = _decode(data[body:end])
    sst: list[str] = []
    append = sst.append
    parts = _SI_RE.split(content)
    if parts[-1].strip(" \t\n"):
        raise _NotSure
    it = iter(parts)
    for gap, text, rich in zip(it, it, it, strict=False):
        if gap and gap.strip(" \t\n"):
            raise _NotSure
        if text is not None:
            if "&" in text:
                text = _xml_text(text)
            append(_unescape(text) if "_x" in text else text)
        elif rich is not None:
            grammar, run_re, phonetic_re = _rich_text_res()
            if grammar.fullmatch(rich) is None:
                raise _NotSure
            if "<rPh" in rich:
                _xml_text(rich)  # the phonetic runs are dropped, but checked like the rest
                rich = phonetic_re.sub("", rich)
            append(_unescape("".join([_xml_text(t) for t in run_re.findall(rich)])))
        else:
            append("")  # <si/>
    return sst


def _fast_worksheet(data: bytes, sst: list[str]) -> tuple[dict[str, Cell], tuple[str, ...]]:
    body, root_attrs = _root(data, b"worksheet")
    at = _element(data, b"sheetData", body)
    if at is None:
        raise _NotSure
    start, head, end, after = at  # the skeleton keeps data[:head] + data[end:...]
    _balanced(data, body, start, b"sheetData", b"mergeCells")
    content = _decode(data[head:end])

    merged: tuple[str, ...] = ()
    merge = data.find(b"<mergeCells", after)
    if merge >= 0:
        _balanced(data, after, merge, b"sheetData", b"mergeCells")
        m = _MERGE_CELLS_RE.match(data, merge)
        if m is None:
            raise _NotSure
        refs = m.group(1).decode()
        if "&" in refs:
            raise _NotSure
        merged = tuple(ref.replace("$", "") for ref in _MERGE_REF_RE.findall(refs) if ref)
        after = m.end()
    elif data.find(b"mergeCell", after) >= 0:
        raise _NotSure  # a broken or misplaced merge list
    _well_formed(data[:head] + data[end:after] + b"</worksheet>")
    # The rest is not parsed: it must at least end the document, and hold no DTD.
    if not data[-64:].rstrip(b" \t\r\n").endswith(b"</worksheet>") or data.find(b"<!DOCTYPE", after) >= 0:
        raise _NotSure
    if "x14ac:" in content and b"xmlns:x14ac=" not in root_attrs:
        raise _NotSure

    cells: dict[str, Cell] = {}
    parts = _CELL_RE.split(content)
    if len(parts) == 1:
        if _row_tags(content) != (False, False):
            raise _NotSure
        return cells, merged
    if _row_tags(parts[0]) != (False, True) or _row_tags(parts[-1]) != (True, False):
        raise _NotSure
    parts[0] = ""
    n_sst = len(sst)
    next_row = _NEXT_ROW_RE.fullmatch
    new_cell, set_value, set_formula, set_raw = _new_cell, _set_value, _set_formula, _set_raw
    value: str | float | bool | None
    it = iter(parts)  # (gap before the cell, its six groups) * n, then the last gap
    for gap, ref, t, f, f_text, raw, v_empty in zip(it, it, it, it, it, it, it, strict=False):
        if gap and next_row(gap) is None and _row_tags(gap) != (True, True) and gap.strip(" \t\n"):
            raise _NotSure  # not just the next row, nor white space
        # The same decisions as _read_worksheet, in the same order.
        if raw is not None:
            if "&" in raw:
                raw = _xml_text(raw)
        elif v_empty is not None:
            raw = ""
        elif f is None:
            continue  # neither value nor formula
        if t == "s":
            if raw:
                idx = int(raw)
                if not 0 <= idx < n_sst:
                    raise _NotSure
                value = sst[idx]
            elif f is None:
                continue
            else:
                value = None
        elif t is None:
            if raw:
                value = float(raw)
            elif f is None:
                continue
            else:
                value = None
        elif t == "n":
            value = float(raw) if raw else None
        elif t == "str":
            value = _unescape(raw) if raw is not None else None
        elif t == "b":
            value = raw.strip() in ("1", "true") if raw else None
        else:  # "e", "d"
            value = raw
        cell = new_cell(Cell)
        set_value(cell, value)
        set_formula(cell, (_xml_text(f_text) if "&" in f_text else f_text) if f_text else None)
        set_raw(cell, raw)
        cells[ref] = cell
    return cells, merged


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
_FALLBACK_ERRORS = (_NotSure, XlsxReadError, *_CORRUPT_ERRORS)


def _read_package_fast(pkg: _Package) -> Workbook | None:
    """The workbook as _read_package would read it, or ``None`` if the fast path is not sure."""
    try:
        root_rels = pkg.rels("")
        wb_part = _first_of_type(root_rels, "/officeDocument")
        if wb_part is None or pkg.find(wb_part) is None:
            wb_part = "xl/workbook.xml"
        wb_data = pkg.read(wb_part)
        if wb_data is None:
            return None
        sheet_list, defined_names = _fast_workbook(wb_data)
        wb_rels = pkg.rels(wb_part)

        sst: list[str] = []
        sst_data = pkg.read(_first_of_type(wb_rels, "/sharedStrings") or "xl/sharedStrings.xml")
        if sst_data is not None:
            sst = _fast_shared_strings(sst_data)

        sheets: dict[str, Sheet] = {}
        for name, state, rid in sheet_list:
            rel = wb_rels.get(rid or "")
            if not name or name in sheets or rel is None:
                return None
            data = pkg.read(rel[1])
            if data is None:
                return None
            cells, merged = _fast_worksheet(data, sst)
            sheets[name] = Sheet(name, state or "visible", cells, merged)

        custom: dict[str, str] = {}
        custom_root = pkg.xml(_first_of_type(root_rels, "/custom-properties") or "docProps/custom.xml")
        if custom_root is not None:
            custom = _read_custom_properties(custom_root)
    except _FALLBACK_ERRORS:
        return None
    return Workbook(sheets, defined_names, custom)


# ---------------------------------------------------------------------- public


def read_xlsx(path: XlsxSource) -> Workbook:
    """Read an .xlsx workbook from a path, its bytes, or a binary file object.

    Raises :class:`XlsxReadError` (Chinese message, no file name) for anything
    that is not a readable workbook, including unreadable paths.
    """
    return _read(path, _read_package_any)


def _read_et(path: XlsxSource) -> Workbook:
    """:func:`read_xlsx` through the ElementTree path only (the reference the fast path must match)."""
    return _read(path, _read_package)


def _read_fast(path: XlsxSource) -> Workbook | None:
    """:func:`read_xlsx` through the fast path only; ``None`` where :func:`read_xlsx` would fall back."""
    zf = _open_zip(path)
    with zf:
        return _read_package_fast(_Package(zf))


def _read_package_any(pkg: _Package) -> Workbook:
    wb = _read_package_fast(pkg)
    if wb is None:
        _path_counts["fallback"] += 1
        return _read_package(pkg)
    _path_counts["fast"] += 1
    return wb


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
