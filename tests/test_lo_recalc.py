"""Tests of the LibreOffice recalculation harness (tests/lo_recalc.py).

They prove the harness itself: a workbook whose cached formula results are
deliberately wrong comes back from LibreOffice with the right ones, and would
not without the forced-recalc profile.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import lo_recalc
import openpyxl
import pytest
import xlsxwriter
from lo_recalc import (
    XLSX_CONVERT_TO,
    LibreOfficeError,
    convert_many,
    recalc_many,
    soffice_available,
    to_pdf_many,
)

_skip_without_lo = pytest.mark.skipif(not soffice_available(), reason="soffice (LibreOffice) not on PATH")


def lo_test(fn):
    """Mark a test as needing LibreOffice, and skip it where soffice is absent."""
    return pytest.mark.libreoffice(_skip_without_lo(fn))


STALE = 999  # cached value written next to every formula: always wrong on purpose


def _write(path: Path, sheets: dict[str, dict[str, object]]) -> Path:
    """Write a workbook; a string starting with '=' becomes a formula cached as STALE."""
    wb = xlsxwriter.Workbook(str(path))
    for name, cells in sheets.items():
        ws = wb.add_worksheet(name)
        for ref, value in cells.items():
            if isinstance(value, str) and value.startswith("="):
                ws.write_formula(ref, value, None, STALE)
            elif value is not None:
                ws.write(ref, value)
    wb.close()
    return path


def _values(path: Path, sheet: str, refs: list[str]) -> dict[str, object]:
    wb = openpyxl.load_workbook(path, data_only=True)
    try:
        ws = wb[sheet]
        return {ref: ws[ref].value for ref in refs}
    finally:
        wb.close()


def _excel_round(x: float, digits: int) -> float:
    """Excel/LibreOffice ROUND: decimal half away from zero (not Python's round)."""
    q = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(x)).quantize(q, rounding=ROUND_HALF_UP))


# --------------------------------------------------------------------------- proof


@lo_test
def test_stale_cached_value_is_recalculated(tmp_path: Path) -> None:
    src = _write(tmp_path / "stale.xlsx", {"Sheet1": {"A1": 1, "B1": 2, "C1": "=A1+B1"}})
    # The file really carries the wrong cached value.
    assert _values(src, "Sheet1", ["C1"]) == {"C1": STALE}

    out = recalc_many([src], tmp_path / "lo")[src]
    assert out == (tmp_path / "lo" / "stale.xlsx").resolve()
    assert _values(out, "Sheet1", ["A1", "B1", "C1"]) == {"A1": 1, "B1": 2, "C1": 3}


@lo_test
def test_without_recalc_profile_libreoffice_keeps_the_stale_cache(tmp_path: Path) -> None:
    """Control experiment: the profile setting is what makes the harness work.

    xlsxwriter writes <calcPr fullCalcOnLoad="1"/>, yet LibreOffice in
    "never recalculate" mode (its shipped default) keeps the cached 999.
    """
    src = _write(tmp_path / "stale.xlsx", {"Sheet1": {"A1": 1, "B1": 2, "C1": "=A1+B1"}})
    with zipfile.ZipFile(src) as zf:
        assert 'fullCalcOnLoad="1"' in zf.read("xl/workbook.xml").decode()

    outs = convert_many([src], tmp_path / "never", XLSX_CONVERT_TO, ".xlsx", recalc_on_load=False)
    out = outs[src]
    assert _values(out, "Sheet1", ["C1"]) == {"C1": STALE}


# --------------------------------------------------------------------------- batches


@lo_test
def test_batch_of_three_in_one_soffice_call_with_chinese_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cn = _write(
        tmp_path / "部门整体支出绩效自评.xlsx",
        {
            "评分表": {"A1": 18, "A2": 27.5, "A3": 40, "B1": "优"},
            "汇总": {
                "A1": "='评分表'!A1+'评分表'!A2",
                "A2": "=SUM('评分表'!A1:A3)",
                "A3": "=IF(SUM('评分表'!A1:A3)>=80,'评分表'!B1,\"差\")",
                "A4": "=ROUND('评分表'!A2/'评分表'!A3*100,1)",
            },
        },
    )
    a = _write(tmp_path / "plain_a.xlsx", {"Sheet1": {"A1": 10, "A2": "=A1*3"}})
    b = _write(tmp_path / "with space b.xlsx", {"Sheet1": {"A1": -4, "A2": "=ABS(A1)+1"}})

    calls: list[list[str]] = []

    class CountingPopen(subprocess.Popen):
        def __init__(self, args, *rest, **kw):
            calls.append(list(args))
            super().__init__(args, *rest, **kw)

    monkeypatch.setattr(lo_recalc.subprocess, "Popen", CountingPopen)
    outs = recalc_many([cn, a, b], tmp_path / "lo")

    assert len(calls) == 1, "all files must go through one soffice process"
    assert set(outs) == {cn, a, b}
    assert outs[cn].name == "部门整体支出绩效自评.xlsx"
    assert all(p.is_file() for p in outs.values())

    wb = openpyxl.load_workbook(outs[cn], data_only=True)
    try:
        assert wb.sheetnames == ["评分表", "汇总"]
    finally:
        wb.close()
    assert _values(outs[cn], "汇总", ["A1", "A2", "A3", "A4"]) == {
        "A1": 45.5,
        "A2": 85.5,
        "A3": "优",
        "A4": _excel_round(27.5 / 40 * 100, 1),
    }
    assert _values(outs[a], "Sheet1", ["A2"]) == {"A2": 30}
    assert _values(outs[b], "Sheet1", ["A2"]) == {"A2": 5}


# --------------------------------------------------------------------------- functions

ROWS = [  # (self score, expert score)
    (95, 88),
    (59.5, 60),
    (80, 79.995),
    (2.5, -2.5),
    (0.285, 1.005),
    (0, 100),
]


def _grade(x: float) -> str:
    return "优" if x >= 90 else "良" if x >= 80 else "中" if x >= 60 else "差"


@lo_test
def test_functions_recalculate_like_python(tmp_path: Path) -> None:
    cells: dict[str, object] = {}
    first, last = 2, len(ROWS) + 1
    for r, (x, y) in enumerate(ROWS, start=first):
        cells[f"A{r}"] = x
        cells[f"B{r}"] = y
        cells[f"C{r}"] = f'=IF(A{r}>=90,"优",IF(A{r}>=80,"良",IF(A{r}>=60,"中","差")))'
        cells[f"D{r}"] = f"=ROUND(A{r},2)"
        cells[f"E{r}"] = f"=ROUND(A{r}*0.4+B{r}*0.6,1)"
        cells[f"F{r}"] = f"=MAX(A{r},B{r})-MIN(A{r},B{r})"
        cells[f"G{r}"] = f"=ABS(A{r}-B{r})"
        cells[f"H{r}"] = f"=AND(A{r}>=60,B{r}>=60)"
        cells[f"I{r}"] = f"=OR(A{r}>=90,B{r}>=90)"
        cells[f"J{r}"] = f"=ROUND(B{r},2)"
        cells[f"K{r}"] = f"=ROUND(B{r},0)"
    cells["A20"] = f"=SUM(A{first}:A{last})"
    cells["A21"] = f'=COUNTIF(B{first}:B{last},">=60")'
    cells["A22"] = f'=COUNTIF(C{first}:C{last},"差")'
    cells["A23"] = f"=MAX(E{first}:E{last})"
    cells["A24"] = f"=MIN(E{first}:E{last})"
    cells["A25"] = f"=SUM(G{first}:G{last})"
    src = _write(tmp_path / "functions.xlsx", {"Sheet1": cells})

    out = recalc_many([src], tmp_path / "lo")[src]
    refs = [ref for ref in cells if isinstance(cells[ref], str)]
    got = _values(out, "Sheet1", refs)

    expected: dict[str, object] = {}
    for r, (x, y) in enumerate(ROWS, start=first):
        expected[f"C{r}"] = _grade(x)
        expected[f"D{r}"] = _excel_round(x, 2)
        expected[f"E{r}"] = _excel_round(x * 0.4 + y * 0.6, 1)
        expected[f"F{r}"] = max(x, y) - min(x, y)
        expected[f"G{r}"] = abs(x - y)
        expected[f"H{r}"] = x >= 60 and y >= 60
        expected[f"I{r}"] = x >= 90 or y >= 90
        expected[f"J{r}"] = _excel_round(y, 2)
        expected[f"K{r}"] = _excel_round(y, 0)
    weighted = [_excel_round(x * 0.4 + y * 0.6, 1) for x, y in ROWS]
    expected["A20"] = sum(x for x, _ in ROWS)
    expected["A21"] = sum(1 for _, y in ROWS if y >= 60)
    expected["A22"] = sum(1 for x, _ in ROWS if _grade(x) == "差")
    expected["A23"] = max(weighted)
    expected["A24"] = min(weighted)
    expected["A25"] = sum(abs(x - y) for x, y in ROWS)

    assert set(got) == set(expected)
    for ref, want in expected.items():
        if isinstance(want, bool) or isinstance(want, str):
            assert got[ref] == want, ref
            assert type(got[ref]) is type(want), ref
        else:
            assert got[ref] == pytest.approx(want, abs=1e-9), ref
    # Half-up rounding, not banker's / binary rounding: Python's round(0.285, 2)
    # is 0.28 and round(1.005, 2) is 1.0, LibreOffice (like Excel) says 0.29 / 1.01.
    assert got["D6"] == 0.29
    assert got["J6"] == 1.01
    assert got["K5"] == -3  # ROUND(-2.5, 0): ties away from zero


# --------------------------------------------------------------------------- "" results


def _raw_cell(xlsx: Path, ref: str) -> str:
    """The <c> element of ``ref`` on the first sheet, as raw XML text."""
    with zipfile.ZipFile(xlsx) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml").decode("utf-8")
    m = re.search(rf'<c r="{ref}"(?:[^>]*/>|.*?</c>)', xml)
    assert m, f"{ref} not in sheet xml"
    return m.group(0)


@lo_test
def test_formula_returning_empty_text(tmp_path: Path) -> None:
    src = _write(
        tmp_path / "empty.xlsx",
        {
            "Sheet1": {
                "A1": None,  # blank input
                "A2": 5,
                "B1": '=IF(A1="","",A1*2)',
                "B2": '=IF(A2="","",A2*2)',
                "B3": '=IF(B1="","空","有")',
                "B4": "=LEN(B1)",
            }
        },
    )
    out = recalc_many([src], tmp_path / "lo")[src]
    got = _values(out, "Sheet1", ["B1", "B2", "B3", "B4"])
    # openpyxl reads LibreOffice's cached "" (t="str", empty <v>) as None, the same
    # as a blank cell; the raw XML shows it is a text result and the stale 999 is gone.
    assert got == {"B1": None, "B2": 10, "B3": "空", "B4": 0}
    raw = _raw_cell(out, "B1")
    assert 't="str"' in raw
    assert re.search(r"<v>\s*</v>|<v/>", raw), raw


# --------------------------------------------------------------------------- PDF


@lo_test
def test_to_pdf_many_renders_chinese(tmp_path: Path) -> None:
    src = _write(
        tmp_path / "绩效.xlsx",
        {"评分表": {"A1": "部门整体支出绩效自评", "A2": 2, "B2": "=A2*21"}},
    )
    out = to_pdf_many([src], tmp_path / "pdf")[src]
    assert out == (tmp_path / "pdf" / "绩效.pdf").resolve()
    assert out.read_bytes()[:5] == b"%PDF-"
    # (Text overflowing into a non-empty neighbour cell is clipped in the PDF,
    # as on screen: keep A1's right-hand neighbour empty.)
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-layout", str(out), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "部门整体支出绩效自评" in text
        assert "42" in text.split()  # recalculated, not the cached 999
        assert "999" not in text
    if shutil.which("pdffonts"):
        fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
        assert re.search(r"wenquanyi|zenhei|cjk|noto.*(sc|cjk)", fonts, re.I), fonts


# --------------------------------------------------------------------------- errors


@lo_test
def test_unloadable_file_raises_with_soffice_output(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.xlsx", {"Sheet1": {"A1": 1, "A2": "=A1+1"}})
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is not a workbook")
    # A leftover output of an earlier run must not pass for a fresh conversion.
    (tmp_path / "lo").mkdir()
    shutil.copy(good, tmp_path / "lo" / "bad.xlsx")
    with pytest.raises(LibreOfficeError) as exc:
        recalc_many([good, bad], tmp_path / "lo")
    msg = str(exc.value)
    assert "bad.xlsx" in msg
    assert "could not be loaded" in msg  # soffice's own stderr is in the message


@lo_test
def test_timeout_raises(tmp_path: Path) -> None:
    src = _write(tmp_path / "t.xlsx", {"Sheet1": {"A1": 1}})
    with pytest.raises(LibreOfficeError, match="did not finish"):
        recalc_many([src], tmp_path / "lo", timeout=0.05)


def test_validation_needs_no_soffice(tmp_path: Path) -> None:
    # Pure validation paths: no soffice needed.
    assert recalc_many([], tmp_path / "lo") == {}
    with pytest.raises(FileNotFoundError):
        recalc_many([tmp_path / "missing.xlsx"], tmp_path / "lo")


def test_refuses_colliding_or_self_overwriting_outputs(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    one = _write(tmp_path / "x" / "same.xlsx", {"Sheet1": {"A1": 1}})
    two = _write(tmp_path / "y" / "same.xlsx", {"Sheet1": {"A1": 2}})
    with pytest.raises(ValueError, match="both be converted"):
        recalc_many([one, two], tmp_path / "lo")
    with pytest.raises(ValueError, match="overwrite the input"):
        recalc_many([one], tmp_path / "x")
