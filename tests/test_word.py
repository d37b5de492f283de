"""`perfxl report`: the 绩效评价报告 as Word, read back with python-docx and rendered by LibreOffice.

The seed's return gives the seed's own report; a return whose 评价报告 is blank gives the drafts,
each marked. Rendering to PDF proves the file opens in an office suite other than the one that
wrote it; with ``PERFXL_RENDER_DIR`` set, the pages are kept there as PNGs for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document
from docx.oxml.ns import qn
from lo_recalc import soffice_available, to_pdf_many

from perfxl import api
from perfxl.cli import cli
from perfxl.form.prefill import load_prefill
from perfxl.form.template import write_template
from perfxl.report.word import BLANK_MARK, DRAFT_MARK

ROOT = Path(__file__).resolve().parents[1]
SEED_DATA = ROOT / "sample_workbooks" / "君山区信访局_2020.yaml"
SEED = ROOT / "sample_workbooks" / "君山区信访局_2020.xlsx"
CHAPTERS = [
    "一、部门（单位）概况",
    "二、部门（单位）整体支出管理及使用情况",
    "三、部门（单位）专项组织实施情况",
    "四、部门（单位）整体支出绩效情况",
    "五、存在的主要问题",
    "六、改进措施和有关建议",
]


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The seed's report, and the report of the seed's tables with nothing written in 评价报告."""
    root = tmp_path_factory.mktemp("word")
    data = load_prefill(SEED_DATA)
    blank = root / "未写报告.xlsx"
    tables_only = {k: v for k, v in data.values.items() if not k.startswith("report.")}
    write_template(blank, unit=data.unit, values=tables_only, generated_at=data.generated_at)
    seed = root / SEED.name
    shutil.copy(SEED, seed)
    out = {}
    for source, name in ((seed, "seed"), (blank, "drafts")):
        (done,) = api.write_reports([source], output=root / f"{name}.docx")
        assert done.path == root / f"{name}.docx" and done.problem is None
        out[name] = done.path
        out[f"{name}.drafted"] = done.drafted  # type: ignore[assignment]
    return out


def _headings(path: Path, style: str) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs if p.style.name == style]


def test_title_and_sections_in_order(books: dict[str, Path]) -> None:
    doc = Document(str(books["seed"]))
    texts = [p.text for p in doc.paragraphs]
    assert texts[:2] == ["岳阳市君山区信访局", "2020年部门整体支出绩效评价报告"]
    assert texts[3].startswith("根据《君山区财政局关于开展2021年度财政支出绩效自评工作的通知》")
    assert _headings(books["seed"], "Heading 1") == [*CHAPTERS, "附表1", "附表2", "附表3", "附表4"]
    assert _headings(books["seed"], "Heading 2")[:2] == [
        "（一）部门（单位）基本情况",
        "（二）部门（单位）整体支出规模、使用方向和主要内容、涉及范围等",
    ]
    assert "2020年我局整体支出256.70万元，其中基本支出256.70万元，占总支出的100%，" in "".join(texts)
    assert not any(DRAFT_MARK in t or BLANK_MARK in t for t in texts)  # the seed wrote every section
    signed = texts.index("年    月    日")  # the unit's name and a date to fill, after 六
    assert texts[signed - 1] == "岳阳市君山区信访局" and texts.index(CHAPTERS[-1]) < signed < texts.index(
        "附表1"
    )


def test_a_blank_section_gets_its_draft_marked_as_such(books: dict[str, Path]) -> None:
    texts = [p.text for p in Document(str(books["drafts"])).paragraphs]
    drafted = books["drafts.drafted"]
    assert len(drafted) == 9  # every section with a draft; 六 has none
    assert sum(DRAFT_MARK in t for t in texts) == 9 and sum(BLANK_MARK in t for t in texts) == 1
    at = texts.index("（二）部门（单位）整体支出规模、使用方向和主要内容、涉及范围等")
    assert DRAFT_MARK in texts[at + 1] and texts[at + 2].startswith("2020年我单位整体支出256.70万元")
    assert texts[texts.index("六、改进措施和有关建议") + 1] == BLANK_MARK


def test_tables_income_expense_sangong_and_scores(books: dict[str, Path]) -> None:
    tables = Document(str(books["seed"])).tables
    assert len(tables) == 4

    def rows(t: object) -> list[list[str]]:
        return [[c.text for c in r.cells] for r in t.rows]  # type: ignore[attr-defined]

    income, expense, sangong, scores = (rows(t) for t in tables)
    assert income[0][:3] == ["机构名称", "收入合计", "上年结转"]
    assert income[1][:4] == ["局机关及二级机构汇总", "259.99", "3.67", "256.32"] and len(income) == 3
    assert expense[1] == [
        "局机关及二级机构汇总",
        "256.70",
        "256.70",
        "115.25",
        "141.45",
        "0.00",
        "-0.38",
        "3.29",
    ]
    assert sangong[2][:3] == ["1、局机关", "4.79", "4.79"]
    assert scores[0] == [
        "一级指标",
        "二级指标",
        "三级指标",
        "分值",
        "自评得分",
        "复核得分",
        "扣分原因和其他说明",
    ]
    balance = next(r for r in scores if r[2] == "资金结余")
    assert balance[3:6] == ["3", "3", "2"]
    adjusted = next(r for r in scores if r[2] == "预算调整率")
    assert adjusted[4:] == ["2", "2", "2020年决算与年初预算存在一定差异。"]
    assert scores[-2][3:6] == ["100", "98", "97"] and scores[-1][4:6] == ["优秀", "优秀"]
    bold = [r.font.bold for r in tables[3].rows[scores.index(balance)].cells[5].paragraphs[0].runs]
    assert bold == [True]  # a recomputed score that differs from the self-score stands out


def test_fonts_page_and_page_numbers(books: dict[str, Path]) -> None:
    doc = Document(str(books["seed"]))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)

    def east_asian(style: str) -> str:
        fonts = doc.styles[style].element.rPr.find(qn("w:rFonts"))
        return fonts.get(qn("w:eastAsia"))

    assert (east_asian("Normal"), east_asian("Heading 1"), east_asian("Heading 2")) == (
        "仿宋",
        "黑体",
        "黑体",
    )
    footer = section.footer.paragraphs[0]._p.xml
    assert 'w:instr="PAGE"' in footer


@pytest.mark.libreoffice
@pytest.mark.skipif(
    not soffice_available() or shutil.which("pdftotext") is None, reason="needs soffice, poppler"
)
def test_libreoffice_renders_every_page(books: dict[str, Path], tmp_path: Path) -> None:
    """One soffice call renders both reports; every page has its number, the text is Chinese."""
    pdfs = to_pdf_many([books["seed"], books["drafts"]], tmp_path)
    keep = os.environ.get("PERFXL_RENDER_DIR")
    for name, pdf in zip(("seed", "drafts"), pdfs.values(), strict=True):
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        pages = ["".join(page.split()) for page in text.split("\f")[:-1]]  # pdftotext spaces out mixed text
        assert len(pages) >= 5, name
        for n, page in enumerate(pages, start=1):
            assert page.endswith(f"—{n}—"), (name, n)
        assert (
            "2020年部门整体支出绩效评价报告" in pages[0]
            and "部门整体支出绩效评价评分表" in pages[-2] + pages[-1]
        )
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            subprocess.run(["pdftoppm", "-png", "-r", "70", str(pdf), str(Path(keep) / name)], check=True)


# ------------------------------------------------------------------ the command


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stderr


def test_cli_one_file_and_a_folder_one_report_per_unit(tmp_path: Path) -> None:
    shutil.copy(SEED, tmp_path / "a.xlsx")
    code, err = run("report", str(tmp_path / "a.xlsx"), "-o", str(tmp_path / "报告.docx"))
    assert code == 1 and (tmp_path / "报告.docx").is_file() and "→" in err  # the return has a 错误 (P3)
    code, err = run("report", str(tmp_path / "a.xlsx"), "-o", str(tmp_path / "报告.docx"))
    assert code == 2 and "已存在" in err and "--force" in err
    folder = tmp_path / "returns"
    folder.mkdir()
    shutil.copy(SEED, folder / "first.xlsx")
    shutil.copy(SEED, folder / "second.xlsx")
    os.utime(folder / "first.xlsx", (1_600_000_000, 1_600_000_000))  # an older copy of the same return
    (folder / "not-a-workbook.xlsx").write_bytes(b"hello")
    code, err = run("report", str(folder), "--out-dir", str(tmp_path / "out"))
    assert code == 2 and "not-a-workbook.xlsx" in err and "无法生成报告" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["second_绩效评价报告.docx"]
    assert "first.xlsx：同一单位同一年度采用较新的一份 second.xlsx" in err
    code, err = run("report", str(folder), "-o", str(tmp_path / "x.docx"))
    assert code == 2 and "--out-dir" in err
