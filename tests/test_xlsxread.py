"""Tests for perfxl.check.xlsxread, cross-checked against openpyxl and a plain reference reader."""

from __future__ import annotations

import datetime
import io
import os
import shutil
import subprocess
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.formula.translate import Translator
from openpyxl.worksheet.formula import ArrayFormula
from xlsx_reference import read_reference

from perfxl.check import xmlsafe
from perfxl.check.limits import LimitExceeded
from perfxl.check.sharedformula import ref_rc as _ref_rc
from perfxl.check.sharedformula import shift_formula as _shift_formula
from perfxl.check.xlsxread import Cell, Sheet, Workbook, XlsxReadError, read_xlsx, resolve_name
from perfxl.form.template import write_template

# --------------------------------------------------------------------- fixtures


def _build_workbook(path: Path, array_formula: bool = True) -> None:
    """A workbook exercising what xlsxwriter can write."""
    wb = xlsxwriter.Workbook(str(path))
    bold = wb.add_format({"bold": True})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})

    ws = wb.add_worksheet("收支情况")
    ws.write_string("A1", "项目")
    ws.write_string("A2", "  前后空格  ")
    ws.write_string("A3", "第一行\n第二行")
    ws.write_rich_string("A4", "普通", bold, "加粗", "结尾")
    ws.write_string("A5", 'quote " & <tag>')
    ws.write_number("B1", 1234.5)
    ws.write_number("B2", 0.1)
    ws.write_number("B3", -7)
    ws.write_number("B4", 1e-12)
    ws.write_boolean("B5", True)
    ws.write_boolean("B6", False)
    ws.write_number("B7", 45292, date_fmt)
    ws.write_formula("C1", "=B1*2", None, 2469)
    ws.write_formula("C2", '=IF(B1>0,"正","负")', None, "正")
    ws.write_formula("C3", "=1/0", None, "#DIV/0!")
    ws.write_formula("C4", "=B5", None, True)
    ws.write_formula("C5", "=SUM(B1:B4)", None, 1227.6)
    ws.write_formula("C6", "=B1+B2")
    ws.write_formula("C7", "='评分依据'!C5*2", None, 10)
    if array_formula:
        ws.write_array_formula("D2:D3", "{=B2:B3*2}", None, 0.2)
    ws.write_blank("D1", None, bold)
    ws.merge_range("E1:G1", "合并标题", bold)
    ws.merge_range("E3:E5", 42, bold)

    ws2 = wb.add_worksheet("评分依据")
    for r in range(10):
        ws2.write_number(r, 2, r + 1)
        ws2.write_string(r, 3, f"依据{r % 3}")
    ws2.hide()

    ws3 = wb.add_worksheet("隐藏数据")
    ws3.write("A1", "secret")
    ws3.very_hidden()

    ws4 = wb.add_worksheet("Sheet 4")
    ws4.write("XFD1048576", 1)

    wb.define_name("总分", "='收支情况'!$C$7")
    wb.define_name("依据区", "='评分依据'!$C$1:$C$10")
    wb.define_name("'收支情况'!本地名", "='收支情况'!$A$1")
    wb.define_name("常数", "=0.5")
    wb.define_name("角落", "='Sheet 4'!$XFD$1048576")
    ws.print_area("A1:G7")
    wb.set_custom_property("单位名称", "某某局")
    wb.set_custom_property("年度", 2024)
    wb.set_custom_property("比例", 0.75)
    wb.set_custom_property("已审核", True)
    wb.set_custom_property("日期", datetime.datetime(2024, 1, 2, 3, 4, 5))
    wb.close()


@pytest.fixture
def xlsx_path(tmp_path: Path) -> Path:
    path = tmp_path / "样例.xlsx"
    _build_workbook(path)
    return path


def _zip(parts: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data.encode() if isinstance(data, str) else data)
    return buf.getvalue()


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRICT_REL = "http://purl.oclc.org/ooxml/officeDocument/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

SHEET1 = f"""{XML_DECL}<worksheet xmlns="{{main}}" xmlns:r="{{rel}}"><sheetData>
<row r="1">
  <c r="A1"><v>1</v></c><c r="B1"><v>10</v></c>
  <c r="C1">
    <f t="shared" ref="C1:C3" si="0">A1*$B$1+SUM('评分依据'!C5:C9)&amp;"A1"&amp;ROWS(1:2)</f>
    <v>1</v>
  </c>
  <c r="D1" t="inlineStr"><is><t xml:space="preserve"> 内联 </t></is></c>
  <c r="E1" t="inlineStr"><is><r><t>富</t></r><r><rPr><b/></rPr><t>文本</t></r></is></c>
</row>
<row r="2">
  <c r="A2"><v>2</v></c>
  <c r="C2"><f t="shared" si="0"/><v>2</v></c>
  <c r="D2" t="str"><f>"x"&amp;"y"</f><v>xy</v></c>
  <c r="E2" t="b"><v>0</v></c>
  <c r="F2" t="e"><v>#N/A</v></c>
</row>
<row r="3">
  <c r="A3"><v>3</v></c>
  <c r="C3"><f t="shared" si="0"/></c>
  <c r="D3"><f>A3+1</f></c>
  <c r="E3" s="0"/>
  <c r="F3" t="s"><v>0</v></c>
  <c><v>7</v></c>
</row>
<row>
  <c r="D4"><f t="shared" ref="D4:F4" si="1">D$3+$A4+'O''Brien'!B2</f><v>0</v></c>
  <c r="E4"><f t="shared" si="1"/><v>0</v></c>
  <c r="F4"><f t="shared" si="1"/><v>0</v></c>
  <c r="G4"><f t="array" ref="G4:G5">A1:A2*2</f><v>2</v></c>
</row>
<row r="5"><c r="G5"><v>4</v></c><c r="H5" t="s"><v>1</v></c></row>
</sheetData><mergeCells count="1"><mergeCell ref="A7:B8"/></mergeCells></worksheet>"""

SHARED_STRINGS = f"""{XML_DECL}<sst xmlns="{{main}}" count="2" uniqueCount="2">
<si><t xml:space="preserve">  保留空格 </t></si>
<si><r><t>汉</t></r><r><t>字_x000D_行</t></r><rPh sb="0" eb="1"><t>かん</t></rPh></si>
</sst>"""

WORKBOOK = f"""{XML_DECL}<workbook xmlns="{{main}}" xmlns:r="{{rel}}"><sheets>
<sheet name="数据" sheetId="1" r:id="rId1"/>
<sheet name="评分依据" sheetId="2" state="hidden" r:id="rId2"/>
</sheets><definedNames>
<definedName name="_xlnm.Print_Titles" localSheetId="0">'数据'!$1:$1</definedName>
<definedName name="_xlnm._FilterDatabase" hidden="1">'数据'!$A$1:$B$3</definedName>
<definedName name="本表" localSheetId="1">'评分依据'!$A$1</definedName>
<definedName name="得分">'数据'!$C$2</definedName>
</definedNames></workbook>"""

WORKBOOK_RELS = f"""{XML_DECL}<Relationships xmlns="{PKG}">
<Relationship Id="rId1" Type="{{rel}}/worksheet" Target="/xl/worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{{rel}}/worksheet" Target="worksheets/other.xml"/>
<Relationship Id="rId3" Type="{{rel}}/sharedStrings" Target="sharedStrings.xml"/>
<Relationship Id="rId9" Type="{{rel}}/hyperlink" Target="https://x" TargetMode="External"/>
</Relationships>"""

ROOT_RELS = f"""{XML_DECL}<Relationships xmlns="{PKG}">
<Relationship Id="rId1" Type="{{rel}}/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""

CONTENT_TYPES = f"""{XML_DECL}<Types xmlns="{CT}">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/worksheets/other.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>"""


def _hand_made_parts(main: str = MAIN, rel: str = REL) -> dict[str, str | bytes]:
    other = (
        f'{XML_DECL}<worksheet xmlns="{main}"><sheetData>'
        '<row r="5"><c r="C5"><v>5</v></c></row></sheetData></worksheet>'
    )
    return {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS.format(rel=rel),
        "xl/workbook.xml": WORKBOOK.format(main=main, rel=rel),
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS.format(rel=rel),
        "xl/worksheets/sheet1.xml": SHEET1.format(main=main, rel=rel),
        "xl/worksheets/other.xml": other,
        "xl/sharedStrings.xml": SHARED_STRINGS.format(main=main),
    }


# ------------------------------------------------------------ openpyxl oracle


def _openpyxl_view(path: Path | io.BytesIO) -> dict[str, dict[str, tuple[object, object]]]:
    """sheet -> ref -> (cached value, formula text or None) as openpyxl reads it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        formulas = openpyxl.load_workbook(path)
        if isinstance(path, io.BytesIO):
            path.seek(0)
        values = openpyxl.load_workbook(path, data_only=True)
    out: dict[str, dict[str, tuple[object, object]]] = {}
    for ws in formulas.worksheets:
        cached = values[ws.title]
        cells: dict[str, tuple[object, object]] = {}
        for (row, col), cell in ws._cells.items():
            raw = cell.value
            value = cached.cell(row, col).value
            if raw is None and value is None:
                continue
            formula = None
            if isinstance(raw, ArrayFormula):
                formula = raw.text.lstrip("=")
            elif isinstance(raw, str) and cell.data_type == "f":
                formula = raw[1:]
            cells[cell.coordinate] = (value, formula)
        out[ws.title] = cells
    return out


def _assert_same_as_openpyxl(
    ours: Workbook, path: Path | io.BytesIO, skip: frozenset[str] = frozenset()
) -> None:
    theirs = _openpyxl_view(path)
    assert list(ours.sheets) == list(theirs)
    for name, expected in theirs.items():
        cells = ours.sheets[name].cells
        assert set(cells) == set(expected), name
        for ref, (value, formula) in expected.items():
            cell = cells[ref]
            assert cell.formula == formula, (name, ref)
            if ref in skip:
                continue
            if isinstance(value, bool) or value is None or isinstance(value, str):
                assert cell.value == value and type(cell.value) is type(value), (name, ref)
            elif isinstance(value, datetime.datetime):
                assert isinstance(cell.value, float), (name, ref)
            else:
                assert isinstance(cell.value, float) and cell.value == float(value), (name, ref)


# ------------------------------------------------------------------------ tests


def test_matches_openpyxl(xlsx_path: Path) -> None:
    wb = read_xlsx(xlsx_path)
    _assert_same_as_openpyxl(wb, xlsx_path)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        op = openpyxl.load_workbook(xlsx_path)
    for ws in op.worksheets:
        sheet = wb.sheets[ws.title]
        assert sheet.name == ws.title
        assert sheet.state == ws.sheet_state
        assert sorted(sheet.merged) == sorted(str(r) for r in ws.merged_cells.ranges)
    assert wb.defined_names == {
        name: dn.attr_text for name, dn in op.defined_names.items() if not name.startswith("_xlnm.")
    }
    assert {p.name for p in op.custom_doc_props.props} == set(wb.custom_properties)


def test_values_and_types(xlsx_path: Path) -> None:
    wb = read_xlsx(str(xlsx_path))
    assert list(wb.sheets) == ["收支情况", "评分依据", "隐藏数据", "Sheet 4"]
    assert [s.state for s in wb.sheets.values()] == ["visible", "hidden", "veryHidden", "visible"]
    cells = wb.sheets["收支情况"].cells
    assert cells["A1"] == Cell("项目", None, "0")  # raw of a shared string is its index
    assert cells["A2"].value == "  前后空格  "
    assert cells["A3"].value == "第一行\n第二行"
    assert cells["A4"].value == "普通加粗结尾"
    assert cells["A5"].value == 'quote " & <tag>'
    assert cells["B1"] == Cell(1234.5, None, "1234.5")
    assert cells["B4"].raw == "1E-12"
    assert cells["B5"] == Cell(True, None, "1")
    assert cells["B6"] == Cell(False, None, "0")
    assert cells["B7"].value == 45292.0
    assert cells["C1"] == Cell(2469.0, "B1*2", "2469")
    assert cells["C2"] == Cell("正", 'IF(B1>0,"正","负")', "正")
    assert cells["C3"] == Cell("#DIV/0!", "1/0", "#DIV/0!")
    assert cells["C4"] == Cell(True, "B5", "1")
    assert cells["C7"].formula == "'评分依据'!C5*2"
    assert cells["D2"].formula == "B2:B3*2"  # array formula: text on the top-left cell
    assert cells["D3"].formula is None
    assert "D1" not in cells and "F1" not in cells  # style-only cells are omitted
    assert wb.sheets["收支情况"].merged == ("E1:G1", "E3:E5")
    assert wb.sheets["Sheet 4"].cells["XFD1048576"].value == 1.0
    assert wb.defined_names == {
        "依据区": "'评分依据'!$C$1:$C$10",
        "常数": "0.5",
        "总分": "'收支情况'!$C$7",
        "角落": "'Sheet 4'!$XFD$1048576",
    }
    assert wb.custom_properties == {
        "单位名称": "某某局",
        "年度": "2024",
        "比例": "0.75",
        "已审核": "true",
        "日期": "2024-01-02T03:04:05Z",
    }


def test_input_kinds(xlsx_path: Path) -> None:
    data = xlsx_path.read_bytes()
    expected = read_xlsx(xlsx_path)
    assert read_xlsx(data) == expected
    assert read_xlsx(io.BytesIO(data)) == expected
    with open(xlsx_path, "rb") as fh:
        assert read_xlsx(fh) == expected
        assert not fh.closed


def test_frozen(xlsx_path: Path) -> None:
    wb = read_xlsx(xlsx_path)
    cell = wb.sheets["收支情况"].cells["B1"]
    with pytest.raises(AttributeError):
        cell.value = 2.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        wb.sheets = {}  # type: ignore[misc]
    assert isinstance(wb.sheets["收支情况"], Sheet)
    assert hash(cell) == hash(Cell(1234.5, None, "1234.5"))


def test_resolve_name(xlsx_path: Path) -> None:
    wb = read_xlsx(xlsx_path)
    assert resolve_name(wb, "总分") == ("收支情况", "C7")
    assert resolve_name(wb, "角落") == ("Sheet 4", "XFD1048576")
    assert resolve_name(wb, "依据区") is None  # a range
    assert resolve_name(wb, "常数") is None  # a constant
    assert resolve_name(wb, "本地名") is None  # sheet-scoped names are not kept
    assert resolve_name(wb, "没有") is None
    odd = Workbook(
        wb.sheets | {"O'Brien": Sheet("O'Brien", "visible", {}, ())},
        {
            "Quoted": "'O''Brien'!$B$2",
            "Plain": "收支情况!C9",
            "Same": "'收支情况'!$A$1:$A$1",
            "Gone": "'已删除'!$A$1",
            "Broken": "#REF!",
            "Ext": "[1]Sheet1!$A$1",
        },
        {},
    )
    assert resolve_name(odd, "quoted") == ("O'Brien", "B2")  # case-insensitive like Excel
    assert resolve_name(odd, "Plain") == ("收支情况", "C9")
    assert resolve_name(odd, "Same") == ("收支情况", "A1")
    assert resolve_name(odd, "Gone") is None
    assert resolve_name(odd, "Broken") is None
    assert resolve_name(odd, "Ext") is None


@pytest.mark.parametrize(("main", "rel"), [(MAIN, REL), (STRICT, STRICT_REL)])
def test_hand_made_shared_formulas_and_inline_strings(main: str, rel: str) -> None:
    wb = read_xlsx(_zip(_hand_made_parts(main, rel)))
    assert list(wb.sheets) == ["数据", "评分依据"]
    assert wb.sheets["评分依据"].state == "hidden"
    assert wb.sheets["评分依据"].cells == {"C5": Cell(5.0, None, "5")}
    cells = wb.sheets["数据"].cells
    master = "A1*$B$1+SUM('评分依据'!C5:C9)&\"A1\"&ROWS(1:2)"
    assert cells["C1"] == Cell(1.0, master, "1")
    assert cells["C2"] == Cell(2.0, "A2*$B$1+SUM('评分依据'!C6:C10)&\"A1\"&ROWS(2:3)", "2")
    assert cells["C3"] == Cell(None, "A3*$B$1+SUM('评分依据'!C7:C11)&\"A1\"&ROWS(3:4)", None)
    assert cells["D4"].formula == "D$3+$A4+'O''Brien'!B2"
    assert cells["E4"].formula == "E$3+$A4+'O''Brien'!C2"
    assert cells["F4"].formula == "F$3+$A4+'O''Brien'!D2"
    assert cells["D1"] == Cell(" 内联 ", None, None)
    assert cells["E1"].value == "富文本"
    assert cells["D2"] == Cell("xy", '"x"&"y"', "xy")
    assert cells["E2"] == Cell(False, None, "0")
    assert cells["F2"] == Cell("#N/A", None, "#N/A")
    assert cells["D3"] == Cell(None, "A3+1", None)  # formula without cached value
    assert "E3" not in cells
    assert cells["F3"] == Cell("  保留空格 ", None, "0")
    assert cells["G3"] == Cell(7.0, None, "7")  # <c> without r: column after F3
    assert cells["G4"] == Cell(2.0, "A1:A2*2", "2")
    assert cells["G5"] == Cell(4.0, None, "4")
    assert cells["H5"].value == "汉字\r行"  # _x000D_ decoded, phonetic run dropped
    assert list(cells)[:3] == ["A1", "B1", "C1"]  # document order
    assert wb.sheets["数据"].merged == ("A7:B8",)
    assert wb.defined_names == {"得分": "'数据'!$C$2"}
    assert resolve_name(wb, "得分") == ("数据", "C2")
    assert wb.custom_properties == {}


def test_hand_made_matches_openpyxl() -> None:
    data = io.BytesIO(_zip(_hand_made_parts()))
    ours = read_xlsx(data)
    data.seek(0)
    # openpyxl leaves the _x000D_ escape in H5 undecoded; Excel shows a carriage return.
    _assert_same_as_openpyxl(ours, data, skip=frozenset({"H5"}))


@pytest.mark.parametrize(
    ("formula", "origin", "dest"),
    [
        ("A1*$B$1+SUM('评分依据'!C5:C9)&\"A1\"&COUNT(A:A)+ROWS(1:2)", "C1", "C2"),
        ("D$4+$A5+Sheet2!B2", "D5", "F5"),
        ("'O''Brien'!A1+LOG10(B2)+Table1[[#This Row],[A1]]", "A1", "B2"),
        ("SUM($A1:A$1)+A:$B+$1:2", "A1", "C4"),
        ('IF(A1>0,"B2 ""C3""",[1]Sheet1!B7)', "A1", "B2"),
        ("_xlfn.XLOOKUP(A1,B:B,C:C)", "A1", "A2"),
        ("1E+5*A1+XFD1+ABCD1+Q1_total", "A1", "A3"),
        ("收支!C7*2+总分", "A1", "A2"),
        ("SUM(Sheet1:Sheet3!B2)", "B2", "C3"),
    ],
)
def test_shift_formula_agrees_with_openpyxl(formula: str, origin: str, dest: str) -> None:
    (r0, c0), (r1, c1) = _ref_rc(origin), _ref_rc(dest)
    expected = Translator("=" + formula, origin=origin).translate_formula(dest)[1:]
    assert _shift_formula(formula, r1 - r0, c1 - c0) == expected


def test_shift_formula_off_sheet() -> None:
    assert _shift_formula("A1+$B$2", 0, 16384) == "#REF!+$B$2"
    assert _shift_formula("SUM(1:2)", 1048576, 0) == "SUM(#REF!)"


# ----------------------------------------------------------------------- errors


def _error(source: object) -> str:
    with pytest.raises(XlsxReadError) as info:
        read_xlsx(source)  # type: ignore[arg-type]
    return str(info.value)


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_text("这不是压缩包", encoding="utf-8")
    assert _error(path) == "不是有效的 xlsx 文件：不是 zip 压缩包"
    assert _error(b"") == "不是有效的 xlsx 文件：不是 zip 压缩包"


def test_ole_file_hints_encryption() -> None:
    message = _error(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert message.startswith("不是有效的 xlsx 文件：") and "加密" in message


def test_missing_file(tmp_path: Path) -> None:
    assert _error(tmp_path / "nope.xlsx").startswith("无法读取文件：")


def test_zip_without_workbook() -> None:
    message = _error(_zip({"hello.txt": "hi", "_rels/.rels": ROOT_RELS.format(rel=REL)}))
    assert message == "不是有效的 xlsx 文件：缺少 xl/workbook.xml"


def test_corrupt_xml() -> None:
    parts = _hand_made_parts()
    parts["xl/worksheets/sheet1.xml"] = str(parts["xl/worksheets/sheet1.xml"])[:-40]
    message = _error(_zip(parts))
    assert message.startswith("不是有效的 xlsx 文件：部件 xl/worksheets/sheet1.xml 的 XML 已损坏")


def test_missing_sheet_part() -> None:
    parts = _hand_made_parts()
    del parts["xl/worksheets/other.xml"]
    assert "评分依据" in _error(_zip(parts))


def test_bad_cell_content() -> None:
    parts = _hand_made_parts()
    parts["xl/worksheets/sheet1.xml"] = str(parts["xl/worksheets/sheet1.xml"]).replace(
        '<c r="H5" t="s"><v>1</v>', '<c r="H5" t="s"><v>99</v>'
    )
    message = _error(_zip(parts))
    assert "H5" in message and "越界" in message
    # A number cell holding text (or NaN): kept as that text, so the checker reports it, not a crash.
    parts = _hand_made_parts()
    parts["xl/worksheets/sheet1.xml"] = str(parts["xl/worksheets/sheet1.xml"]).replace(
        '<c r="G5"><v>4</v>', '<c r="G5"><v>四</v>'
    )
    assert read_xlsx(_zip(parts)).sheets["数据"].cells["G5"].value == "四"


def test_corrupt_zip_member(xlsx_path: Path) -> None:
    data = bytearray(xlsx_path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 10 : start + 30] = b"\xff" * 20
    assert _error(bytes(data)).startswith("不是有效的 xlsx 文件：")


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<workbook xmlns="{main}"><sheets><sheet name="&lol2;" sheetId="1"/></sheets></workbook>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<sst xmlns="{main}"><si><t>&xxe;</t></si></sst>"""


@pytest.mark.parametrize(
    ("part", "text"),
    [("xl/workbook.xml", BOMB), ("xl/sharedStrings.xml", XXE)],
)
def test_entities_refused(part: str, text: str) -> None:
    parts = _hand_made_parts()
    parts[part] = text.format(main=MAIN)
    assert "DTD" in _error(_zip(parts))


def test_doctype_without_entities_and_utf16_parts_are_read() -> None:
    """Parts that cannot take the fast path go through defusedxml and still read fine."""
    parts = _hand_made_parts()
    workbook = WORKBOOK.format(main=MAIN, rel=REL).replace(
        XML_DECL, '<?xml version="1.0" encoding="UTF-16"?>\n'
    )
    parts["xl/workbook.xml"] = workbook.encode("utf-16")
    parts["xl/sharedStrings.xml"] = str(parts["xl/sharedStrings.xml"]).replace(
        XML_DECL, XML_DECL + "<!DOCTYPE sst>"
    )
    wb = read_xlsx(_zip(parts))
    assert list(wb.sheets) == ["数据", "评分依据"]
    assert wb.sheets["数据"].cells["F3"].value == "  保留空格 "


def test_wrong_argument_type() -> None:
    with pytest.raises(TypeError):
        read_xlsx(42)  # type: ignore[arg-type]


# -------------------------------------------------------------------- the reference
#
# read_xlsx() streams each part through lxml and stops reading a worksheet after its merged
# cells; tests/xlsx_reference.py reads whole parts through ElementTree. On every workbook both can
# read, they must agree exactly; where the reference refuses a workbook, so must read_xlsx (apart
# from damage after a worksheet's merged cells, which read_xlsx does not parse).

SAMPLES = sorted((Path(__file__).resolve().parent.parent / "sample_workbooks").glob("*.xlsx"))


def _typed(wb: Workbook) -> object:
    """Everything in ``wb``, in order, with the types of values (True == 1.0, but not here)."""
    return (
        [
            (
                key,
                sheet.name,
                sheet.state,
                sheet.merged,
                [(ref, repr(c.value), c.formula, c.raw) for ref, c in sheet.cells.items()],
            )
            for key, sheet in wb.sheets.items()
        ],
        list(wb.defined_names.items()),
        list(wb.custom_properties.items()),
    )


def _outcome(read: Callable[[Path | bytes], Workbook], source: Path | bytes) -> object:
    """What ``read`` makes of ``source``: the workbook (see _typed), or that it refused it."""
    try:
        return _typed(read(source))
    except (XlsxReadError, LimitExceeded):
        return "refused"


def _streamed(source: Path | bytes) -> Workbook:
    """read_xlsx with every part streamed, as it streams a part larger than ``xmlsafe.WHOLE``."""
    whole = xmlsafe.WHOLE
    xmlsafe.WHOLE = -1
    try:
        return read_xlsx(source)
    finally:
        xmlsafe.WHOLE = whole


def _assert_paths_agree(source: Path | bytes, fast: bool | None = None) -> Workbook | None:
    """read_xlsx reads ``source`` as the reference reader does, whether its parts are parsed whole
    (small ones) or streamed (large ones); ``fast`` is no longer used. Streamed, damage after a
    worksheet's merged cells is not parsed, so the streamed read only has to agree where the
    reference reads the workbook."""
    reference = _outcome(read_reference, source)
    assert _outcome(read_xlsx, source) == reference
    if reference != "refused":
        assert _outcome(_streamed, source) == reference
    return None if reference == "refused" else read_xlsx(source)


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_fast_path_reads_the_sample_workbooks(path: Path) -> None:
    wb = _assert_paths_agree(path.read_bytes(), fast=True)
    assert wb is not None and len(wb.defined_names) > 100


def test_fast_path_reads_a_fresh_template(tmp_path: Path) -> None:
    path = tmp_path / "空白模板.xlsx"
    write_template(path)
    _assert_paths_agree(path, fast=True)
    _assert_paths_agree(path.read_bytes(), fast=True)


def test_fast_path_on_the_xlsxwriter_fixture(tmp_path: Path) -> None:
    with_array = tmp_path / "with_array.xlsx"
    _build_workbook(with_array)
    _assert_paths_agree(with_array, fast=False)
    # Without it: rich text, booleans, errors, t="str", merged cells, names, custom properties,
    # hidden and very hidden sheets, XFD1048576 - all through the fast path.
    plain = tmp_path / "plain.xlsx"
    _build_workbook(plain, array_formula=False)
    wb = _assert_paths_agree(plain, fast=True)
    assert wb is not None and wb.sheets["收支情况"].cells["A4"].value == "普通加粗结尾"


@pytest.mark.parametrize(("main", "rel"), [(MAIN, REL), (STRICT, STRICT_REL)])
def test_fast_path_on_the_hand_made_workbook(main: str, rel: str) -> None:
    parts = _hand_made_parts(main, rel)
    _assert_paths_agree(_zip(parts), fast=False)  # shared and array formulas, inline strings
    # The same without those cells (and pretty-printed rows) takes the fast path.
    sheet = str(parts["xl/worksheets/sheet1.xml"])
    for cell in (
        """<c r="C1">
    <f t="shared" ref="C1:C3" si="0">A1*$B$1+SUM('评分依据'!C5:C9)&amp;"A1"&amp;ROWS(1:2)</f>
    <v>1</v>
  </c>""",
        '<c r="D1" t="inlineStr"><is><t xml:space="preserve"> 内联 </t></is></c>',
        '<c r="E1" t="inlineStr"><is><r><t>富</t></r><r><rPr><b/></rPr><t>文本</t></r></is></c>',
        '<c r="C2"><f t="shared" si="0"/><v>2</v></c>',
        '<c r="C3"><f t="shared" si="0"/></c>',
        "<c><v>7</v></c>",
        '<c r="D4"><f t="shared" ref="D4:F4" si="1">D$3+$A4+\'O\'\'Brien\'!B2</f><v>0</v></c>',
        '<c r="E4"><f t="shared" si="1"/><v>0</v></c>',
        '<c r="F4"><f t="shared" si="1"/><v>0</v></c>',
        '<c r="G4"><f t="array" ref="G4:G5">A1:A2*2</f><v>2</v></c>',
    ):
        assert cell in sheet, cell
        sheet = sheet.replace(cell, "")
    parts["xl/worksheets/sheet1.xml"] = sheet
    wb = _assert_paths_agree(_zip(parts), fast=True)
    assert wb is not None
    assert wb.sheets["数据"].cells["H5"].value == "汉字\r行"  # rich shared string, phonetic run dropped
    assert wb.sheets["数据"].cells["D3"] == Cell(None, "A3+1", None)


def test_fast_path_on_openpyxl_copies(tmp_path: Path) -> None:
    # openpyxl writes every string inline: that goes to ElementTree.
    copy = tmp_path / "openpyxl.xlsx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(SAMPLES[0])
        wb.save(copy)
    _assert_paths_agree(copy, fast=False)
    # Without strings: <v /> for uncached formulas, t="n", t="b", t="e" - the fast path. Where lxml is
    # installed (python-docx needs it) openpyxl writes through it and declares the r: namespace on each
    # <sheet> of workbook.xml, which the strict grammar leaves to ElementTree: either path, same result.
    book = openpyxl.Workbook()
    ws = book.active
    ws["A1"] = 1.5
    ws["B1"] = "=A1*2"
    ws["C1"] = True
    ws["D1"] = "#N/A"
    ws["A2"] = -3
    ws["B2"] = "=SUM(A1:A2)"
    ws.row_dimensions[2].height = 30
    ws.merge_cells("E1:F2")
    book.create_sheet("第二页")["C3"] = 0.1
    book.save(copy)
    _assert_paths_agree(copy, fast=None if openpyxl_writes_through_lxml() else True)
    assert read_xlsx(copy).sheets["Sheet"].cells["B1"] == Cell(None, "A1*2", "")


def openpyxl_writes_through_lxml() -> bool:
    from openpyxl.xml import LXML

    return bool(LXML)


def _book(
    sheet: str, sst: str | None = None, workbook: str | None = None, main: str = MAIN, rel: str = REL
) -> bytes:
    """A one-sheet workbook from its worksheet XML ("{main}", "{rel}" are filled in)."""
    if workbook is None:
        workbook = (
            f'{XML_DECL}<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            '<sheet name="表" sheetId="1" r:id="rId1"/></sheets></workbook>'
        )
    parts: dict[str, str | bytes] = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS.format(rel=rel),
        "xl/workbook.xml": workbook.format(main=main, rel=rel),
        "xl/_rels/workbook.xml.rels": (
            f'{XML_DECL}<Relationships xmlns="{PKG}">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": sheet.format(main=main, rel=rel),
    }
    if sst is not None:
        parts["xl/sharedStrings.xml"] = sst.format(main=main)
    return _zip(parts)


def _ws(data: str, before: str = "", after: str = "", attrs: str = "", decl: str = XML_DECL) -> str:
    """Worksheet XML: ``data`` in <sheetData>, ``before`` and ``after`` it, ``attrs`` on the root."""
    root = f'<worksheet xmlns="{{main}}"{attrs}>'
    return f"{decl}{root}{before}<sheetData>{data}</sheetData>{after}</worksheet>"


SST3 = (
    f'{XML_DECL}<sst xmlns="{{main}}" count="3" uniqueCount="3">'
    "<si><t>甲</t></si><si><t>乙</t></si><si><t>丙</t></si></sst>"
)
X14AC = ' xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"'
EXCEL_HEAD = (
    '<sheetPr><tabColor rgb="FFFF0000"/><pageSetUpPr fitToPage="1"/></sheetPr><dimension ref="A1:C3"/>'
    '<sheetViews><sheetView tabSelected="1" workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
    'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="B2" sqref="B2"/>'
    '</sheetView></sheetViews><sheetFormatPr defaultRowHeight="13.5" x14ac:dyDescent="0.15"/>'
    '<cols><col min="1" max="1" width="9" customWidth="1"/></cols>'
)
EXCEL_ROOT = (
    X14AC + ' xmlns:r="{rel}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
    ' mc:Ignorable="x14ac"'
)
TAIL = (
    '<sheetProtection sheet="1" objects="1"/><mergeCells count="2"><mergeCell ref="$A$1:$B$2"/>\n'
    ' <mergeCell ref="C3:D4" /></mergeCells><dataValidations count="1"><dataValidation type="decimal" '
    'sqref="C7"><formula1>0</formula1></dataValidation></dataValidations>'
    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
)

FAST_CASES = {
    "values": _ws(
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><v>1.5</v></c><c r="C1" t="n"><v>-2</v></c>'
        '<c r="D1" t="b"><v>1</v></c><c r="E1" t="b"><v>true</v></c><c r="F1" t="e"><v>#N/A</v></c>'
        '<c r="G1" t="d"><v>2024-01-02T00:00:00</v></c><c r="H1" t="str"><v>a_x000D_b</v></c>'
        '<c r="I1" s="3"/><c r="J1" s="3"></c><c r="K1" s="1" t="s"/><c r="L1" t="n"><v></v></c>'
        '<c r="M1" t="str"><v/></c><c r="N1" t="b"><v> 0 </v></c><c r="O1" t="s"><v>2</v></c></row>'
    ),
    "formulas": _ws(
        '<row r="2"><c r="A2"><f>SUM(B2:C2)</f><v>3</v></c><c r="B2"><f>1+1</f><v></v></c>'
        '<c r="C2"><f>1+1</f><v/></c><c r="D2" t="str"><f>"x"&amp;"y"</f><v>xy</v></c>'
        '<c r="E2" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="F2"><f/></c><c r="G2"><f></f><v>1</v></c>'
        '<c r="H2" t="s"><f>A1</f><v></v></c><c r="I2" s="1" t="n"><f aca="false">A2</f><v>3</v></c>'
        '<c r="J2"><f ca="1">NOW()</f><v>45000.5</v></c><c r="K2" t="b"><f>TRUE</f><v>0</v></c>'
        '<c r="L2" t="str"><f t="normal">""</f><v></v></c><c r="M2" t="s"><f>A1</f></c></row>'
    ),
    "references": _ws(
        '<row r="3"><c r="A3" t="str"><f>"&lt;&gt;&amp;&quot;&apos;"&amp;CHAR(10)&amp;"]]"</f>'
        '<v>&lt;&#10;&#x41;&#x1F600;]]a]</v></c><c r="B3" t="e"><v>#REF&#33;</v></c>'
        '<c r="C3" t="str"><v>tab\there\nnewline _x0009_ _X0009_ _x00</v></c></row>'
    ),
    "numbers": _ws(
        '<row r="4"><c r="A4"><v>1E-12</v></c><c r="B4"><v> 7 </v></c><c r="C4"><v>1_0</v></c>'
        '<c r="D4"><v>NaN</v></c><c r="E4"><v>-0</v></c><c r="F4"><v>inf</v></c>'
        '<c r="XFD1048576"><v>1</v></c></row>'
    ),
    "rows": _ws(
        '\n  <row r="1" spans="1:3" s="2" customFormat="1" ht="30" hidden="0" customHeight="1"'
        ' outlineLevel="1" collapsed="0" thickTop="0" thickBot="0" ph="0" x14ac:dyDescent="0.25">\n'
        '    <c r="A1"><v>1</v></c>\n    <c r="B1"><v>2</v></c>\n  </row>\n'
        '  <row r="2" customFormat="false" ht="12.8" hidden="false" customHeight="false" outlineLevel="0"'
        ' collapsed="false"/>\n  <row r="3"></row>\n'
        '  <row><c r="A4"><v>4</v></c></row><row r="5" /><row r="6"><c r="A6"><v>6</v></c></row>\n',
        attrs=X14AC,
    ),
    "empty rows only": _ws('<row r="1"/><row r="2" ht="20" customHeight="1"></row>\n'),
    "no rows": _ws(""),
    "empty sheetData": _ws("").replace("<sheetData></sheetData>", "<sheetData/>"),
    "excel head and tail": _ws(
        '<row r="1" spans="1:3" x14ac:dyDescent="0.15"><c r="A1" s="1" t="s"><v>1</v></c></row>',
        before=EXCEL_HEAD,
        after=TAIL,
        attrs=EXCEL_ROOT,
    ),
    "carriage returns": _ws(
        '<row r="1">\r\n<c r="A1" t="str"><f>"a"&amp;\r\n"b"</f><v>a\r\nb\rc&#13;</v></c></row>\r\n'
    ),
    "no declaration, BOM": _ws('<row r="1"><c r="A1"><v>1</v></c></row>', decl="\ufeff"),
    "declaration variants": _ws(
        '<row r="1"><c r="A1"><v>1</v></c></row>', decl="<?xml version='1.0' encoding='utf-8'?>\r\n"
    ),
}


@pytest.mark.parametrize("main", [MAIN, STRICT], ids=["transitional", "strict"])
@pytest.mark.parametrize("case", FAST_CASES)
def test_fast_path_cases(case: str, main: str) -> None:
    _assert_paths_agree(_book(FAST_CASES[case], SST3, main=main), fast=True)


SHARED_STRINGS_CASES = {
    "plain": SST3,
    "rich and phonetic": (
        f'{XML_DECL}<sst xmlns="{{main}}"><si><r><rPr><b/><sz val="11"/><color rgb="FFFF0000"/>'
        '<rFont val="宋体"/><family val="3"/><charset val="134"/></rPr><t>粗</t></r>'
        '<r><t xml:space="preserve"> 体 </t></r></si>'
        '<si><t>汉字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh>'
        '<phoneticPr fontId="1" type="noConversion"/></si><si><t>注音</t><phoneticPr fontId="1"/></si>'
        "<si><r><rPr/><t>a</t></r><r><t/></r></si></sst>"
    ),
    "empty and escaped": (
        f'{XML_DECL}<sst xmlns="{{main}}"><si/><si><t/></si><si><t></t></si>'
        '<si><t xml:space="preserve">第一行_x000D_\n&amp;&lt;&gt;&#x9;]]\r\n&#xD;\r</t></si></sst>'
    ),
    "pretty-printed": f'{XML_DECL}<sst xmlns="{{main}}">\n  <si><t>甲</t></si>\n  <si><t>乙</t></si>\n'
    "  <si><t>丙</t></si>\n</sst>\n",
}


@pytest.mark.parametrize("case", SHARED_STRINGS_CASES)
def test_fast_path_shared_strings(case: str) -> None:
    cells = "".join(f'<c r="{col}1" t="s"><v>{i}</v></c>' for i, col in enumerate("ABC"))
    sheet = _ws(f'<row r="1">{cells}</row>')
    _assert_paths_agree(_book(sheet, SHARED_STRINGS_CASES[case]), fast=True)


WORKBOOK_CASES = {
    "names": (
        f'{XML_DECL}<workbook xmlns="{{main}}" xmlns:r="{{rel}}"><sheets>'
        '<sheet name="表" sheetId="1" r:id="rId1"/></sheets><definedNames>'
        '<definedName name="_xlnm.Print_Area" localSheetId="0">表!$A$1:$B$2</definedName>'
        '<definedName name="_xlnm._FilterDatabase" hidden="1">表!$A$1</definedName>'
        '<definedName name="本表" localSheetId="0">表!$A$1</definedName>'
        '<definedName name="甲">表!$A$1</definedName>\n'
        '<definedName function="false" hidden="false" name="乙" vbProcedure="false">表!$B$1</definedName>'
        '<definedName name="丙" comment="a &amp; b">"&lt;"&amp;表!C1</definedName>'
        '<definedName name="丁"/><definedName name="戊"></definedName><definedName name="">x</definedName>'
        '<definedName name="甲">表!$C$1</definedName><definedName name="己">a\r\nb</definedName>\r\n'
        '</definedNames><calcPr calcId="191029"/></workbook>'
    ),
    "excel": (
        f'{XML_DECL}<workbook xmlns="{{main}}" xmlns:r="{{rel}}" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x15 xr" '
        'xmlns:x15="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main" '
        'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision">'
        '<fileVersion appName="xl" lastEdited="7" lowestEdited="7" rupBuild="27425"/>'
        '<workbookPr defaultThemeVersion="166925"/><mc:AlternateContent '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><mc:Choice Requires="x15">'
        '<x15ac:absPath url="D:\\报表\\" xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac"/>'
        '</mc:Choice></mc:AlternateContent><xr:revisionPtr revIDLastSave="0" documentId="8_{{0}}"/>'
        '<bookViews><workbookView xWindow="-120" yWindow="-120" windowWidth="29040" windowHeight="15840"/>'
        '</bookViews><sheets><sheet name="表" sheetId="1" r:id="rId1"/>'
        '<sheet name="A&amp;B &lt;隐藏&gt;" sheetId="3" state="hidden" r:id="rId1"/>'
        '<sheet name="很隐藏" sheetId="4" state="veryHidden" r:id="rId1"/></sheets>'
        '<definedNames><definedName name="总分">表!$A$1</definedName></definedNames>'
        '<calcPr calcId="191029"/><extLst><ext uri="{{140A7094-0E35-4892-8432-C4D2E57EDEB5}}" '
        'xmlns:x15="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main">'
        '<x15:workbookPr chartTrackingRefBase="1"/></ext></extLst></workbook>'
    ),
    "no names, pretty-printed": (
        f'{XML_DECL}<workbook xmlns="{{main}}" xmlns:r="{{rel}}">\n  <sheets>\n'
        '    <sheet name="表" sheetId="1" r:id="rId1" />\n  </sheets>\n</workbook>\n'
    ),
}


@pytest.mark.parametrize("case", WORKBOOK_CASES)
def test_fast_path_workbook_parts(case: str) -> None:
    sheet = _ws('<row r="1"><c r="A1"><v>1</v></c></row>')
    _assert_paths_agree(_book(sheet, SST3, WORKBOOK_CASES[case]), fast=True)


ROW1 = '<row r="1"><c r="A1"><v>1</v></c></row>'
FALLBACK_CASES = {
    # not for the fast path, though the ElementTree path reads them
    "shared formula": _ws('<row r="1"><c r="A1"><f t="shared" ref="A1:A2" si="0">B1</f><v>1</v></c></row>'),
    "array formula": _ws('<row r="1"><c r="A1"><f t="array" ref="A1">B1</f><v>1</v></c></row>'),
    "inline string": _ws('<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'),
    "comment": _ws('<row r="1"><!-- <c r="A1"><v>1</v></c> --><c r="B1"><v>2</v></c></row>'),
    "CDATA": _ws('<row r="1"><c r="A1" t="str"><v><![CDATA[<x>]]></v></c></row>'),
    "DOCTYPE": _ws(ROW1, decl=XML_DECL + "<!DOCTYPE worksheet>"),
    "processing instruction": _ws(ROW1, before="<?pi x?>"),
    "cell without r": _ws('<row r="1"><c><v>1</v></c></row>'),
    "attributes reordered": _ws('<row r="1"><c s="1" r="A1"><v>1</v></c></row>'),
    "unknown attribute": _ws('<row r="1"><c r="A1" cm="1"><f>A2</f><v>1</v></c></row>'),
    "unknown type": _ws('<row r="1"><c r="A1" t="x"><v>1</v></c></row>'),
    "lower-case reference": _ws('<row r="1"><c r="a1"><v>1</v></c></row>'),
    "white space in a cell": _ws('<row r="1"><c r="A1">\n  <v>1</v>\n</c></row>'),
    "value before formula": _ws('<row r="1"><c r="A1"><v>1</v><f>B1</f></c></row>'),
    "extLst in a cell": _ws('<row r="1"><c r="A1"><v>1</v><extLst/></c></row>'),
    "prefixed cells": _ws('<row r="1"><x:c r="A1" xmlns:x="{main}"><x:v>1</x:v></x:c></row>'),
    "namespace on a row": _ws('<row r="1" xmlns="{main}"><c r="A1"><v>1</v></c></row>'),
    "row attributes reordered": _ws('<row spans="1:1" r="1"><c r="A1"><v>1</v></c></row>'),
    "text between cells": _ws('<row r="1"><c r="A1"><v>1</v></c>x<c r="B1"><v>2</v></c></row>'),
    "latin-1": _ws(ROW1, decl='<?xml version="1.0" encoding="ISO-8859-1"?>'),
    "unknown encoding": _ws(ROW1, decl='<?xml version="1.0" encoding="TF-8"?>'),
    "sheetData with attributes": _ws(ROW1).replace("<sheetData>", '<sheetData xmlns="{main}">'),
    "prefixed root": f'{XML_DECL}<x:worksheet xmlns:x="{{main}}"><x:sheetData/></x:worksheet>',
    # broken: both paths must give the same error
    "bad entity": _ws('<row r="1"><c r="A1" t="str"><v>&bogus;</v></c></row>'),
    "bare ampersand": _ws('<row r="1"><c r="A1" t="str"><v>a & b</v></c></row>'),
    "bad character reference": _ws('<row r="1"><c r="A1" t="str"><v>&#0;</v></c></row>'),
    "U+FFFE": _ws('<row r="1"><c r="A1" t="str"><v>\ufffe</v></c></row>'),
    "control character": _ws('<row r="1"><c r="A1" t="str"><v>\x01</v></c></row>'),
    "]]> in text": _ws('<row r="1"><c r="A1" t="str"><v>]]></v></c></row>'),
    "undeclared prefix": _ws('<row r="1" x14ac:dyDescent="0.2"><c r="A1"><v>1</v></c></row>'),
    "duplicate attribute": _ws('<row r="1" r="1"><c r="A1"><v>1</v></c></row>'),
    "bad row number": _ws('<row r="x"><c r="A1"><v>1</v></c></row>'),
    "unclosed row": _ws('<row r="1"><c r="A1"><v>1</v></c>'),
    "cell outside a row": _ws('<c r="A1"><v>1</v></c>'),
    "shared string out of range": _ws('<row r="1"><c r="A1" t="s"><v>3</v></c></row>'),
    "not a number": _ws('<row r="1"><c r="A1"><v>一</v></c></row>'),
    "broken head": _ws(ROW1, before="<sheetViews><sheetView></sheetViews>"),
    "duplicate attribute in head": _ws(ROW1, before='<dimension ref="A1" ref="A2"/>'),
    "broken merge list": _ws(ROW1, after='<mergeCells><mergeCell ref="A1:B2"></mergeCells>'),
    "DOCTYPE in the tail": _ws(ROW1, after="<!DOCTYPE x>"),
    "truncated": _ws(ROW1)[:-5],
}


@pytest.mark.parametrize("case", FALLBACK_CASES)
def test_fast_path_falls_back(case: str) -> None:
    # (Elements out of place - a <sheetData> inside <extLst>, a row inside a row, a second
    # <definedNames> - are read by each reader in its own way; both ways are safe, so they are
    # not compared.)
    _assert_paths_agree(_book(FALLBACK_CASES[case], SST3), fast=False)


@pytest.mark.parametrize(
    ("part", "text"),
    [
        ("sst", f'{XML_DECL}<sst xmlns="{{main}}"><si><t>a</t><foo/></si></sst>'),
        ("sst", f'{XML_DECL}<sst xmlns="{{main}}"><si><t>a</t></si><!-- x --></sst>'),
        ("sst", f'{XML_DECL}<sst xmlns="{{main}}" count="1" count="1"><si><t>a</t></si></sst>'),
        ("sst", f'{XML_DECL}<sst xmlns="{{main}}"><si><r><rPr><b val="&x;"/></rPr><t>a</t></r></si></sst>'),
        ("sst", '<?xml version="1.0" encoding="UTF-16"?><sst xmlns="{main}"><si><t>a</t></si></sst>'),
        ("workbook", WORKBOOK.replace('r:id="rId1"', 'x:id="rId1"')),
        ("workbook", WORKBOOK.replace('sheetId="1"', 'sheetId="1" sheetId="1"')),
        ("workbook", WORKBOOK.replace("<sheets>", "<bookViews><sheets/></bookViews><sheets>")),
        ("workbook", WORKBOOK.replace('name="得分"', 'name="得&分"')),
    ],
)
def test_fast_path_falls_back_on_other_parts(part: str, text: str) -> None:
    sheet = _ws('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')
    if part == "sst":
        data = _book(sheet, text)
    else:
        data = _book(sheet, SST3, text.replace('Target="/xl/worksheets/sheet1.xml"', ""))
    _assert_paths_agree(data, fast=False)


# Mutations of a workbook the fast path reads: whatever it still reads, it reads right.

_FUZZ_SHEET = _ws(
    '<row r="1" spans="1:3" ht="20" customHeight="1"><c r="A1" s="1" t="s"><v>0</v></c>'
    '<c r="B1" s="2"/><c r="C1"><f>A2*2</f><v>4</v></c></row><row r="2"><c r="A2"><v>2</v></c>'
    '<c r="B2" t="str"><f>"a"&amp;"b"</f><v>ab</v></c><c r="C2" t="b"><v>1</v></c>'
    '<c r="D2" t="e"><v>#N/A</v></c></row>',
    before=EXCEL_HEAD,
    after='<sheetProtection sheet="1"/><mergeCells count="1"><mergeCell ref="A3:B4"/></mergeCells>',
    attrs=EXCEL_ROOT,
)
_FUZZ_PARTS = {
    "sheet": _FUZZ_SHEET.format(main=MAIN, rel=REL),
    "sst": SHARED_STRINGS_CASES["rich and phonetic"].format(main=MAIN),
    "workbook": WORKBOOK_CASES["names"].format(main=MAIN, rel=REL),
}
_FUZZ_ALPHABET = "<>/&;=\"' \t\r\n\x01]![?x:r1A-_\ufffe"
_FUZZ_SNIPPETS = [
    "]]>",
    "&amp;",
    "&#10;",
    "&#0;",
    "&bogus;",
    "<!-- c -->",
    "<![CDATA[x]]>",
    "<?pi?>",
    "<!DOCTYPE x>",
    '<c r="A9"><v>1</v></c>',
    '<c r="A9" t="s"><v>9</v></c>',
    '<row r="7">',
    "<row/>",
    "</row>",
    "<sheetData/>",
    "<f>",
    "</f>",
    "<v/>",
    ' t="shared"',
    ' xmlns="u"',
    ' xmlns:a="u"',
    "a:",
    ' r="1"',
    ' s="1"',
    "<si><t>z</t></si>",
    "<t>",
    "</r>",
    "_x000D_",
    '<mergeCell ref="A1:B1"/>',
    '<sheet name="q" sheetId="9" r:id="rId1"/>',
    '<definedName name="n">1</definedName>',
]


def _nested(text: str, tag: str) -> bool:
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(text.encode())
    except (ET.ParseError, ValueError, LookupError):  # LookupError: a mutant's encoding="TF-8"
        return False
    return any(len(list(el.iter(f"{{{MAIN}}}{tag}"))) > 1 for el in root.iter(f"{{{MAIN}}}{tag}"))


def _unmerged(typed: tuple[list[tuple[object, ...]], object, object]) -> object:
    sheets, names, props = typed
    return ([s[:3] + s[4:] for s in sheets], names, props)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    part=st.sampled_from(sorted(_FUZZ_PARTS)),
    where=st.floats(min_value=0, max_value=1, exclude_max=True),
    cut=st.integers(min_value=0, max_value=3),
    insert=st.one_of(st.text(alphabet=_FUZZ_ALPHABET, max_size=3), st.sampled_from(_FUZZ_SNIPPETS)),
)
def test_fast_path_on_mutations(part: str, where: float, cut: int, insert: str) -> None:
    texts = dict(_FUZZ_PARTS)
    text = texts[part]
    # Not after the worksheet's merge list: that part is not parsed (see "fast path" in xlsxread).
    end = text.index("</mergeCells>") + 13 if part == "sheet" else len(text)
    pos = int(where * end)
    texts[part] = text[:pos] + insert + text[pos + cut :]
    data = _book(texts["sheet"], texts["sst"], texts["workbook"])
    # Where the reference reads a mutant, read_xlsx reads the same, or refuses it (libxml2 is
    # stricter than expat about, e.g., a namespace name with a space); never something else.
    # Where the reference refuses one, read_xlsx may still read it if the damage only shows at
    # the end of a worksheet (an element left open), which it does not parse.
    # A mutant with <definedName> elements nested in one another is read differently (each reader
    # takes the names it meets in its own order): only the sheets are compared then.
    # Merged ranges are compared elsewhere: the reference takes any element with a ref in the
    # merge list (a mutant's <mergeCel ref=…/> too), read_xlsx only <mergeCell>.
    got, reference = _outcome(read_xlsx, data), _outcome(read_reference, data)
    if isinstance(got, tuple) and isinstance(reference, tuple):
        got, reference = _unmerged(got), _unmerged(reference)
    if isinstance(got, tuple) and isinstance(reference, tuple) and part == "workbook":
        got, reference = got[0], reference[0]
    if part == "sst" and _nested(texts["sst"], "si"):
        return  # a string inside a string: each reader numbers them its own way
    if part == "workbook" and texts[part].count("<sheet ") != _FUZZ_PARTS[part].count("<sheet "):
        return  # a <sheet> renamed (<shet …>): the reference takes any child of <sheets> as a sheet
    # (libxml2 also takes a few spellings expat refuses, e.g. encoding="UTF8").
    assert got in (reference, "refused") or reference == "refused"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    strings=st.lists(st.text(st.characters(codec="utf-8"), max_size=12), max_size=6),
    numbers=st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=6),
    formula=st.text(st.characters(codec="utf-8", exclude_characters='"'), max_size=8),
)
def test_fast_path_on_what_xlsxwriter_writes(
    tmp_path_factory: pytest.TempPathFactory, strings: list[str], numbers: list[float], formula: str
) -> None:
    path = tmp_path_factory.mktemp("gen") / "gen.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("数据")
    for i, text in enumerate(strings):
        ws.write_string(i, 0, text)
        ws.write_formula(i, 2, f'="{formula}"&A{i + 1}', None, formula + text)
    for i, number in enumerate(numbers):
        ws.write_number(i, 1, number)
        ws.write_boolean(i, 3, number > 0)
    book.define_name("名称", f'="{formula}"')
    book.close()
    if _assert_paths_agree(path) is None:
        # Only for what is not XML: xlsxwriter writes a control character in a formula's
        # cached string as it is.
        with pytest.raises(XlsxReadError, match="XML 已损坏"):
            read_reference(path)


# ------------------------------------------------------------------ LibreOffice


def _lo_workbook(path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("收支情况")
    ws.write_string("A1", "项目")
    ws.write_string("A2", "  前后空格  ")
    ws.write_number("B1", 1234.5)
    ws.write_number("B2", 0.1)
    ws.write_formula("C1", "=B1*2", None, 2469)
    ws.write_formula("C2", '=IF(B1>0,"正","负")', None, "正")
    ws.write_formula("C3", "=1/0", None, "#DIV/0!")
    ws.write_formula("C4", "=B1>0", None, True)
    ws.write_formula("C5", "='评分依据'!C5*2", None, 10)
    ws.merge_range("E1:G1", "合并标题")
    for r in range(6):
        ws.write_number(r + 10, 0, r + 1)
        ws.write_formula(r + 10, 1, f"=A{r + 11}*2+$B$1", None, (r + 1) * 2 + 1234.5)
    ws2 = wb.add_worksheet("评分依据")
    for r in range(10):
        ws2.write_number(r, 2, r + 1)
    ws2.hide()
    wb.define_name("总分", "='收支情况'!$C$5")
    wb.define_name("依据区", "='评分依据'!$C$1:$C$10")
    wb.set_custom_property("单位名称", "某某局")
    wb.close()


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="soffice not on PATH")
def test_libreoffice_resave(tmp_path: Path) -> None:
    src = tmp_path / "src" / "book.xlsx"
    src.parent.mkdir()
    _lo_workbook(src)
    sample = src.parent / "sample.xlsx"
    shutil.copyfile(SAMPLES[0], sample)
    out = tmp_path / "out"
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            str(src),
            str(sample),
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    resaved = out / "book.xlsx"
    before, after = read_xlsx(src), read_xlsx(resaved)
    # LibreOffice writes <f aca="false">, t="str", rows with all their attributes, names with
    # theirs in another order, maybe shared formulas: the fast path reads it right, or not at all.
    _assert_paths_agree(src, fast=True)
    _assert_paths_agree(resaved)
    _assert_paths_agree(out / "sample.xlsx")

    _assert_same_as_openpyxl(after, resaved)
    assert list(after.sheets) == list(before.sheets)
    for name, sheet in before.sheets.items():
        other = after.sheets[name]
        assert other.state == sheet.state
        assert other.merged == sheet.merged
        assert set(other.cells) == set(sheet.cells)
        for ref, cell in sheet.cells.items():
            again = other.cells[ref]
            assert again.value == cell.value, (name, ref)
            # LibreOffice drops the quotes around sheet names that do not need them.
            norm = (again.formula or "").replace("'", "")
            assert norm == (cell.formula or "").replace("'", ""), (name, ref)
    assert set(after.defined_names) == set(before.defined_names)
    for name in before.defined_names:
        assert resolve_name(after, name) == resolve_name(before, name)
    assert after.custom_properties["单位名称"] == "某某局"


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_worksheet_with_two_cell_areas_is_refused(where: str) -> None:
    """Two <sheetData> (a crafted or broken file): readers differ on which one counts, so neither is
    trusted, and the message names the sheet."""
    texts = dict(_FUZZ_PARTS)
    sheet = texts["sheet"]
    at = (
        sheet.index("<sheetData>") if where == "before" else sheet.index("</sheetData>") + len("</sheetData>")
    )
    texts["sheet"] = sheet[:at] + "<sheetData/>" + sheet[at:]
    with pytest.raises(XlsxReadError, match="工作表“表”有两处单元格数据（sheetData）"):
        read_xlsx(_book(texts["sheet"], texts["sst"], texts["workbook"]))
