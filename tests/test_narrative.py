"""The 评价报告's text against the tables: the seed's report checks clean, realistic mistakes are found.

Workbooks are made with the template writer and checked as a bureau would check them; the mistakes
are the ones units make (issue 11): a retyped total, a share on the wrong base, 元 written for
万元, a staff count that includes the retired. The drafts the template suggests always check clean.
"""

from __future__ import annotations

import random
import shutil
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from inputgen import PROFILES, random_inputs

from perfxl.check import check_file
from perfxl.check.narrative import scan
from perfxl.engine.compute import compute
from perfxl.engine.layout import build_plan
from perfxl.form.prefill import coerce, load_prefill
from perfxl.form.template import write_template
from perfxl.spec import expr, load_edition
from perfxl.spec.narrative import draft_id, text_ids

ROOT = Path(__file__).resolve().parents[1]
SEED_DATA = ROOT / "sample_workbooks" / "君山区信访局_2020.yaml"
SEED = ROOT / "sample_workbooks" / "君山区信访局_2020.xlsx"
EDITION = load_edition()
LEXICON = EDITION.rubric.lexicon
PLAN = build_plan(EDITION)
assert LEXICON is not None
KINDS = {
    f: {"amount": "money", "integer": "count", "percent": "percent"}[
        PLAN.cells[next(expr.refs(f.value))].type
    ]
    for f in LEXICON.figures
}


def ties(text: str) -> list[tuple[str, str]]:
    """(quoted snippet, what it is compared with) of every figure the checker ties in ``text``."""
    out = []
    for t in scan(text, LEXICON, KINDS):
        what = (
            expr.to_excel(t.figure.value, str)
            if t.figure
            else f"{expr.to_excel(t.subject.value, str)} / {expr.to_excel(t.base.value, str)}"  # type: ignore[union-attr]
        )
        out.append((text[t.start : t.stated.end], what))
    return out


def narrative_findings(path: Path) -> list[Any]:
    return [f for f in check_file(path).findings if f.rule.startswith("narrative.")]


# ------------------------------------------------------------------ what is tied, what is left alone


def test_the_seeds_spending_sentence_is_tied_figure_by_figure() -> None:
    text = load_prefill(SEED_DATA).values["report.scale"]
    assert ties(text) == [
        ("整体支出256.70万元", "expense.total.total"),
        ("基本支出256.70万元", "expense.total.basic"),
        ("占总支出的100%", "expense.total.basic / expense.total.total"),
        ("人员支出为115.25万元", "expense.total.personnel"),
        ("公用支出141.45万元", "expense.total.public"),
        ("项目支出0万元", "expense.total.project"),
        ("结转和结余3.29万元", "expense.total.balance_cum"),
    ]


def test_the_seeds_sangong_sentence_ties_the_share_to_the_spending_not_to_the_base() -> None:
    text = (
        "2020年三公经费支出4.79万元，财政下达控制数为4.86万元，完成财政下达控制数的98.56%，"
        "其中因公出国（境）费0万元"
    )
    assert ties(text) == [
        ("三公经费支出4.79万元", "sangong.total.total"),
        ("控制数为4.86万元", "basis.sangong_budget"),
        ("完成财政下达控制数的98.56%", "sangong.total.total / basis.sangong_budget"),
        ("因公出国（境）费0万元", "sangong.total.abroad"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "2020年通过信访信息系统办理信访事项92件",  # no phrase names it
        "依法处置违法上访，训诫13人次，依法行政拘留1人",  # 人次 is no count of staff; 行政 no phrase
        "其中机关本级行政编制4人、局所属事业编制6名",  # parts of the 编制, not the total
        "本年专项资金共计支出0万元，比上年减少100%",  # a change, not a share
        "网信占比达到55%，群众满意率达到95%",  # no “占…的”
        "上年三公经费5.20万元",  # last year's
        "二级机构基本支出50万元",  # a part of the 汇总
        "使用当年财政拨款支出4.79万元",  # 财政拨款 is not in the lexicon
        "三公经费预算数为4.86万元",  # a budget, not the spending
        "项目支出与上年相比增加12.5万元",  # too far from its phrase
    ],
)
def test_figures_no_phrase_ties_are_left_alone(text: str) -> None:
    assert ties(text) == []


def test_a_phrase_right_after_another_names_what_the_first_does() -> None:
    assert ties("三公经费支出合计4.79万元") == [("三公经费支出合计4.79万元", "sangong.total.total")]
    assert ties("基本支出中人员支出为115.25万元") == [("人员支出为115.25万元", "expense.total.personnel")]


def test_full_width_digits_and_yuan_are_read() -> None:
    found = scan("整体支出２５６．７０万元，公用支出1,414,500元", LEXICON, KINDS)
    assert [(t.stated.value, t.stated.decimals, t.stated.unit) for t in found] == [
        (Decimal("256.70"), 2, "万元"),
        (Decimal("141.4500"), 4, "元"),
    ]


# ------------------------------------------------------------------ the seed, and realistic mistakes


def test_the_seeds_own_report_checks_clean() -> None:
    data = load_prefill(SEED_DATA)
    written = [k for k in data.values if k.startswith("report.")]
    assert len(written) == 12 and sum(len(str(data.values[k])) for k in written) > 2000
    assert narrative_findings(SEED) == []


def _seed_with(tmp_path: Path, changes: dict[str, Any], report: dict[str, str]) -> Path:
    """The seed's tables with ``changes``, and only ``report`` as its narrative."""
    data = load_prefill(SEED_DATA)
    values = {k: v for k, v in data.values.items() if not k.startswith("report.")}
    values.update(changes)
    values.update({f"report.{k}": v for k, v in report.items()})
    path = tmp_path / "return.xlsx"
    write_template(path, unit=data.unit, values=values, generated_at=data.generated_at)
    return path


MISTAKES = [
    pytest.param(
        {},
        {"scale": "2020年我局整体支出256.80万元，其中基本支出256.70万元。"},
        "narrative.figure",
        [
            "评价报告!B11 “整体支出256.80万元”与 收支情况!B15 支出合计 256.70 万元不一致",
            "原句：“2020年我局整体支出",
        ],
        id="retyped-total",
    ),
    pytest.param(
        {"expense.org.project": "43.30"},
        {"basic": "2020年基本支出256.70万元，其中：工资福利支出102.93万元，占基本支出的34.31%。"},
        "narrative.share",
        [
            "“占基本支出的34.31%”与按 评分依据!B34 工资福利支出 102.93 万元 ÷ "
            "收支情况!C15 基本支出 256.70 万元计算的 40.1% 不一致",
            "34.31% 是占支出合计的比例，基数是否写错了？",
        ],
        id="share-on-the-wrong-base",
    ),
    pytest.param(
        {},
        {"scale": "基本支出中人员支出为115.25万元，公用支出141.45元。"},
        "narrative.figure",
        ["“公用支出141.45元”与 收支情况!E15 公用支出 141.45 万元不一致", "单位应为“万元”？"],
        id="yuan-for-wan",
    ),
    pytest.param(
        {"unit.staff_quota": 113, "unit.staff_actual": 113},
        {"overview": "本单位为区财政全额预算拨款单位。2020年编制人员205人，实有人数为113人。"},
        "narrative.figure",
        ["“编制人员205人”与 基本概况!B5 人员编制 113 人不一致"],
        id="staff-with-the-retired",
    ),
    pytest.param(
        {},
        {"basic": "2020年三公经费支出5.20万元，财政下达控制数为4.86万元，完成财政下达控制数的98.56%。"},
        "narrative.figure",
        ["“三公经费支出5.20万元”与 收支情况!B23 三公经费合计 4.79 万元不一致"],
        id="last-years-number",
    ),
    pytest.param(
        {"basis.sangong_budget": "5.00"},
        {"basic": "三公经费支出4.79万元，财政下达控制数为5.00万元，完成财政下达控制数的98.56%。"},
        "narrative.share",
        [
            "“完成财政下达控制数的98.56%”与按 收支情况!B23 三公经费合计 4.79 万元 ÷ "
            "评分依据!B5 本年“三公”经费预算控制数 5.00 万元计算的 95.8% 不一致"
        ],
        id="share-not-recomputed",
    ),
]


@pytest.mark.parametrize(("changes", "report", "rule", "fragments"), MISTAKES)
def test_each_realistic_mistake_is_found(
    tmp_path: Path, changes: dict[str, Any], report: dict[str, str], rule: str, fragments: list[str]
) -> None:
    found = narrative_findings(_seed_with(tmp_path, changes, report))
    assert [(f.rule, f.severity) for f in found] == [(rule, "警告")], [f.message for f in found]
    for fragment in fragments:
        assert fragment in found[0].message, found[0].message
    assert found[0].sheet == "评价报告" and found[0].cell


def test_the_rounding_a_report_may_use_is_accepted(tmp_path: Path) -> None:
    report = {
        "scale": "2020年我局整体支出约257万元，其中基本支出256.7万元，占总支出的100.0%。",
        "basic": "工资福利支出102.93万元，占基本支出的40%；工资福利支出102.93万元，占基本支出的40.10%。",
        "special": "公用支出1,414,500元。",
    }
    assert narrative_findings(_seed_with(tmp_path, {}, report)) == []


def test_a_figure_whose_table_cell_is_blank_is_left_alone(tmp_path: Path) -> None:
    changes = {"basis.econ_wages": None}
    report = {"basic": "工资福利支出99.99万元，占基本支出的38.95%。"}
    assert narrative_findings(_seed_with(tmp_path, changes, report)) == []


def test_every_text_row_of_a_section_is_read(tmp_path: Path) -> None:
    path = _seed_with(tmp_path, {}, {"performance.3": "全年整体支出300万元。"})
    (found,) = narrative_findings(path)
    assert found.cell == PLAN.cells["report.performance.3"].ref and "300" in found.message


def test_a_draft_typed_over_is_checked_as_the_units_text(tmp_path: Path) -> None:
    source = _seed_with(tmp_path, {}, {})
    changed = tmp_path / "typed-over.xlsx"
    cell = PLAN.cells[draft_id(next(p for p in EDITION.form.narrative.parts if p.id == "scale"))]  # type: ignore[union-attr]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        wb = openpyxl.load_workbook(source)
    wb[cell.sheet][cell.ref].value = "2020年我局整体支出265.70万元。"
    wb.save(changed)
    result = check_file(changed)
    rules = [(f.rule, f.cell) for f in result.findings if f.sheet == cell.sheet]
    assert ("formula.overwritten", cell.ref) in rules and ("narrative.figure", cell.ref) in rules
    over = next(f for f in result.findings if f.rule == "formula.overwritten" and f.cell == cell.ref)
    assert "参考文字被改写" in over.message


def test_a_return_made_before_the_report_sheet_existed(tmp_path: Path) -> None:
    """Form version 1 had no 评价报告: such a return is complete, its narrative simply not checked."""
    old = tmp_path / "v1.xlsx"
    shutil.copy(SEED, old)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        wb = openpyxl.load_workbook(old)
    del wb["评价报告"]
    wb.save(old)
    result = check_file(old)
    rules = [f.rule for f in result.findings]
    assert "layout.sheet_missing" not in rules and "narrative.missing" in rules
    assert (result.reported_total, result.recomputed_total) == (98, 97)
    assert [f.rule for f in result.findings if f.severity == "错误"] == ["score.P3"]


# ------------------------------------------------------------------ the drafts check clean


@pytest.mark.parametrize("seed", range(24))
def test_the_drafts_the_template_suggests_check_clean(tmp_path: Path, seed: int) -> None:
    """Whatever the tables say, copying every draft into the report gives no narrative finding."""
    rng = random.Random(7100 + seed)
    values = random_inputs(PLAN, rng, PROFILES[seed % len(PROFILES)])
    values["unit.year"] = Decimal(2020)
    calc = compute(PLAN, {k: coerce(PLAN, k, v) for k, v in values.items() if v is not None and v != ""})
    spec = EDITION.form.narrative
    assert spec is not None
    for part in spec.parts:
        draft = calc.values.get(draft_id(part)) if part.draft else None
        for fid in text_ids(part):
            values[fid] = None
        values[text_ids(part)[0]] = draft
    written = sum(1 for part in spec.parts if values[text_ids(part)[0]])
    assert written >= 5
    path = tmp_path / "drafts.xlsx"
    write_template(path, values=values)
    found = narrative_findings(path)
    assert found == [], [f.message for f in found]
