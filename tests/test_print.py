"""What a person sees on paper: the blank template, the seed sample and a summary, printed by LibreOffice.

Each workbook is rendered to PDF once (``soffice --convert-to pdf``) and read back with pdftotext:
page by page, and with the position of every line where a text must stay inside its row.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import mutate as m
import openpyxl
import pytest
from defusedxml import ElementTree
from lo_recalc import soffice_available, to_pdf_many

from perfxl.batch.consolidate import consolidate
from perfxl.engine import selfcheck
from perfxl.engine.layout import build_plan
from perfxl.form.template import write_template
from perfxl.spec import load_edition

SAMPLES = Path(__file__).resolve().parent.parent / "sample_workbooks"
SEED = SAMPLES / "君山区信访局_2020.xlsx"

needs_pdf = pytest.mark.skipif(
    not soffice_available() or not shutil.which("pdftotext"), reason="needs soffice and pdftotext"
)


# --------------------------------------------------------------------------- the plan (no rendering)


def test_no_rubric_section_is_split_across_pages() -> None:
    """Each 一级指标 (投入, 过程, 产出, 效果), the totals and the 得分汇总 print whole on one page."""
    sp = build_plan(load_edition()).sheet("rubric")
    sections = [
        (s.row, s.row + s.rows - 1) for s in sp.slots if s.col == 0 and s.role == "label" and s.rows > 1
    ]
    assert len(sections) >= 8  # four in the item table, four in the 得分汇总
    for top, last in sections:
        assert not [b for b in sp.breaks if top < b <= last], (top, last, sp.breaks)


def test_grade_thresholds_are_inside_the_table() -> None:
    sp = build_plan(load_edition()).sheet("rubric")
    (note,) = [s for s in sp.slots if s.text.startswith("优秀 ≥")]
    assert note.role == "text"  # a bordered cell of the table, not a note beside it


# --------------------------------------------------------------------------- rendered


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("print")
    blank = tmp / "blank.xlsx"
    write_template(blank)
    seed = Path(shutil.copy(SEED, tmp / "seed.xlsx"))
    batch = tmp / "batch"
    batch.mkdir()
    shutil.copy(SEED, batch / "信访局.xlsx")
    step = m.set_meta(
        m.scale_amounts(SEED, tmp / "a.xlsx", 10000), tmp / "b.xlsx", "unit", "岳阳市君山区财政局"
    )
    m.set_meta(step, batch / "财政局.xlsx", "code", "430611-CZJ")
    summary = tmp / "summary.xlsx"
    consolidate([batch], summary, workers=1)
    out = to_pdf_many([blank, seed, summary], tmp / "pdf")
    return {"blank": out[blank], "seed": out[seed], "summary": out[summary], "summary.xlsx": summary}


def pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    return text.stdout.split("\f")


def form_pages(pdf: Path) -> list[str]:
    """The pages as ``pages``, those of the 自查 sheet blanked: it repeats the form's labels (each
    check names its cell), and these tests are about the form's own pages."""
    return ["" if _footer(p).endswith(selfcheck.SHEET) else p for p in pages(pdf)]


def _footer(page: str) -> str:
    filled = [line.strip() for line in page.splitlines() if line.strip()]
    return filled[-1] if filled else ""


def lines(pdf: Path) -> list[tuple[int, float, float, str, float]]:
    """(page, top, bottom, text, left) of every printed line."""
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, check=True).stdout
    root = ElementTree.fromstring(xml)
    out = []
    for n, page in enumerate(root.iter("{http://www.w3.org/1999/xhtml}page")):
        for line in page.iter("{http://www.w3.org/1999/xhtml}line"):
            words = [w.text or "" for w in line.iter("{http://www.w3.org/1999/xhtml}word")]
            box = [float(line.get(k, 0)) for k in ("yMin", "yMax", "xMin")]
            out.append((n, box[0], box[1], "".join(words), box[2]))
    return out


@pytest.mark.libreoffice
@needs_pdf
@pytest.mark.parametrize("which", ["blank", "seed"])
def test_output_block_prints_whole(which: str, pdfs: dict[str, Path]) -> None:
    """The 产出 block on one page, its label whole (it was cut by the page break)."""
    names = [
        "推进全面小康建设",
        "建设湖南新增极",
        "《政府工作报告》",
        "省市重点民生实事",
        "省市重点工程",
        "其他工作实绩",
    ]
    text = [re.sub(r"\s", "", p) for p in form_pages(pdfs[which])]
    holding = {n for n, page in enumerate(text) for name in names if name in page}
    assert len(holding) == 1, holding
    (page,) = holding
    form = {n for n, p in enumerate(text) if p}
    label = [
        x for x in lines(pdfs[which]) if x[0] in form and re.sub(r"\s", "", x[3]) in ("产出", "（25分）")
    ]
    assert label and {x[0] for x in label if x[0] != page} <= {page + 1}  # the 得分汇总's 产出 may follow
    assert [x[3] for x in label if x[0] == page].count("（25分）") == 2  # 产出 and 职责履行, whole


@pytest.mark.libreoffice
@needs_pdf
def test_standards_stay_inside_their_rows(pdfs: dict[str, Path]) -> None:
    """No 评分标准 runs into the row below (those of 资金使用合规性 and 预决算信息公开性 did): the lines
    of the 评分标准 column, top to bottom, never overlap."""
    printed = lines(pdfs["blank"])
    first = next(x for x in printed if x[3].startswith("以100%为标准"))  # I1's, at the column's left edge
    column = sorted((x for x in printed if abs(x[4] - first[4]) < 1.5), key=lambda x: (x[0], x[1]))
    assert len(column) > 20
    for upper, lower in zip(column, column[1:], strict=False):
        if upper[0] == lower[0]:
            assert upper[2] <= lower[1] + 0.5, (upper[3], lower[3])


@pytest.mark.libreoffice
@needs_pdf
def test_a_short_deduction_reason_is_one_line(pdfs: dict[str, Path]) -> None:
    """P1's 扣分原因 on 评分表 prints on one line (it wrapped to a lone “。”)."""
    rubric = {n for n, page in enumerate(pages(pdfs["seed"])) if "扣分原因和其他说明" in page}
    reason = [x[3] for x in lines(pdfs["seed"]) if x[0] in rubric and "一定差异" in x[3]]
    assert reason == ["2020年决算与年初预算存在一定差异。"], reason


@pytest.mark.libreoffice
@needs_pdf
def test_blank_inputs_show_blank(pdfs: dict[str, Path]) -> None:
    """On the blank template the 满意度 result is empty, not “0.00”; on the sample it is 95."""
    for which, shown in (("blank", None), ("seed", "95.00")):
        text = "\n".join(form_pages(pdfs[which]))
        (row,) = [line for line in text.splitlines() if line.strip().startswith("满意度") and "E4" in line]
        assert ("0.00" not in row) if shown is None else (shown in row), (which, row)
    # nor a 自评 total before any self-score is given (the 参考 column shows what the rules give)
    blank = "\n".join(form_pages(pdfs["blank"])).splitlines()
    (overall,) = [line for line in blank if "绩效自评综合得分" in line]
    assert not re.search(r"\d", overall), overall


@pytest.mark.libreoffice
@needs_pdf
def test_summary_headings_and_chart_titles(pdfs: dict[str, Path]) -> None:
    """收支汇总: the tables' titles whole (the unit is in the page heading); the charts sheet's
    title once, its data page titled on its own."""
    text = pages(pdfs["summary"])
    finance = [p for p in text if "收支汇总" in p]
    assert finance and "金额单位：万元" in finance[0]
    wb = openpyxl.load_workbook(pdfs["summary.xlsx"])
    try:
        heads = [c.value for c in wb["收支汇总"][1] if c.value]
    finally:
        wb.close()
    assert "年度收入情况" in heads and not [h for h in heads if "万元" in str(h)]
    assert sum(p.count("数据见下页") for p in text) == 1
    assert any("图表数据" in p for p in text)
