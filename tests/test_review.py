"""The annotated copy (perfxl.report.review): review sheet, marked cells, untouched input, atomic write."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from lo_recalc import soffice_available, to_pdf_many
from openpyxl.workbook.workbook import Workbook

import perfxl.atomic as atomic
from perfxl import __version__
from perfxl.check import check_file
from perfxl.check.result import CheckResult
from perfxl.engine.findings import ERROR, INFO, WARNING, Finding
from perfxl.form.prefill import load_prefill
from perfxl.form.template import write_template
from perfxl.report.review import write_review

SEED = Path(__file__).resolve().parents[1] / "sample_workbooks" / "君山区信访局_2020.yaml"
WHEN = datetime(2021, 4, 2, 10, 30)
EVIL = "=cmd|'/C calc'!A0"


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CheckResult]:
    prefill = load_prefill(SEED)
    path = tmp_path_factory.mktemp("seed") / "君山区信访局_2020.xlsx"
    write_template(path, None, prefill.unit, prefill.values, None, prefill.generated_at)
    return path, check_file(path)


@pytest.fixture(scope="module")
def reviewed(seed: tuple[Path, CheckResult], tmp_path_factory: pytest.TempPathFactory) -> dict:
    source, result = seed
    before = _sha(source)
    stat = source.stat()
    out = write_review(
        source, result, tmp_path_factory.mktemp("out") / "审核" / "君山区信访局_审核.xlsx", checked_at=WHEN
    )
    return {"source": source, "result": result, "out": out, "before": before, "stat": stat}


@contextmanager
def _open(path: Path) -> Iterator[Workbook]:
    wb = openpyxl.load_workbook(path)
    try:
        yield wb
    finally:
        wb.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pairs(ws) -> dict[str, object]:
    """Label → value of the review sheet's header block (labels are followed by their value)."""
    out: dict[str, object] = {}
    for row in ws.iter_rows(min_row=2, max_row=12):
        cells = [c for c in row if c.value is not None]
        for label, value in zip(cells, cells[1:], strict=False):
            if isinstance(label.value, str):
                out.setdefault(label.value, value.value)
    return out


def _finding_rows(ws) -> dict[str, list]:
    header = next(r for r in ws.iter_rows() if r[0].value == "序号" and r[3].value == "规则")
    rows: dict[str, list] = {}
    for row in ws.iter_rows(min_row=header[0].row + 1):
        if not isinstance(row[0].value, int):
            break
        rows.setdefault(row[3].value, []).append(row)
    return rows


def test_seed_sample_is_what_the_brief_expects(seed: tuple[Path, CheckResult]) -> None:
    _, result = seed
    assert result.counts[ERROR] == 1
    assert [f.rule for f in result.findings if f.severity == ERROR] == ["score.P3"]


def test_source_is_untouched(reviewed: dict) -> None:
    source = reviewed["source"]
    assert _sha(source) == reviewed["before"] == reviewed["result"].sha256
    assert source.stat().st_mtime_ns == reviewed["stat"].st_mtime_ns


def test_review_sheet_first_and_active(reviewed: dict) -> None:
    with _open(reviewed["source"]) as src, _open(reviewed["out"]) as wb:
        assert wb.sheetnames == ["审核意见", "评分项复核", *src.sheetnames]
        assert wb.active.title == "审核意见"
        assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] == ["审核意见"]


def test_header_and_totals(reviewed: dict) -> None:
    with _open(reviewed["out"]) as wb:
        ws = wb["审核意见"]
        assert ws["A1"].value == "审核意见"
        info = _pairs(ws)
        assert info["单位"] == "岳阳市君山区信访局"
        assert info["预算编码"] == "430611-XFJ"
        assert info["年度"] == 2020
        assert info["版本"] == "hunan-2020"
        assert info["文件"] == reviewed["source"].name
        assert info["SHA-256"] == _sha(reviewed["source"])
        assert info["审核时间"] == "2021-04-02 10:30"
        assert info["审核工具"] == f"perfxl {__version__}"
        total = next(r for r in ws.iter_rows() if r[0].value == "总分")
        assert [c.value for c in total[2:5]] == [98, 97, 1]
        assert total[2].number_format == "0.00"
        assert total[5].value == "有 1 项错误，需退回修改"
        grade = next(r for r in ws.iter_rows() if r[0].value == "评价等次")
        assert [c.value for c in grade[2:5]] == ["优秀", "优秀", "一致"]
        counts = reviewed["result"].counts
        assert grade[5].value == f"错误 1 项　警告 {counts['警告']} 项　提示 {counts['提示']} 项"


def test_p3_finding_row_links_to_its_cell(reviewed: dict) -> None:
    with _open(reviewed["out"]) as wb:
        ws = wb["审核意见"]
        (row,) = _finding_rows(ws)["score.P3"]
        assert [c.value for c in row[1:3]] == ["错误", "评分表!F8"]
        assert row[2].hyperlink is not None and row[2].hyperlink.location == "'评分表'!F8"
        assert row[2].hyperlink.target is None  # inside the workbook, no external relationship
        assert row[2].font.underline == "single"
        assert (row[4].value, row[5].value) == (3, 2)
        assert "按规则应为 2 分" in row[6].value
        assert row[1].fill.fgColor.rgb.endswith("FFC7CE")
        assert sum(len(v) for v in _finding_rows(ws).values()) == len(reviewed["result"].findings)


def test_findings_table_filter_freeze_print(reviewed: dict) -> None:
    with _open(reviewed["out"]) as wb:
        ws = wb["审核意见"]
        head = next(r for r in ws.iter_rows() if r[0].value == "序号")[0].row
        assert ws.auto_filter.ref == f"A{head}:I{head + len(reviewed['result'].findings)}"
        assert ws.freeze_panes == f"A{head + 1}"
        assert ws.print_title_rows == f"${head}:${head}"
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert (int(ws.page_setup.fitToWidth), int(ws.page_setup.fitToHeight)) == (1, 0)
        assert "岳阳市君山区信访局" in ws.oddFooter.left.text
        assert ws.oddFooter.center.text == "第 &P 页，共 &N 页"
        assert ws["G" + str(head + 1)].alignment.wrap_text
        assert {ws[f"{c}{head}"].font.name for c in "ABCDEFG"} == {"宋体"}
        assert ws[f"G{head + 1}"].font.name == "仿宋"


def test_item_table(reviewed: dict) -> None:
    """On a sheet of its own, so it prints under its own header, never under the findings' one."""
    with _open(reviewed["out"]) as wb:
        ws = wb["评分项复核"]
        assert ws.print_title_rows == "$2:$2" and ws.oddFooter.right.text == "评分项复核"
        head = next(r for r in ws.iter_rows() if r[0].value == "评分项")[0].row
        items = reviewed["result"].items
        rows = {r[0].value: r for r in ws.iter_rows(min_row=head + 1, max_row=head + len(items))}
        assert list(rows) == [i.id for i in items]
        p3 = rows["P3"]
        assert [c.value for c in p3[:5]] == ["P3", "资金结余", 3, 3, 2]
        assert p3[0].fill.fgColor.rgb.endswith("FFC7CE")
        assert rows["P1"][0].fill.fill_type is None  # self == recomputed: not highlighted
        assert "不适用" in rows["I3"][6].value


def test_rule_ids_never_break_mid_word(seed: tuple[Path, CheckResult], tmp_path: Path) -> None:
    """The 规则 column is as wide as the longest rule id shown and does not wrap."""
    source, result = seed
    out = write_review(source, result, tmp_path / "r.xlsx")
    with _open(out) as wb:
        ws = wb["审核意见"]
        longest = max(len(f.rule) for f in result.findings)
        assert ws.column_dimensions["D"].width >= longest
        rules = [r[3] for r in ws.iter_rows() if r[3].value in {f.rule for f in result.findings}]
        assert rules and all(not c.alignment.wrap_text for c in rules)


def test_flagged_cells_filled_and_commented(reviewed: dict) -> None:
    p3 = next(f for f in reviewed["result"].findings if f.rule == "score.P3")
    with _open(reviewed["out"]) as wb:
        cell = wb["评分表"]["F8"]
        assert cell.fill.fgColor.rgb.endswith("FFC7CE")
        assert cell.border.left.style == "medium" and cell.border.left.color.rgb.endswith("C00000")
        assert cell.comment is not None and cell.comment.author == "perfxl 审核"
        assert p3.message in cell.comment.text
        info = wb["评分表"]["F5"]  # a 提示
        assert info.fill.fgColor.rgb.endswith("DDEBF7") and "不适用" in info.comment.text
        assert wb["绩效自评"]["E16"].fill.fgColor.rgb.endswith("DDEBF7")
        assert wb["评分表"]["F9"].comment is None
        assert all(ws.protection.sheet for ws in wb.worksheets[2:])  # protection kept


def test_original_sheets_unchanged(reviewed: dict) -> None:
    with _open(reviewed["source"]) as src, _open(reviewed["out"]) as wb:
        for ws in src.worksheets:
            copy = wb[ws.title]
            assert copy.sheet_state == ws.sheet_state
            assert copy.max_row == ws.max_row and copy.max_column == ws.max_column
            for row in ws.iter_rows():
                for cell in row:
                    other = copy[cell.coordinate]
                    assert (other.value, other.data_type) == (cell.value, cell.data_type), (
                        f"{ws.title}!{cell.coordinate}"
                    )
                    assert other.number_format == cell.number_format
                    assert other.protection.locked == cell.protection.locked
            assert {str(r) for r in copy.merged_cells.ranges} == {str(r) for r in ws.merged_cells.ranges}
            assert [(v.sqref, v.formula1, v.type) for v in copy.data_validations.dataValidation] == [
                (v.sqref, v.formula1, v.type) for v in ws.data_validations.dataValidation
            ]
            assert copy.print_title_rows == ws.print_title_rows
            assert copy.protection.sheet == ws.protection.sheet
            assert copy.protection.password == ws.protection.password
        names = {n: d.attr_text for n, d in src.defined_names.items()}
        assert names and {n: d.attr_text for n, d in wb.defined_names.items()} == names
        assert {p.name: p.value for p in wb.custom_doc_props.props} == {
            p.name: p.value for p in src.custom_doc_props.props
        }


def test_atomic_replace_of_existing_output(
    seed: tuple[Path, CheckResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, result = seed
    out = tmp_path / "审核.xlsx"
    out.write_bytes(b"old")
    calls: list[tuple[Path, Path]] = []
    real = os.replace

    def spy(src, dst):
        assert Path(dst).read_bytes() == b"old"  # untouched until the very move
        calls.append((Path(src), Path(dst)))
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", spy)
    assert write_review(source, result, out, WHEN) == out
    assert len(calls) == 1 and calls[0][1] == out and calls[0][0].parent == out.parent
    assert sorted(p.name for p in tmp_path.iterdir()) == ["审核.xlsx"]
    with _open(out) as wb:
        assert wb.sheetnames[0] == "审核意见"


def test_failed_write_leaves_no_trace(
    seed: tuple[Path, CheckResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, result = seed
    out = tmp_path / "审核.xlsx"
    out.write_bytes(b"old")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_review(source, result, out, WHEN)
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["审核.xlsx"]


def test_user_text_never_becomes_a_formula(seed: tuple[Path, CheckResult], tmp_path: Path) -> None:
    source, result = seed
    evil = dataclasses.replace(
        result,
        unit=EVIL,
        code="+1+1",
        findings=[
            *result.findings,
            Finding("test.evil", WARNING, "@SUM(1)", None, None, reported="-2+3", expected=EVIL),
        ],
    )
    out = write_review(source, evil, tmp_path / "evil.xlsx", WHEN)
    with _open(out) as wb:
        ws = wb["审核意见"]
        texts = {c.value: c for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
        for text in (EVIL, "+1+1", "@SUM(1)", "-2+3"):
            assert texts[text].data_type == "s", text
            assert texts[text].quotePrefix
        assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)
        assert EVIL in ws.oddFooter.left.text


def test_odd_locations_do_not_crash(seed: tuple[Path, CheckResult], tmp_path: Path) -> None:
    source, result = seed
    odd = dataclasses.replace(
        result,
        findings=[
            Finding("x.nosheet", ERROR, "工作表缺失", "不存在的表", "B2"),
            Finding("x.nocell", WARNING, "整表问题", "收支情况", None),
            Finding("x.nowhere", INFO, "文件级提示"),
            Finding("x.badref", INFO, "坏引用", "收支情况", "not-a-cell"),
            Finding("x.merged", WARNING, "合并单元格内", "评分表", "B4"),  # inside merged B3:B5
            Finding("x.merged2", INFO, "同一单元格的次要问题", "评分表", "B3"),
        ],
    )
    out = write_review(source, odd, tmp_path / "odd.xlsx", WHEN)
    with _open(out) as wb:
        rows = _finding_rows(wb["审核意见"])
        assert rows["x.nosheet"][0][2].value == "不存在的表!B2（工作表不存在）"
        assert rows["x.nosheet"][0][2].hyperlink is None
        assert rows["x.nowhere"][0][2].value == "（全表）"
        assert rows["x.nocell"][0][2].value == "收支情况"
        assert rows["x.badref"][0][2].hyperlink is None
        assert rows["x.merged"][0][2].hyperlink.location == "'评分表'!B4"
        top = wb["评分表"]["B3"]
        assert top.fill.fgColor.rgb.endswith("FFEB9C")  # the worse of 警告 and 提示
        assert "合并单元格内" in top.comment.text and "次要问题" in top.comment.text
        assert wb["审核意见"]["A1"].value == "审核意见"


def test_clean_result_says_so(seed: tuple[Path, CheckResult], tmp_path: Path) -> None:
    source, result = seed
    out = write_review(source, dataclasses.replace(result, findings=[]), tmp_path / "ok.xlsx", WHEN)
    with _open(out) as wb:
        values = [c.value for row in wb["审核意见"].iter_rows() for c in row]
        assert "未发现错误" in values and "未发现问题" in values


def test_refuses_unusable_changed_or_self(seed: tuple[Path, CheckResult], tmp_path: Path) -> None:
    source, result = seed
    with pytest.raises(ValueError):
        write_review(source, dataclasses.replace(result, status="unusable", reason="坏"), tmp_path / "a.xlsx")
    with pytest.raises(ValueError, match="SHA-256"):
        write_review(source, dataclasses.replace(result, sha256="0" * 64), tmp_path / "b.xlsx")
    copy = tmp_path / "c.xlsx"
    shutil.copyfile(source, copy)
    with pytest.raises(ValueError):
        write_review(copy, result, copy)
    assert _sha(copy) == result.sha256
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.xlsx"]


@pytest.mark.libreoffice
@pytest.mark.skipif(
    not soffice_available() or not shutil.which("pdftotext"), reason="needs soffice and pdftotext"
)
def test_review_prints(reviewed: dict, tmp_path: Path) -> None:
    pdf = to_pdf_many([reviewed["out"]], tmp_path)[reviewed["out"]]
    first = subprocess.run(
        ["pdftotext", "-l", "2", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "审核意见" in first and "资金结余" in first and "按规则应为 2 分" in first
    assert "第 1 页" in first
    pages = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\f")
    items = next(p for p in pages if "可接受得分" in p)
    assert "序号" not in items  # the findings' header is not repeated above the item table
