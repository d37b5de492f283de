"""The review copy is the return's own package, edited: over the corpus of broken, hostile and
generated returns, every part the review does not change is byte for byte the unit's, every cached
value and formula is kept, the copy opens in openpyxl and python-calamine, and checking the copy
again gives exactly the original's findings (but those about what the copy defuses)."""

from __future__ import annotations

import dataclasses
import hashlib
import random
import shutil
import subprocess
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import hostile
import openpyxl
import pytest
import test_check_broken as broken
from inputgen import write_random_return
from lo_recalc import PDF_CONVERT_TO, convert_many, recalc_many, soffice_available
from lxml import etree
from python_calamine import CalamineWorkbook

from perfxl.check import check_file
from perfxl.check.result import CheckResult
from perfxl.check.xlsxread import read_xlsx
from perfxl.engine.findings import INFO, Finding
from perfxl.engine.formula_risk import danger
from perfxl.form.meta import Unit
from perfxl.report.review import ITEMS_SHEET, SHEET, write_review

# What the copy takes out on purpose, so checking it again no longer finds it.
DEFUSED = {"input.formula_dangerous", "formula.dangerous", "file.macros", "file.external_links"}
# Returns the hostile corpus builds that can be checked (the others are refused, with no copy).
HOSTILE = [k for k in hostile.KINDS if k.rc in (0, 1) and k.name not in ("same-file-twice",)]
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"

Build = Callable[[Path], Path]


def _hostile(kind: hostile.Kind) -> Build:
    return lambda folder: Path(folder, kind.build(folder)[-1])


def _broken(case: broken.Case) -> Build:
    def build(folder: Path) -> Path:
        good = broken.write_good(folder / "good.xlsx")
        return case.mutate(good, folder / "broken.xlsx")

    return build


def _generated(seed: int) -> Build:
    def build(folder: Path) -> Path:
        rng = random.Random(seed)
        profile = rng.choice(("mixed", "plausible", "edgy", "sparse"))
        unit = Unit(f"测试单位{seed:03d}", f"43{seed:06d}", 2020)
        return write_random_return(folder / f"{seed:03d}.xlsx", unit, rng, profile)

    return build


CORPUS = [
    pytest.param(lambda folder: broken.write_good(folder / "君山区信访局_2020.xlsx"), id="seed"),
    *(pytest.param(_generated(n), id=f"generated-{n}") for n in range(6)),
    *(pytest.param(_broken(c), id=f"broken-{c.id}") for c in broken.CASES),
    *(pytest.param(_hostile(k), id=f"hostile-{k.name}") for k in HOSTILE),
]


def _flat(result: CheckResult) -> list[tuple[object, ...]]:
    return [
        (f.rule, f.severity, f.sheet, f.cell, f.message, f.reported, f.expected, f.explained)
        for f in result.findings
        if f.rule not in DEFUSED
    ]


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _sheet_parts(members: dict[str, bytes]) -> dict[str, str]:
    """Sheet name -> worksheet part, from workbook.xml and its relationships."""
    book = etree.fromstring(members["xl/workbook.xml"])
    rels = etree.fromstring(members["xl/_rels/workbook.xml.rels"])
    targets = {r.get("Id"): "xl/" + r.get("Target").lstrip("/").removeprefix("xl/") for r in rels}
    rid = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    return {s.get("name"): targets[s.get(rid)] for s in book.iter(f"{MAIN}sheet")}


def _without_marks(xml: bytes) -> bytes:
    """A worksheet without what marking cells changes: the cells' formats, the notes' drawing, the
    selected tab."""
    root = etree.fromstring(xml)
    for c in root.iter(f"{MAIN}c"):
        c.attrib.pop("s", None)
    for el in list(root.iter(f"{MAIN}legacyDrawing")):
        el.getparent().remove(el)
    for view in root.iter(f"{MAIN}sheetView"):
        view.attrib.pop("tabSelected", None)
    return etree.tostring(root, method="c14n")


@pytest.mark.parametrize("build", CORPUS)
def test_review_copy_keeps_the_return(build: Build, tmp_path: Path) -> None:
    source = build(tmp_path)
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    result = check_file(source)
    assert result.status != "unusable", result.reason
    copy = write_review(source, result, tmp_path / "审核" / "copy.xlsx")
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before  # the input is untouched

    # checking the copy finds what checking the return found; where a formula reaching outside was
    # replaced by its cached result, that result is now what the cell holds, and is checked as such
    again = check_file(copy)
    assert not {f.rule for f in again.findings} & DEFUSED
    if not {f.rule for f in result.findings} & {"input.formula_dangerous", "formula.dangerous"}:
        assert _flat(again) == _flat(result)
        assert (again.reported_total, again.recomputed_total) == (
            result.reported_total,
            result.recomputed_total,
        )

    # every sheet's cached values and formulas, cell by cell (a defused formula keeps its value)
    theirs, ours = read_xlsx(source), read_xlsx(copy)
    assert list(ours.sheets) == [SHEET, ITEMS_SHEET, *theirs.sheets]
    defused = {(f.sheet, f.cell) for f in result.findings if f.rule in DEFUSED}
    for name, sheet in theirs.sheets.items():
        other = ours.sheets[name]
        assert (other.state, other.merged) == (sheet.state, sheet.merged)
        assert other.cells.keys() == sheet.cells.keys(), name
        for ref, cell in sheet.cells.items():
            kept = other.cells[ref]
            if (name, ref) in defused:
                assert (kept.value, kept.formula) == (cell.value, None), (name, ref)
            else:
                assert (kept.value, kept.formula, kept.date) == (cell.value, cell.formula, cell.date), (
                    name,
                    ref,
                )
    assert ours.defined_names == {k: v for k, v in theirs.defined_names.items() if not danger(v)}
    assert ours.custom_properties == theirs.custom_properties

    # other readers open it
    cal = CalamineWorkbook.from_path(str(copy))
    assert cal.sheet_names == [SHEET, ITEMS_SHEET, *theirs.sheets]
    cal.get_sheet_by_name(SHEET).to_python()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(copy)
    assert wb.sheetnames[:2] == [SHEET, ITEMS_SHEET] and wb.active.title == SHEET
    wb.close()


@pytest.mark.parametrize("build", [CORPUS[0], CORPUS[1], CORPUS[2]])
def test_parts_not_edited_are_byte_for_byte(build: Build, tmp_path: Path) -> None:
    source = build(tmp_path)
    result = check_file(source)
    copy = write_review(source, result, tmp_path / "copy.xlsx")
    theirs, ours = _members(source), _members(copy)
    assert set(theirs) <= set(ours)
    sheets = _sheet_parts(theirs)
    flagged = {sheets[f.sheet] for f in result.findings if f.sheet in sheets and f.cell}
    edited = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"}
    for name, data in theirs.items():
        if ours[name] == data or name in edited:
            continue
        # a worksheet with marked cells: only their formats, the notes' drawing and the tab differ
        assert name in flagged or b"tabSelected" in data, name
        assert _without_marks(ours[name]) == _without_marks(data), name
    # the stylesheet only grew: every cell format the return had keeps its index and meaning
    for part in ("cellXfs", "fonts", "fills", "borders"):
        old = etree.fromstring(theirs["xl/styles.xml"]).find(f"{MAIN}{part}")
        new = etree.fromstring(ours["xl/styles.xml"]).find(f"{MAIN}{part}")
        assert [etree.tostring(e) for e in new[: len(old)]] == [etree.tostring(e) for e in old]
    # the marked cells point to copies of their own formats, with a fill and frame
    f8 = etree.fromstring(ours[sheets["评分表"]]).find(f".//{MAIN}c[@r='F8']")
    was = etree.fromstring(theirs[sheets["评分表"]]).find(f".//{MAIN}c[@r='F8']")
    xfs = etree.fromstring(ours["xl/styles.xml"]).find(f"{MAIN}cellXfs")
    mark, own = xfs[int(f8.get("s"))], xfs[int(was.get("s") or 0)]
    assert int(f8.get("s")) >= len(etree.fromstring(theirs["xl/styles.xml"]).find(f"{MAIN}cellXfs"))
    for attr in ("numFmtId", "fontId"):
        assert mark.get(attr) == own.get(attr)
    assert [etree.tostring(e) for e in mark] == [etree.tostring(e) for e in own]  # alignment, protection


def test_a_returned_copy_is_reviewed_afresh(tmp_path: Path) -> None:
    """The copy of a copy: the old review sheets and marks go, the unit's own notes stay."""
    source = broken.write_good(tmp_path / "君山区信访局_2020.xlsx")
    result = check_file(source)
    first = write_review(source, result, tmp_path / "r1.xlsx")
    second = write_review(first, check_file(first), tmp_path / "r2.xlsx")
    third = write_review(second, check_file(second), tmp_path / "r3.xlsx")
    assert _members(third).keys() == _members(second).keys()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(third)
    assert wb.sheetnames == openpyxl.load_workbook(first).sheetnames
    note = wb["评分表"]["F8"].comment
    assert note is not None and note.text.count("【错误】") == 1 and "——" not in note.text
    assert wb["评分表"]["F8"].fill.fgColor.rgb.endswith("FFC7CE")
    assert _flat(check_file(third)) == _flat(result)


@pytest.mark.libreoffice
@pytest.mark.skipif(not soffice_available(), reason="needs soffice")
def test_a_copy_saved_by_libreoffice_is_reviewed_afresh(tmp_path: Path) -> None:
    """LibreOffice keeps the review's notes but not their author: they are still known as the
    review's, and replaced rather than kept as the unit's own."""
    source = broken.write_good(tmp_path / "君山区信访局_2020.xlsx")
    result = check_file(source)
    first = write_review(source, result, tmp_path / "r1.xlsx")
    saved = recalc_many([first], tmp_path / "lo")[first]
    again = write_review(saved, check_file(saved), tmp_path / "r2.xlsx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(again)
    assert wb.sheetnames[:3] == [SHEET, ITEMS_SHEET, "填报说明"] and wb.sheetnames.count(SHEET) == 1
    note = wb["评分表"]["F8"].comment
    assert note is not None and note.text.count("【错误】") == 1 and "——" not in note.text
    assert wb["评分表"]["F8"].fill.fgColor.rgb.endswith("FFC7CE")
    assert wb["评分表"]["F9"].comment is None


@pytest.mark.libreoffice
@pytest.mark.skipif(not soffice_available() or not shutil.which("pdftotext"), reason="needs soffice")
def test_the_copy_prints_with_the_units_cached_results(tmp_path: Path) -> None:
    """LibreOffice shows what the unit's program computed (openpyxl's copies showed blanks)."""
    source = broken.write_good(tmp_path / "君山区信访局_2020.xlsx")
    copy = write_review(source, check_file(source), tmp_path / "copy.xlsx")
    pdf = convert_many([copy], tmp_path, PDF_CONVERT_TO, ".pdf", recalc_on_load=False)[copy]
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "审核意见" in text and "自查：1 项需修改，0 项未填写" in text


SHEETS = [  # (worksheet markup, whether it may be copied as it is)
    (b'<c r="A1"><f>SUM(A1)</f><v>1</v></c><c r="A2" t="str"><f>"x"</f><v>NaN</v></c>', True),
    (b'<c r="A1"><f>hyperlink("#\xe8\xa1\xa8!A1")</f><v>1</v></c>', True),
    (b"<c r=\"A1\"><f>'\xe6\x94\xb6\xe6\x94\xaf'!A1</f><v>1</v></c>", True),
    (b'<c r="A1"><f>WEBSERVICE(1)</f><v>1</v></c>', False),
    (b'<c r="A1"><f>_xlfn._xlws.webservice (1)</f><v>1</v></c>', False),
    (b'<c r="A1"><f>SQL.REQUEST(1)</f><v>1</v></c>', False),
    (b'<c r="A1"><f>_xll.foo(1)</f><v>1</v></c>', False),
    (b'<c r="A1"><f>cmd&#124;x</f><v>1</v></c>', False),  # a character reference hiding the bar
    (b'<c r="A1"><f a=">">WEBSERVICE(1)</f><v>1</v></c>', False),  # ">" inside an attribute
    (b'<c r="A1"><f>[1]S!A1</f><v>1</v></c>', False),
    (b"<c r=\"A1\"><f>'C:\\x\\a'!A1</f><v>1</v></c>", False),
    (b'<c r="A1"><f>SUM<!-- -->(WEBSERVICE(1))</f><v>1</v></c>', False),
    (b'<c r="A1"><f><![CDATA[WEBSERVICE(1)]]></f><v>1</v></c>', False),
    (b'<c r="A1"><x:f>WEBSERVICE(1)</x:f><v>1</v></c>', False),
    (b'<c r="A1"><v>NaN</v></c>', False),
    (b"<c r='A1' t='n'><v>1e999</v></c>", False),
    (b'<c r="A1"><v >NaN</v></c>', False),
]


@pytest.mark.parametrize(("cells", "plain"), SHEETS)
def test_a_sheet_is_copied_as_it_is_only_when_nothing_in_it_needs_defusing(cells: bytes, plain: bool) -> None:
    """The byte scan that spares parsing a sheet answers "as it is" only when it surely is."""
    from perfxl.report.sanitize import _plain

    xml = (
        b'<worksheet xmlns="'
        + MAIN[1:-1].encode()
        + b'"><sheetData><row r="1">'
        + cells
        + b"</row></sheetData></worksheet>"
    )
    assert _plain(xml) is plain


def test_text_that_looks_escaped_stays_as_typed(tmp_path: Path) -> None:
    """“_x0041_” in a cell's text is Excel's escape for “A”: a unit's text holding it literally is
    written so that every reader shows it as typed."""
    source = broken.write_good(tmp_path / "君山区信访局_2020.xlsx")
    result = check_file(source)
    odd = dataclasses.replace(
        result,
        unit="信访局_x0041_",
        findings=[*result.findings, Finding("t.x", INFO, "说明_x000D_", "评分表", "F9")],
    )
    copy = write_review(source, odd, tmp_path / "copy.xlsx")
    texts = {c.value for c in read_xlsx(copy).sheets[SHEET].cells.values()}
    assert {"信访局_x0041_", "说明_x000D_"} <= texts
    cal = CalamineWorkbook.from_path(str(copy)).get_sheet_by_name(SHEET).to_python()
    assert "信访局_x0041_" in {v for row in cal for v in row}
