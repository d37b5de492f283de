"""Tests for perfxl.xlsxread, cross-checked against openpyxl."""

from __future__ import annotations

import datetime
import io
import os
import shutil
import subprocess
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from openpyxl.formula.translate import Translator
from openpyxl.worksheet.formula import ArrayFormula

from perfxl.xlsxread import (
    Cell,
    Sheet,
    Workbook,
    XlsxReadError,
    _ref_rc,
    _shift_formula,
    read_xlsx,
    resolve_name,
)

# --------------------------------------------------------------------- fixtures


def _build_workbook(path: Path) -> None:
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
    parts["xl/worksheets/sheet1.xml"] = str(parts["xl/worksheets/sheet1.xml"]).replace(
        '<c r="G5"><v>4</v>', '<c r="G5"><v>四</v>'
    )
    assert "G5" in _error(_zip(parts))


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
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    resaved = out / "book.xlsx"
    before, after = read_xlsx(src), read_xlsx(resaved)

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
